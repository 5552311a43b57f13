"""The CLI's main flow: pretrain -> export -> sample, augment, evaluate, run; and its errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ganaug.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def runner():
    return CliRunner()


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def test_pretrain_stores_and_reuses(runner, home):
    out = _ok(runner.invoke(main, ["pretrain", "sklearn:wine", "--epochs", "2", "--seed", "1"]))
    assert "pretrained" in out and (home / "artifacts" / "wine" / "ganaug.json").is_file()
    out = _ok(runner.invoke(main, ["pretrain", "wine", "--epochs", "2", "--seed", "1"]))
    assert "reusing" in out


def test_export_then_sample_with_onnx(runner, home, tmp_path):
    _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "2"]))
    onnx_file = tmp_path / "iris.onnx"
    _ok(runner.invoke(main, ["export", "iris", "-o", str(onnx_file)]))
    assert onnx_file.is_file()
    out_csv = tmp_path / "rows.csv"
    _ok(runner.invoke(main, ["sample", str(onnx_file), "-n", "25", "--class", "virginica", "-o", str(out_csv)]))
    rows = pd.read_csv(out_csv)
    assert len(rows) == 25
    out = _ok(runner.invoke(main, ["sample", str(onnx_file), "-n", "6", "--seed", "3"]))
    lines = out.strip().splitlines()
    assert len(lines) == 7 and lines[0].endswith("target")  # the class column keeps its name
    again = _ok(runner.invoke(main, ["sample", str(onnx_file), "-n", "6", "--seed", "3"]))
    assert again == out  # same seed, same rows
    # the thread count changes the speed, never the rows
    many = _ok(runner.invoke(main, ["sample", str(onnx_file), "-n", "5000", "--seed", "3", "--threads", "3"]))
    one = _ok(runner.invoke(main, ["sample", str(onnx_file), "-n", "5000", "--seed", "3", "--threads", "1"]))
    assert many == one and many.startswith(out[: out.index("\n")])
    result = runner.invoke(main, ["sample", str(onnx_file), "-n", "5", "--threads", "0"])
    assert result.exit_code != 0 and "--threads" in result.output


def test_augment_a_csv_file(runner, home, tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60), "color": rng.choice(["red", "blue"], 60),
                       "label": np.r_[np.zeros(45, int), np.ones(15, int)]})
    src = tmp_path / "data.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "augmented.csv"
    _ok(runner.invoke(main, ["augment", f"csv:{src}", "--target", "label", "--epochs", "2", "-o", str(out)]))
    res = pd.read_csv(out)
    assert list(res.columns) == ["x", "color", "label"]
    assert res["label"].value_counts().to_dict() == {0: 45, 1: 45}
    assert set(res["color"]) <= {"red", "blue"}
    # --task regression: the 0/1 column is now a numeric target, grown by augment_ratio 1.0
    out2 = tmp_path / "regression.csv"
    _ok(runner.invoke(main, ["augment", f"csv:{src}", "--target", "label", "--task", "regression",
                             "--epochs", "2", "-o", str(out2)]))
    res = pd.read_csv(out2)
    assert len(res) == 120 and set(res["label"]) <= {0, 1}


def test_evaluate_json(runner, home):
    out = _ok(runner.invoke(main, ["evaluate", "iris", "--epochs", "2", "--model", "logreg", "--splits", "2",
                                   "--json"]))
    data = json.loads(out)
    methods = {row["method"] for row in data["scores"]}
    assert methods == {"none", "ganaug", "smote", "random"}
    assert all(0 <= row["balanced_accuracy"] <= 1 for row in data["scores"])
    assert {row["split"] for row in data["scores"]} == {0, 1} and data["n_splits"] == 2
    ba = [r for r in data["intervals"] if r["model"] == "mean" and r["metric"] == "balanced_accuracy"]
    assert {r["method"] for r in ba} == {"ganaug", "smote", "random"}
    assert all(r["low"] <= r["lift"] <= r["high"] for r in ba)
    assert "95% CI" in data["verdict"] and "2 splits" in data["verdict"]
    # which stage of the default preset produced each split's rows, and why
    stages = [(row["stage"], row["stage_reason"]) for row in data["scores"] if row["method"] == "ganaug"]
    assert stages and all(st in {"copula", "adversarial"} and why for st, why in stages)


def test_evaluate_prints_intervals_and_a_verdict(runner, home):
    out = _ok(runner.invoke(main, ["evaluate", "iris", "--epochs", "2", "--model", "logreg", "--splits", "3",
                                   "--imbalance", "0.2"]))
    assert "mean test scores over 3 splits" in out and "95% interval over 3 splits" in out
    verdict = [line for line in out.splitlines() if line.startswith("Verdict: ")]
    assert len(verdict) == 1 and "95% CI" in verdict[0]
    stage = [line for line in out.splitlines() if line.startswith("ganaug's rows came from the ")]
    assert len(stage) == 1 and "of 3 splits" in stage[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["pretrain", "sklearn:nope"], "nope"),
        (["augment", "csv:/does/not/exist.csv", "--target", "y", "-o", "x.csv"], "exist"),
        (["export", "never-pretrained-dataset-xyz"], "never-pretrained-dataset-xyz"),
        (["sample", "missing.onnx", "-n", "5"], "missing.onnx"),
    ],
)
def test_errors_are_one_line_without_traceback(runner, home, args, message):
    result = runner.invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_option_values_exit_non_zero(runner, home):
    result = runner.invoke(main, ["sample", "x.onnx", "-n", "0"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(main, ["pretrain", "iris", "--preset", "turbo"])
    assert result.exit_code == 2


def test_bad_target_column(runner, home, tmp_path):
    src = tmp_path / "d.csv"
    pd.DataFrame({"a": [1, 2, 3], "b": [0, 1, 0]}).to_csv(src, index=False)
    result = runner.invoke(main, ["augment", f"csv:{src}", "--target", "zzz", "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 1 and "zzz" in result.output and "Traceback" not in result.output


def test_installed_executable_runs_the_main_job(tmp_path):
    env = {**os.environ, "GANAUG_HOME": str(tmp_path / "home")}
    exe = os.path.join(os.path.dirname(sys.executable), "ganaug")
    proc = subprocess.run([exe, "run", "iris", "--epochs", "2", "-n", "50", "--splits", "2"], env=env,
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "[4/4]" in proc.stdout and "balanced_accuracy" in proc.stdout
    # the evaluation step says what it does, and ends with an interval and a verdict
    assert "fresh GAN" in proc.stdout and "keeps 10% of its rows" in proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("Verdict: ") and "95% CI" in last and "2 splits" in last
    assert (tmp_path / "home" / "onnx" / "iris.onnx").is_file()
    assert len(pd.read_csv(tmp_path / "home" / "samples" / "iris.csv")) == 50


def test_regression_sample_to_stdout_keeps_the_target(runner, home, tmp_path):
    _ok(runner.invoke(main, ["pretrain", "diabetes", "--epochs", "2"]))
    onnx_file = tmp_path / "diabetes.onnx"
    _ok(runner.invoke(main, ["export", "diabetes", "-o", str(onnx_file)]))
    out = _ok(runner.invoke(main, ["sample", str(onnx_file), "-n", "5"]))
    header = out.splitlines()[0].split(",")
    assert header[-1] == "target" and len(header) == 11  # 10 features + the target


def test_evaluate_writes_plots(runner, home, tmp_path):
    out = tmp_path / "eval.png"
    report = tmp_path / "report.html"
    result = runner.invoke(main, ["evaluate", "digits", "--epochs", "1", "--model", "logreg", "--splits", "2",
                                  "--imbalance", "0.3", "--plot", str(out), "--report", str(report)])
    _ok(result)
    for name in ("eval.png", "eval-correlations.png", "eval-loss.png", "eval-images.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    page = report.read_text(encoding="utf-8")
    assert "Verdict:" in page and "ganaug evaluation: digits" in page and page.count("<svg") > 10
    assert f"wrote {report}" in result.output


def test_evaluate_report_refuses_regression_and_missing_folders(runner, home, tmp_path):
    result = runner.invoke(main, ["evaluate", "diabetes", "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "classification" in result.output
    result = runner.invoke(main, ["evaluate", "iris", "--report", str(tmp_path / "no" / "r.html")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_evaluate_plots_a_regression_table(runner, home, tmp_path):
    out = tmp_path / "reg.png"
    result = runner.invoke(main, ["evaluate", "diabetes", "--epochs", "1", "--model", "ridge", "--splits", "2",
                                  "--plot", str(out)])
    output = _ok(result)
    assert "R²" in output and (tmp_path / "reg-correlations.png").read_bytes()[:4] == b"\x89PNG"
