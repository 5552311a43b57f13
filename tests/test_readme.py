"""The README works as written: its Python examples run, CI runs its two set-up commands, and
the documentation site builds strictly (no broken link or anchor)."""

import importlib.util
import os
import re
import subprocess
import sys
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
    assert "mkdocs build --strict" in ci


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


def test_readme_is_short_and_has_the_sections_users_look_for():
    assert len(README.splitlines()) <= 300
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    for wanted in ("Set up", "Quickstart", "Command line", "Architecture", "Where ganaug still loses"):
        assert any(h.startswith(wanted) for h in headings), wanted
    assert "BEGIN GENERATED" not in README  # benchmark output lives in docs/, not here


def test_user_facing_text_names_no_internal_issue_numbers():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\b[Ii]ssues? #?\d+", text), page.name


def test_benchmark_tables_are_spliced_into_docs_never_into_the_readme(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("update_docs", ROOT / "benchmarks" / "update_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = "intro\n<!-- BEGIN GENERATED: speed -->\nold\n<!-- END GENERATED: speed -->\nend\n"
    spliced = module.splice(page, "speed", "# Speed\n\n## Machine\n\n```\n# not a heading\n```\n")
    assert "### Speed" in spliced and "#### Machine" in spliced and "# not a heading" in spliced
    assert "old" not in spliced and spliced.endswith("end\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "p.md").write_text(page)
    (tmp_path / "README.md").write_text(page)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "speed.md").write_text("# Speed\nnew\n")
    monkeypatch.setattr(module, "DOCS", tmp_path / "docs")
    module.main([str(tmp_path / "results")])
    assert "new" in (tmp_path / "docs" / "p.md").read_text()
    assert (tmp_path / "README.md").read_text() == page


def test_docs_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs not installed (the dev extras bring it)")
    pytest.importorskip("material", reason="mkdocs-material not installed (the dev extras bring it)")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "evaluation" / "index.html").is_file()
