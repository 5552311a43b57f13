"""What a new user runs into first: the store honours its options, files others can read,
flags and output paths checked before training, tiny classes in ``evaluate --imbalance``."""

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ganaug.cli import main
from ganaug.cli.evaluate import _imbalance
from ganaug.learn.sampler import GANAugmenter


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def _stored_preset(home):
    meta = json.loads((home / "artifacts" / "iris" / "ganaug.json").read_text())
    return meta["extra"]["preset"], meta["extra"]["augmenter_params"]["random_state"]


def test_store_retrains_when_preset_epochs_or_seed_differ(home):
    runner = CliRunner()
    _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "1"]))
    assert _stored_preset(home) == ("default", 0)
    assert "reusing" in _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "1"]))
    out = _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "1", "--preset", "classic"]))
    assert "retraining" in out and "preset=classic" in out
    assert _stored_preset(home) == ("classic", 0)
    out = _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "1", "--preset", "classic", "--seed", "4"]))
    assert "retraining" in out and _stored_preset(home) == ("classic", 4)
    assert "retraining" in _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "2", "--preset", "classic", "--seed", "4"]))
    assert "reusing" in _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "2", "--preset", "classic", "--seed", "4"]))


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_follow_the_umask(tmp_path, home, umask, mode):
    old = os.umask(umask)
    try:
        runner = CliRunner()
        artifact = tmp_path / "art"
        _ok(runner.invoke(main, ["pretrain", "iris", "--epochs", "1", "-o", str(artifact)]))
        onnx_file = tmp_path / "m.onnx"
        _ok(runner.invoke(main, ["export", str(artifact), "-o", str(onnx_file)]))
        rows = tmp_path / "rows.csv"
        _ok(runner.invoke(main, ["sample", str(onnx_file), "-n", "10", "-o", str(rows)]))
        aug_out = tmp_path / "aug.csv"
        X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7})
        X.assign(t=np.r_[np.zeros(30), np.ones(10)].astype(int)).to_csv(tmp_path / "d.csv", index=False)
        _ok(runner.invoke(main, ["augment", f"csv:{tmp_path / 'd.csv'}", "--target", "t", "--epochs", "1", "-o", str(aug_out)]))
    finally:
        os.umask(old)
    files = [*artifact.iterdir(), onnx_file, rows, aug_out]
    # ganaug.json, the weights and source.json (what the artifact was trained on)
    assert sorted(p.name for p in artifact.iterdir() if not p.name.startswith("weights-")) == [
        "ganaug.json", "source.json"]
    assert len(files) == 6
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def _no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("trained before checking the output")

    monkeypatch.setattr(GANAugmenter, "fit", refuse)
    monkeypatch.setattr(GANAugmenter, "fit_resample", refuse)


def test_output_paths_are_checked_before_training(tmp_path, home, monkeypatch):
    _no_training(monkeypatch)
    runner = CliRunner()
    existing = tmp_path / "file.txt"
    existing.write_text("keep me")
    result = runner.invoke(main, ["pretrain", "iris", "-o", str(existing)])
    assert result.exit_code == 2 and "not a directory" in result.output
    assert existing.read_text() == "keep me"
    result = runner.invoke(main, ["augment", "iris", "-o", str(tmp_path / "out.txt")])
    assert result.exit_code == 2 and ".csv or .parquet" in result.output
    result = runner.invoke(main, ["augment", "iris", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "directory" in result.output


def test_imbalance_keeps_classes_smaller_than_six_rows():
    X = pd.DataFrame({"a": np.arange(30.0)})
    y = pd.Series(["a"] * 20 + ["b"] * 7 + ["c"] * 3, name="t")
    X_cut, y_cut = _imbalance(X, y, 0.1, seed=0)
    assert y_cut.value_counts().to_dict() == {"a": 20, "b": 6, "c": 3}
    assert isinstance(X_cut, pd.DataFrame) and len(X_cut) == 29
