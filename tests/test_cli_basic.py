"""The ``ganaug`` command line: listing commands and one-line error reporting."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner

import ganaug
from ganaug.cli import main
from ganaug.registry.manager import load_plugins, pm


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0]


def test_help_and_version(runner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("datasets", "models", "plugins"):
        assert command in result.output
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and ganaug.__version__ in result.output


def test_datasets_list(runner) -> None:
    result = runner.invoke(main, ["datasets"])
    assert result.exit_code == 0
    assert "breast_cancer" in result.output and "csv:" in result.output
    data = json.loads(runner.invoke(main, ["datasets", "--json"]).output)
    names = [d["name"] for d in data["datasets"]]
    assert names[:5] == ["breast_cancer", "wine", "iris", "digits", "diabetes"]
    schemes = {s["name"]: s for s in data["schemes"]}
    assert schemes["npz"]["extensions"] == [".npz"]
    assert schemes["csv"]["plugin"] == "ganaug.default_plugins.file_datasets"


def test_datasets_describe(runner, tmp_path) -> None:
    result = runner.invoke(main, ["datasets", "sklearn:iris"])
    assert result.exit_code == 0 and "class_counts: setosa=50, versicolor=50, virginica=50" in result.output
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", None], "y": [0, 1, 0]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    result = runner.invoke(main, ["datasets", str(tmp_path / "t.csv"), "--target", "y", "--json"])
    info = json.loads(result.output)
    assert info["task"] == "classification" and info["n_samples"] == 3
    assert info["n_missing"] == 1 and info["class_counts"] == {"0": 2, "1": 1}
    info = json.loads(runner.invoke(main, ["datasets", "diabetes", "--json"]).output)
    assert info["task"] == "regression" and "target_stats" in info


def test_models_and_plugins(runner) -> None:
    data = json.loads(runner.invoke(main, ["models", "--json", "--task", "regression"]).output)
    assert [m["name"] for m in data][:4] == ["ridge", "rf", "hgb", "mlp"]
    assert {m["task"] for m in data} == {"regression"}
    result = runner.invoke(main, ["models", "rf"])
    assert result.exit_code == 0 and result.output.count("rf ") == 2
    plugins = json.loads(runner.invoke(main, ["plugins", "--json"]).output)
    first = plugins[0]
    assert first["name"] == "ganaug.default_plugins.sklearn_datasets" and first["builtin"]
    assert "register_datasets" in first["hooks"]
    assert "sklearn_models" in runner.invoke(main, ["plugins"]).output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["datasets", "nope"], ["unknown dataset 'nope'", "breast_cancer"]),
        (["datasets", "csv:/no/such/file.csv", "--target", "y"], ["/no/such/file.csv"]),
        (["datasets", "iris", "--target", "species"], ["'species'"]),
        (["models", "xgb"], ["unknown model 'xgb'", "logreg"]),
        (["models", "--task", "ranking"], ["'ranking'"]),
        (["datasets", "--target", "y"], ["need a DATA argument"]),
    ],
)
def test_errors_are_one_line(runner, args, fragments) -> None:
    _assert_one_line_error(runner.invoke(main, args), *fragments)


def test_bad_target_column(runner, tmp_path) -> None:
    pd.DataFrame({"a": [1, 2], "b": [0, 1]}).to_csv(tmp_path / "t.csv", index=False)
    result = runner.invoke(main, ["datasets", f"csv:{tmp_path / 't.csv'}", "--target", "c"])
    _assert_one_line_error(result, "'c' not found", "available columns: a, b")


def test_error_handler_covers_plugin_commands(runner, monkeypatch) -> None:
    class Plugin:
        @ganaug.hookimpl
        def register_commands(self, cli):
            @cli.command()
            def explode():
                raise ValueError("first line\nsecond line")

    load_plugins()
    pm.register(Plugin(), name="explode-cmd")
    try:
        _assert_one_line_error(runner.invoke(main, ["explode"]), "first line second line")
        monkeypatch.setenv("GANAUG_DEBUG", "1")
        result = runner.invoke(main, ["explode"])
        assert isinstance(result.exception, ValueError)
    finally:
        pm.unregister(name="explode-cmd")


# ------------------------------------------------------------- installed executable

EXE = shutil.which("ganaug")
needs_exe = pytest.mark.skipif(EXE is None, reason="ganaug executable not installed")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=120, env=environment, check=False
    )


@needs_exe
def test_executable_help_version_and_lists() -> None:
    result = _run("--help")
    assert result.returncode == 0 and "plugins" in result.stdout
    assert _run("--version").stdout.strip() == f"ganaug, version {ganaug.__version__}"
    models = json.loads(_run("models", "--json").stdout)
    assert {"logreg", "ridge"} <= {m["name"] for m in models}


@needs_exe
def test_executable_unknown_dataset() -> None:
    result = _run("datasets", "no_such_dataset")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: unknown dataset 'no_such_dataset'")
