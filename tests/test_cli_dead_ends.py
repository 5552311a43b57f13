"""The command line's dead ends a new user hit, one test each: file-stem model names, file-not-found
messages, CLI spellings, --strategy, numeric targets, help texts, progress without a terminal,
the Dask output path and the torchrun result line."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ganaug.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GANAUG_PROGRESS", raising=False)
    return tmp_path / "home"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def churn(tmp_path):
    """A small churn table as CSV and Parquet under tmp_path/data/."""
    rng = np.random.default_rng(0)
    n = 160
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "plan": rng.choice(["basic", "pro"], n),
        "spend": rng.normal(50, 10, n).round(2),
        "churn": rng.choice(["no", "yes"], n, p=[0.8, 0.2]),
    })
    data = tmp_path / "data"
    data.mkdir()
    frame.to_csv(data / "churn.csv", index=False)
    return data


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def _fails(result, *fragments):
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result.output


def test_a_model_pretrained_from_a_file_is_named_by_its_stem(runner, home, churn, tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    pd.read_csv(churn / "churn.csv").to_parquet(churn / "churn.parquet", index=False)
    monkeypatch.chdir(tmp_path / "data")  # a relative path with "..", as the user typed it
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    out = _ok(runner.invoke(main, ["pretrain", "parquet:../data/churn.parquet", "--target", "churn",
                                   "--epochs", "1"]))
    assert "churn: pretrained" in out
    assert [p.name for p in (home / "artifacts").iterdir()] == ["churn"]
    # export finds it by the stem, by the file and by the URI, with no --target
    for source in ("churn", "../data/churn.parquet", "parquet:../data/churn.parquet"):
        out = _ok(runner.invoke(main, ["export", source]))
        assert f"to {home / 'onnx' / 'churn.onnx'}" in out
    served = [p.name for p in (home / "onnx").iterdir() if p.suffix == ".onnx"]
    assert served == ["churn.onnx"]
    # sample takes the same names
    assert len(_ok(runner.invoke(main, ["sample", "churn", "-n", "3"])).splitlines()) == 4
    assert len(_ok(runner.invoke(main, ["sample", "../data/churn.parquet", "-n", "3"])).splitlines()) == 4
    # the served name is the stem: no "..", no separators
    from ganaug.runtime.repository import discover

    assert list(discover(home / "onnx")) == ["churn"]


def test_another_file_with_the_same_stem_is_not_mistaken_for_it(runner, home, churn, tmp_path):
    _ok(runner.invoke(main, ["pretrain", str(churn / "churn.csv"), "--target", "churn", "--epochs", "1"]))
    other = tmp_path / "other"
    other.mkdir()
    pd.read_csv(churn / "churn.csv").head(120).to_csv(other / "churn.csv", index=False)
    out = _ok(runner.invoke(main, ["pretrain", str(other / "churn.csv"), "--target", "churn",
                                   "--epochs", "1"]))
    assert "trained on" in out and "retraining" in out and "reusing" not in out
    out = _ok(runner.invoke(main, ["pretrain", str(other / "churn.csv"), "--target", "churn",
                                   "--epochs", "1"]))
    assert "reusing" in out


def test_export_to_a_triton_model_repository(runner, home, churn, tmp_path):
    _ok(runner.invoke(main, ["pretrain", str(churn / "churn.csv"), "--target", "churn", "--epochs", "1"]))
    out = _ok(runner.invoke(main, ["export", "churn", "--triton", str(tmp_path / "repo")]))
    assert "Triton" in out
    entry = tmp_path / "repo" / "churn"
    assert (entry / "config.pbtxt").is_file() and (entry / "1" / "model.onnx").is_file()
    assert 'name: "churn"' in (entry / "config.pbtxt").read_text()


@pytest.mark.parametrize("typo", ["churn.cvs", "data/churn.csv", "./nowhere/file.parquet"])
def test_a_typo_in_a_file_name_says_file_not_found(runner, home, tmp_path, typo, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in (["pretrain", typo, "--target", "churn"], ["augment", typo, "-o", "x.csv"],
                    ["datasets", typo], ["export", typo]):
        out = _fails(runner.invoke(main, command), f"file not found: {typo}")
        assert "unknown dataset" not in out


def test_an_unknown_file_type_is_named(runner, home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "churn.cvs").write_text("a,b\n1,2\n")
    _fails(runner.invoke(main, ["datasets", "churn.cvs"]), "unknown file type", "csv:churn.cvs")


def test_messages_use_the_command_line_spelling(runner, home, churn):
    out = _fails(runner.invoke(main, ["augment", str(churn / "churn.csv"), "-o", "x.csv"]),
                 "pass --target COLUMN", "age, plan, spend, churn")
    assert "target=" not in out
    from ganaug.registry.datasets import MissingTargetError, get_dataset

    with pytest.raises(MissingTargetError, match="target=COLUMN"):  # the API keeps its spelling
        get_dataset(str(churn / "churn.csv"))


@pytest.mark.parametrize("strategy", ["majority", "0", "1.5", "mnority"])
def test_invalid_strategy_lists_the_choices(runner, home, churn, strategy):
    out = _fails(runner.invoke(main, ["augment", str(churn / "churn.csv"), "--target", "churn",
                                      "--strategy", strategy, "-o", "x.csv"]),
                 "not minority", "not majority", "(0, 1]")
    assert "Mapping" not in out and "callable" not in out and len(out.splitlines()) <= 4


def test_valid_strategies_are_accepted():
    from ganaug.cli.flow import STRATEGY

    assert STRATEGY.convert("not majority", None, None) == "not majority"
    assert STRATEGY.convert("0.5", None, None) == 0.5


def test_a_numeric_target_with_many_values_asks_for_a_task(runner, home, churn, tmp_path):
    out = _fails(runner.invoke(main, ["augment", str(churn / "churn.csv"), "--target", "age",
                                      "-o", str(tmp_path / "x.csv")]),
                 "--task regression", "distinct numeric values")
    assert re.search(r"has \d+ distinct numeric values", out)
    _fails(runner.invoke(main, ["pretrain", str(churn / "churn.csv"), "--target", "age"]),
           "--task regression")
    # told explicitly, it trains
    _ok(runner.invoke(main, ["pretrain", str(churn / "churn.csv"), "--target", "age",
                             "--task", "regression", "--epochs", "1"]))


def test_looks_continuous_rule():
    from ganaug.core.tasks import looks_continuous

    assert looks_continuous(np.arange(100) % 21) is not None  # 21 integer values
    assert looks_continuous(np.arange(100) % 20) is None  # 20 classes are fine
    assert looks_continuous(np.array(["a", "b"] * 50)) is None
    assert looks_continuous(np.arange(100) > 50) is None  # booleans


@pytest.mark.parametrize("command", ["pretrain", "export", "sample", "augment", "serve", "run",
                                     "evaluate"])
def test_help_has_examples_and_described_options(runner, command):
    out = _ok(runner.invoke(main, [command, "--help"]))
    if command not in ("run", "evaluate"):  # commands another page documents
        assert "Examples:" in out
    cmd = main.get_command(None, command)
    for param in cmd.params:
        if isinstance(param, __import__("click").Option) and set(param.opts) & {
                "--preset", "--seed", "--epochs", "-n"}:
            assert param.help and len(param.help.split()) >= 3, (command, param.opts)
    assert "--help" in _ok(runner.invoke(main, ["--help"]))


def test_serve_help_lists_the_endpoints(runner):
    out = _ok(runner.invoke(main, ["serve", "--help"]))
    for endpoint in ("/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs",
                     "/v1/models/NAME/sample", "/v1/reload", "/v2/", "--cors"):
        assert endpoint in out, endpoint


def test_progress_as_log_lines_when_not_a_terminal(runner, home, tmp_path, monkeypatch):
    from ganaug.gan.export import export_onnx
    from ganaug.gan.presets import PRESETS
    from ganaug.gan.synthesizer import ConditionalGAN

    tiny = PRESETS["default"].with_overrides(generator_hidden=(16,), discriminator_hidden=(16,),
                                             batch_size=32, epochs=2, noise_dim=8)
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=80), "b": rng.choice(["x", "y"], 80)})
    model = ConditionalGAN(tiny, random_state=0).fit(X, rng.choice([0, 1], 80))
    onnx_file = export_onnx(model, tmp_path / "m.onnx", exporter="torchscript")
    monkeypatch.setenv("GANAUG_PROGRESS_INTERVAL", "0")  # a line per batch
    out = tmp_path / "rows.csv"
    result = runner.invoke(main, ["sample", str(onnx_file), "-n", "200000", "-o", str(out)])
    lines = _ok(result).splitlines()
    progress = [line for line in lines if line.startswith(f"sampling to {out}")]
    assert len(progress) >= 2 and progress[-1].startswith(f"sampling to {out}: 200,000/200,000 rows (100%)")
    assert len(pd.read_csv(out)) == 200000
    # to stdout: the same rows, progress on stderr only
    result = runner.invoke(main, ["sample", str(onnx_file), "-n", "70000"])
    assert result.stdout.count("\n") == 70001 and "sampling to stdout: 70,000" in result.stderr
    assert result.stdout.startswith("a,b,label\n")
    # --quiet: nothing
    quiet = _ok(runner.invoke(main, ["--quiet", "sample", str(onnx_file), "-n", "200000", "-o", str(out)]))
    assert "sampling to" not in quiet
    import os

    assert "GANAUG_PROGRESS" not in os.environ  # restored after the command


def test_log_progress_lines():
    import io

    from ganaug.runtime.progress import LogProgress

    buffer = io.StringIO()
    with LogProgress(unit="epochs", interval=0, file=buffer) as progress:
        task = progress.add_task("training", total=4)
        for _ in range(4):
            progress.update(task, advance=1)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 4 and lines[0].startswith("training: 1/4 epochs (25%)")
    assert "left" in lines[0] and lines[-1].startswith("training: 4/4 epochs (100%)")
    short = io.StringIO()  # work shorter than one interval ends silently
    with LogProgress(interval=3600, file=short) as progress:
        task = progress.add_task("sampling", total=10)
        progress.update(task, advance=10)
    assert short.getvalue() == ""
    ended = io.StringIO()  # stopped early after a line was printed: the last state on exit
    with LogProgress(interval=0, file=ended) as progress:
        task = progress.add_task("sampling", total=10)
        progress.update(task, advance=3)
        progress.interval = 3600
        progress.update(task, advance=2)
    assert ended.getvalue().splitlines()[-1].startswith("sampling: 5/10 (50%)")


def test_dask_output_path_has_one_separator():
    from ganaug.cli.scale import dataset_dir

    assert dataset_dir("dask_out/").endswith("dask_out/") and "//" not in dataset_dir("dask_out/")
    assert dataset_dir("dask_out") == "dask_out/"


def test_torchrun_ranks_leave_the_result_line_to_the_launcher(monkeypatch):
    from ganaug.cli import torchrun
    from ganaug.scaleout import ranks

    calls = {}

    def fake_run(command, check, env):
        calls["env"] = env
        return type("Done", (), {"returncode": 0})()

    monkeypatch.setattr(ranks.subprocess, "run", fake_run)
    ranks.launch(2, "data.parquet", "out", target="y")
    assert calls["env"][torchrun.LAUNCHED_ENV] == "1"
    # a rank started that way prints nothing at the end
    monkeypatch.setattr(torchrun, "pretrain", lambda *a, **k: "out")
    monkeypatch.setenv(torchrun.LAUNCHED_ENV, "1")
    result = CliRunner().invoke(torchrun.main, ["data.parquet", "--target", "y"])
    assert result.exit_code == 0 and result.output == ""
    monkeypatch.delenv(torchrun.LAUNCHED_ENV)
    result = CliRunner().invoke(torchrun.main, ["data.parquet", "--target", "y"])
    assert "pretrained on" in result.output


def _doc_example(marker: str):
    """The python block after ``<!-- plugin-example: marker -->`` in docs/plugins.md, as a module."""
    import types
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
    block = re.search(rf"<!-- plugin-example: {marker} -->\n```python\n(.*?)```", text, re.DOTALL)
    assert block, marker
    module = types.ModuleType(f"doc_example_{marker}")
    exec(compile(block.group(1), f"docs/plugins.md:{marker}", "exec"), module.__dict__)  # noqa: S102 (the docs' own example)
    return module


def test_plugin_examples_of_the_docs_work(runner):
    from ganaug.registry.datasets import get_dataset
    from ganaug.registry.manager import load_plugins, pm

    load_plugins()
    names = []
    try:
        for marker in ("datasets", "commands"):
            names.append(f"doc-{marker}")
            pm.register(_doc_example(marker), name=names[-1])
        listing = _ok(runner.invoke(main, ["datasets"]))
        assert "toy_churn" in listing and "mem:" in listing
        X, y = get_dataset("mem:toy").load()
        assert list(X.columns) == ["tenure", "plan"] and len(y) == 300
        out = _ok(runner.invoke(main, ["class-counts", "toy_churn"]))
        counts = dict(line.split("\t") for line in out.strip().splitlines())
        assert set(counts) == {"no", "yes"} and sum(map(int, counts.values())) == 300
        assert "Example:" in _ok(runner.invoke(main, ["class-counts", "--help"]))
    finally:
        for name in names:
            if pm.has_plugin(name):
                pm.unregister(name=name)
