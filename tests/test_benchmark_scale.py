"""benchmarks/scale.py: a reduced end-to-end run of the Dask part (so the script cannot rot)."""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
scale = importlib.import_module("scale")


def test_reduced_dask_run(tmp_path):
    report = scale.main(["--reduced", "--rows", "20000", "--out", str(tmp_path)])
    engines = [r["engine"] for r in report["dask"]]
    assert engines == ["single process", "dask, 2 workers"]
    for row in report["dask"]:
        assert row["rows"] == 20_000 and row["rows_per_s"] > 0 and row["bytes"] > 0
    assert len(report["dask"][1]["peak_mib"]) == 2 and report["dask"][1]["partitions"] == 4
    saved = json.loads((tmp_path / "scale.json").read_text())
    assert saved["config"]["parts"] == "dask"
    assert "| dask, 2 workers | 20,000 |" in (tmp_path / "scale.md").read_text()


def test_unknown_part_is_refused(capsys):
    with pytest.raises(SystemExit):
        scale.parse_args(["--parts", "dask,nope"])
    assert "unknown parts ['nope']" in capsys.readouterr().err


def test_reduced_training_throughput_run(tmp_path):
    scale_training = importlib.import_module("scale_training")
    scale_training.main(["--parts", "throughput", "--throughput-rows", "3000", "--batches", "64", "256",
                         "--name", "tp", "--out", str(tmp_path), "--work", str(tmp_path / "work")])
    rows = json.loads((tmp_path / "tp.json").read_text())["throughput"]
    assert [(r["device"], r["batch"]) for r in rows] == [("cpu", 64), ("cpu", 256)]
    for r in rows:
        # the per-step cost is a difference of two timed runs: its sign is a timing (a loaded
        # machine can finish the longer run first), so only the bookkeeping is asserted here
        assert r["steps"][1] > r["steps"][0] and math.isfinite(r["s_per_step"])
        assert r["rows_per_s"] == pytest.approx(r["batch"] / r["s_per_step"])
    assert "| cpu | 256 |" in (tmp_path / "tp.md").read_text()
