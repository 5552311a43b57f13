"""The import contracts of ``pyproject.toml`` ([tool.importlinter]) hold.

Layers import only downward (cli > evaluation, default_plugins > registry > learn > gan > runtime >
core), the runtime never imports torch or scikit-learn, the core needs numpy and pandas only, and
no package has an import cycle between its modules.  A broken contract fails this test with
import-linter's report of the offending import chains.
"""

from __future__ import annotations

import re
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


def test_no_two_modules_share_a_file_name() -> None:
    """A module's file name says its one idea, so it names one module of the package."""
    seen: dict[str, list[str]] = {}
    for path in (ROOT / "ganaug").rglob("*.py"):
        if path.name != "__init__.py":
            seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def test_readme_architecture_map_lists_every_module() -> None:
    """The README's map has a line for every package and module of ganaug/, and no other."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Architecture", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    listed, package = set(), ""
    for line in block.splitlines()[1:]:
        names = re.split(r"\s{2,}", line.strip())[0].split()
        depth = (len(line) - len(line.lstrip())) // 2
        if depth == 1:
            package = names[0] if len(names) == 1 and names[0].endswith("/") else ""
            listed.update(names)
        else:
            listed.update(package + n for n in names)
    actual = set()
    for path in (ROOT / "ganaug").rglob("*.py"):
        rel = path.relative_to(ROOT / "ganaug").as_posix()
        actual.add(rel.removesuffix("__init__.py"))
    actual.discard("")
    assert sorted(actual - listed) == [] and sorted(listed - actual) == []
