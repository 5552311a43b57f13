"""The import contracts of ``pyproject.toml`` ([tool.importlinter]) hold.

Layers import only downward (cli > evaluation, default_plugins > registry > learn > gan > runtime >
core), the runtime never imports torch or scikit-learn, the core needs numpy and pandas only, and
no package has an import cycle between its modules.  A broken contract fails this test with
import-linter's report of the offending import chains.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from importlinter.cli import lint_imports

    import ganaug

    if Path(ganaug.__file__).resolve().parents[1] != ROOT:
        pytest.skip(f"ganaug is imported from {ganaug.__file__}, not from this checkout")
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "0 broken" in report
