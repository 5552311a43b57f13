"""The README works as written: its Python examples run, and CI runs its two set-up commands."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _ci_module():
    spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_runs_the_readme_setup_commands():
    commands = _ci_module().setup_commands(README)
    assert commands["main"].startswith("pip install . ") and commands["main"].endswith("ganaug run")
    assert "[dev]" in commands["test"] and commands["test"].endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    # .ci/run reads both commands from the README instead of repeating them
    assert "readme_commands.py main" in ci and "readme_commands.py test" in ci
    assert "python -m venv" in ci and "GANAUG_HOME" in ci
    assert "pip install" not in ci.replace("readme_commands", "")  # no install of its own


def test_setup_block_must_hold_two_commands():
    with pytest.raises(SystemExit, match="2"):
        _ci_module().setup_commands("## Set up\n```bash\npip install .\n```\n")


def test_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    namespace: dict = {}
    for block in blocks:  # in order: later blocks use the files earlier ones write
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 (the README is ours)
    assert set(namespace["y_new"]) == {"malignant"} and len(namespace["X_new"]) == 500
    assert set(namespace["y"]) == {"malignant"} and len(namespace["X"]) == 10_000
    assert (tmp_path / "model.onnx").is_file() and (tmp_path / "rows.parquet").is_file()
