"""benchmarks/sampling.py and benchmarks/speed.py: reduced end-to-end runs (so the scripts cannot rot)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
sampling = importlib.import_module("sampling")
speed = importlib.import_module("speed")


@pytest.fixture
def keep_torch_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_data_generators():
    X, y = sampling.make_table(200, 30)
    assert X.shape == (200, 30) and len(y) == 200
    numeric = X.dtypes.map(pd.api.types.is_numeric_dtype)
    assert (~numeric).sum() == 10 and X.isna().any().any()  # object or str dtype (pandas >= 3)
    Xn, _ = sampling.make_table(50, 30, n_categorical=0)
    assert Xn.dtypes.map(pd.api.types.is_numeric_dtype).all()
    images, labels = sampling.make_images(40)
    assert images.shape == (40, 64) and len(labels) == 40
    with sampling.PeakRSS() as peak:
        block = bytearray(64 * 2**20)
    del block
    assert peak.mb is None or peak.mb >= 0


def test_sampling_reduced(tmp_path, keep_torch_threads):
    report = sampling.main(["--reduced", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "sampling.json").read_text())
    md = (tmp_path / "sampling.md").read_text()
    assert data["benchmark"] == "sampling" and data["machine"]["date"]
    methods = {r["method"] for r in data["results"]}
    assert {"onnx-graph", "onnx", "onnx-stream", "torch"} <= methods
    assert {r["scenario"] for r in data["results"]} == {"mixed30", "numeric30", "images64"}
    assert all(r["rows_per_s"] > 0 and r["n"] in (1000, 5000) for r in data["results"])
    assert "numeric30_rows_per_s" in data["checks"] and data["checks"]["stream_memory"]
    assert "date:" in md and "| scenario |" in md and "## Targets" in md
    assert report["config"]["reduced"] is True


def test_speed_reduced(tmp_path, keep_torch_threads):
    speed.main(["--reduced", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "speed.json").read_text())
    md = (tmp_path / "speed.md").read_text()
    assert [r["rows"] for r in data["fit_rows"]] == [500, 2000]
    assert [r["columns"] for r in data["fit_columns"]] == [10, 30]
    for r in data["fit_rows"] + data["fit_columns"]:
        assert r["fit_s"] > 0 and r["steps"] >= 8 and r["s_per_step"] > 0
    assert {r["method"] for r in data["sampling"]["results"]} == {"onnx", "torch"}
    assert "date:" in md and "Fit cost vs rows" in md and "Sampling" in md
    from ganaug.gan.presets import PRESETS

    config = PRESETS["default"].with_overrides(batch_size=256, pac=4)
    assert speed.steps_run(config, 10**6, 1) == 3907  # ceil(1e6 / 256) steps per epoch
    assert speed.steps_run(config, 1000, 3) == 12


def test_fit_benchmark_reduced(tmp_path):
    fit = importlib.import_module("fit")
    report = fit.main(["--reduced", "--out", str(tmp_path)])
    assert {(r["preset"], r["dataset"]) for r in report["results"]} == {
        (p, d) for p in ("classic", "default") for d in ("breast_cancer", "digits")
    }
    assert all(r["fit_s"] > 0 and r["train_rows_per_s"] > 0 for r in report["results"])
    assert "| preset |" in (tmp_path / "fit.md").read_text()
