"""Tests for ganaug.evaluation: every metric on cases with a known answer."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from ganaug import evaluation as ev

LOGREG = {"logreg": lambda: LogisticRegression(max_iter=500)}


def _gauss(n: int, seed: int, shift: float = 0.0, d: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def _mixed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "count": rng.integers(0, 5, n),
            "color": rng.choice(np.array(["red", "blue", "green"], dtype=object), n),
            "seg": pd.Categorical(rng.choice(["A", "B"], n), categories=["A", "B"]),
            "flag": rng.random(n) > 0.5,
            "text": pd.Series(rng.choice(["p", "q"], n), dtype="string"),
        }
    )
    df.loc[::17, "num"] = np.nan
    df.loc[::19, "color"] = None
    return df


# --- detection AUC ------------------------------------------------------------------------------


def test_detection_auc_same_distribution_is_near_half():
    auc = ev.detection_auc(_gauss(250, 0), _gauss(250, 1), cv=3)
    assert abs(auc - 0.5) < 0.1


def test_detection_auc_copied_rows_is_half():
    real = _gauss(150, 0)
    # copies share a fold with their original, so memorized rows cannot be told apart
    assert ev.detection_auc(real, real.copy(), cv=3) == pytest.approx(0.5, abs=0.05)


def test_detection_auc_shifted_is_near_one():
    assert ev.detection_auc(_gauss(150, 0), _gauss(150, 1, shift=4.0), cv=3) > 0.97


def test_detection_auc_mixed_categorical_shift():
    real = _mixed(150, 0)
    fake = _mixed(150, 1)
    fake["color"] = "purple"  # a category real data never has
    assert ev.detection_auc(real, fake, cv=3) > 0.97


def test_detection_auc_balances_sizes_and_is_deterministic():
    real, fake = _gauss(300, 0), _gauss(60, 1, shift=3.0)
    a = ev.detection_auc(real, fake, cv=3, random_state=7)
    assert a == ev.detection_auc(real, fake, cv=3, random_state=7)
    assert a > 0.9


def test_detection_auc_matches_per_class():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=200)})
    y_real = np.r_[np.zeros(150, int), np.ones(50, int)]
    real.loc[y_real == 1, "x"] += 3
    # synthetic rows: only class 1, same class-conditional distribution
    fake = pd.DataFrame({"x": rng.normal(size=60) + 3})
    y_fake = np.ones(60, int)
    auc = ev.detection_auc(real, fake, y_real=y_real, y_synthetic=y_fake, cv=3)
    assert abs(auc - 0.5) < 0.15
    # without matching, the class mix alone makes the tables separable
    assert ev.detection_auc(real, fake, cv=3) > 0.7


def test_detection_auc_refuses_tables_too_small_for_its_default_classifier():
    from sklearn.linear_model import LogisticRegression

    real, fake = _gauss(30, 0), _gauss(30, 1, shift=4.0)
    # gradient boosting with 20-row leaves cannot split 48 training rows: it would say 0.5
    with pytest.raises(ValueError, match="too few rows for detection_auc's default classifier"):
        ev.detection_auc(real, fake, cv=5)
    assert ev.detection_auc(real, fake, cv=5, classifier=LogisticRegression()) > 0.95


def test_detection_auc_reorders_dataframe_columns():
    real = _mixed(60, 0)
    assert ev.detection_auc(real, real[real.columns[::-1]], cv=3) == pytest.approx(0.5, abs=0.05)


def test_detection_auc_errors():
    with pytest.raises(ValueError, match="columns do not match"):
        ev.detection_auc(pd.DataFrame({"a": [1.0] * 20}), pd.DataFrame({"b": [1.0] * 20}))
    with pytest.raises(ValueError, match="columns do not match"):
        ev.detection_auc(_gauss(20, 0, d=3), _gauss(20, 0, d=4))
    with pytest.raises(ValueError, match="too few rows"):
        ev.detection_auc(_gauss(20, 0), _gauss(3, 1), cv=5)
    with pytest.raises(ValueError, match="cv"):
        ev.detection_auc(_gauss(20, 0), _gauss(20, 1), cv=1)
    with pytest.raises(ValueError, match="both"):
        ev.detection_auc(_gauss(20, 0), _gauss(20, 1), y_real=np.zeros(20))


# --- column fidelity ----------------------------------------------------------------------------


def test_column_fidelity_identical_is_zero():
    df = _mixed(80, 0)
    fid = ev.column_fidelity(df, df.copy())
    assert fid["mean_ks"] == 0.0 and fid["mean_tvd"] == 0.0
    assert fid["correlation_difference"] == pytest.approx(0.0)
    kinds = {c: v["kind"] for c, v in fid["columns"].items()}
    assert kinds == {
        "num": "numeric",
        "count": "numeric",
        "color": "categorical",
        "seg": "categorical",
        "flag": "categorical",
        "text": "categorical",
    }


def test_column_fidelity_known_values():
    real = pd.DataFrame(
        {"x": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 1.0, 2.0, 3.0], "c": ["a", "a", "b", "b"]}
    )
    fake = pd.DataFrame(
        {"x": [10.0, 11.0, 12.0, 13.0], "y": [13.0, 12.0, 11.0, 10.0], "c": ["a", "a", "a", "b"]}
    )
    fid = ev.column_fidelity(real, fake)
    assert fid["columns"]["x"]["ks"] == 1.0  # disjoint supports
    assert fid["columns"]["c"]["tvd"] == pytest.approx(0.25)
    # corr(x, y) is +1 in real and -1 in synthetic
    assert fid["correlation_difference"] == pytest.approx(2.0)


def test_column_fidelity_nan_safe_and_numpy_input():
    a = _gauss(50, 0, d=3)
    b = a.copy()
    a[::5, 0] = np.nan
    b[:, 2] = 1.0  # constant column: undefined correlation counts as 0
    fid = ev.column_fidelity(a, b)
    assert np.isfinite(fid["correlation_difference"])
    assert fid["columns"][0]["missing_difference"] == pytest.approx(0.2)
    assert np.isnan(fid["mean_tvd"])
    single = ev.column_fidelity(pd.DataFrame({"c": ["x", "y"]}), pd.DataFrame({"c": ["x", "x"]}))
    assert np.isnan(single["correlation_difference"]) and single["mean_tvd"] == 0.5


# --- scores ---------------------------------------------------------------------------------------


def _separable(n: int, seed: int):
    X = _gauss(n, seed, d=2)
    X[:, 0] += np.sign(X[:, 0])  # a margin around 0: any sensible split is perfect
    return X, (X[:, 0] > 0).astype(int)


def test_infer_task():
    assert ev.infer_task([0, 1, 1]) == "classification"
    assert ev.infer_task(["a", "b", "c"]) == "classification"
    assert ev.infer_task([0.5, 1.25, 3.0]) == "regression"
    with pytest.raises(ValueError):
        ev.infer_task(np.array([[1, 0], [0, 1]]))


def test_score_models_perfect_classifier_and_regressor():
    X, y = _separable(200, 0)
    Xt, yt = _separable(100, 1)
    df = ev.score_models(X, y, Xt, yt, models={"tree": DecisionTreeClassifier(max_depth=1)})
    row = df.iloc[0]
    assert row["balanced_accuracy"] == row["f1_macro"] == row["roc_auc"] == pytest.approx(1.0)
    assert row["model"] == "tree" and row["n_train"] == 200 and row["fit_seconds"] >= 0

    yr, ytr = X @ [2.0, -1.0] + 0.5, Xt @ [2.0, -1.0] + 0.5
    reg = ev.score_models(X, yr, Xt, ytr, models={"lin": LinearRegression})
    assert reg.loc[0, "r2"] == pytest.approx(1.0) and reg.loc[0, "mae"] == pytest.approx(
        0, abs=1e-9
    )
    assert "balanced_accuracy" not in reg


def test_score_models_multiclass_has_no_roc_auc():
    X = _gauss(90, 0, d=2)
    y = np.digitize(X[:, 0], [-0.4, 0.4])
    df = ev.score_models(X, y, X, y, models=LOGREG)
    assert np.isnan(df.loc[0, "roc_auc"]) and df.loc[0, "balanced_accuracy"] > 0.8


def test_resolve_models_by_name_uses_make_model(monkeypatch):
    calls = []

    def make_model(name, task, random_state):
        calls.append((name, task, random_state))
        return LogisticRegression()

    fake = types.SimpleNamespace(make_model=make_model)
    monkeypatch.setitem(sys.modules, "ganaug.registry.models", fake)
    factories = ev.resolve_models(None, "classification", random_state=3)
    assert list(factories) == ["logreg", "rf", "hgb"]
    factories["rf"]()
    assert calls == [("rf", "classification", 3)]
    assert list(ev.resolve_models(None, "regression")) == ["ridge", "rf", "hgb"]
    with pytest.raises(TypeError):
        ev.resolve_models({"bad": 3}, "classification")


def test_tstr_matches_trtr_for_copied_data():
    X, y = _separable(120, 0)
    Xt, yt = _separable(80, 1)
    df = ev.tstr_scores(X.copy(), y.copy(), X, y, Xt, yt, models=LOGREG)
    assert list(df["method"]) == ["TRTR", "TSTR"]
    summary = ev.summarize(df, baseline="TRTR")
    assert summary.loc["TSTR", "balanced_accuracy_lift"] == pytest.approx(0.0)
    assert summary.loc["TRTR", "balanced_accuracy"] > 0.9


def test_tstr_with_useless_synthetic_data_scores_low():
    X, y = _separable(120, 0)
    Xt, yt = _separable(200, 1)
    df = ev.tstr_scores(X, 1 - y, X, y, Xt, yt, models=LOGREG)  # labels flipped
    s = df.set_index("method")
    assert s.loc["TSTR", "balanced_accuracy"] < 0.1
    assert s.loc["TRTR", "balanced_accuracy"] > 0.9


# --- oversampling and downstream --------------------------------------------------------------


def _imbalanced(n_major=60, n_minor=8, seed=0):
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(size=(n_major, 3)), rng.normal(size=(n_minor, 3)) + 1.5]
    return X, np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]


def test_oversample_smote_numeric_reduces_k_and_balances():
    X, y = _imbalanced(40, 3)  # 3 minority rows: k must drop to 2
    X_res, y_res = ev.oversample(X, y, "smote", random_state=0)
    assert isinstance(X_res, np.ndarray) and np.array_equal(X_res[:43], X)
    assert np.bincount(y_res).tolist() == [40, 40]
    X2, _ = ev.oversample(X, y, "smote", random_state=0)
    assert np.array_equal(X_res, X2)


def test_oversample_smotenc_keeps_dtypes_and_original_rows():
    df = _mixed(60, 0)
    y = pd.Series(np.r_[np.zeros(50, int), np.ones(10, int)], name="target")
    X_res, y_res = ev.oversample(df, y, "smote", random_state=0)
    assert len(X_res) == 100 and y_res.value_counts().tolist() == [50, 50]
    assert y_res.name == "target"
    pd.testing.assert_frame_equal(X_res.iloc[:60], df.reset_index(drop=True))
    new = X_res.iloc[60:]
    assert new["count"].dtype == df["count"].dtype
    assert isinstance(new["seg"].dtype, pd.CategoricalDtype)
    assert new["flag"].dtype == bool
    assert set(new["color"].dropna()) <= {"red", "blue", "green"}
    assert not new["num"].isna().any()


def test_oversample_all_categorical_and_random():
    df = pd.DataFrame({"c": list("abcab" * 8), "d": list("xy" * 20)})
    y = np.r_[np.zeros(32, int), np.ones(8, int)]
    X_res, y_res = ev.oversample(df, y, "smote")
    assert np.bincount(y_res).tolist() == [32, 32] and set(X_res["c"]) <= {"a", "b", "c"}
    X_rnd, y_rnd = ev.oversample(_mixed(40, 1), y, "random", random_state=0)
    assert np.bincount(y_rnd).tolist() == [32, 32]
    # random oversampling only duplicates existing rows (NaN included)
    assert (
        X_rnd.iloc[40:]
        .merge(_mixed(40, 1).drop_duplicates(), how="left", indicator=True)["_merge"]
        .eq("both")
        .all()
    )


def test_oversample_dict_strategy_and_errors():
    X, y = _imbalanced(20, 10)
    _, y_res = ev.oversample(X, y, "smote", sampling_strategy={0: 40, 1: 40})
    assert np.bincount(y_res).tolist() == [40, 40]
    X_none, y_none = ev.oversample(X, y, "none")
    assert X_none is X and y_none is y
    with pytest.raises(ev.MethodSkipped, match="single row|at least 2"):
        ev.oversample(X[:21], y[:21], "smote")
    with pytest.raises(ValueError, match="unknown"):
        ev.oversample(X, y, "adasyn")


class _CopyAugmenter:
    """Stand-in for GANAugmenter: balances classes by duplicating minority rows."""

    def __init__(self):
        self.calls = 0

    def fit_resample(self, X, y):
        self.calls += 1
        return ev.oversample(X, y, "random", random_state=1)


def test_downstream_scores_classification():
    X, y = _imbalanced(80, 12)
    Xt, yt = _imbalanced(80, 40, seed=1)
    aug = _CopyAugmenter()
    df = ev.downstream_scores(X, y, Xt, yt, augmenter=aug, models=LOGREG)
    assert list(df["method"]) == ["none", "ganaug", "smote", "random"] and aug.calls == 1
    assert {
        "model",
        "balanced_accuracy",
        "f1_macro",
        "roc_auc",
        "fit_seconds",
        "resample_seconds",
        "n_synthetic",
        "note",
    } <= set(df.columns)
    assert df.set_index("method").loc["smote", "n_synthetic"] == 68
    assert df[["balanced_accuracy", "f1_macro", "roc_auc"]].notna().all().all()
    summary = ev.summarize(df)
    assert summary.loc["none", "balanced_accuracy_lift"] == 0.0
    assert summary.loc["smote", "f1_macro_lift"] == pytest.approx(
        summary.loc["smote", "f1_macro"] - summary.loc["none", "f1_macro"]
    )
    no_aug = ev.downstream_scores(X, y, Xt, yt, models=LOGREG)
    assert list(no_aug["method"]) == ["none", "smote", "random"]


def test_downstream_scores_skips_smote_with_single_row_class():
    X, y = _imbalanced(40, 1)
    df = ev.downstream_scores(X, y, X, y, models=LOGREG, methods=["none", "smote"])
    smote = df.set_index("method").loc["smote"]
    assert smote["note"].startswith("skipped") and np.isnan(smote["balanced_accuracy"])


def test_downstream_scores_regression_and_errors():
    X = _gauss(80, 0, d=2)
    y = X @ [1.0, 2.0]
    df = ev.downstream_scores(X, y, X, y, augmenter=_Dup(), models={"lin": LinearRegression})
    assert list(df["method"]) == ["none", "ganaug"] and {"r2", "mae"} <= set(df.columns)
    assert df["r2"].min() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="classification only"):
        ev.downstream_scores(X, y, X, y, models={"lin": LinearRegression}, methods=["smote"])
    Xc, yc = _imbalanced()
    with pytest.raises(ValueError, match="augmenter"):
        ev.downstream_scores(Xc, yc, Xc, yc, models=LOGREG, methods=["ganaug"])
    with pytest.raises(ValueError, match="unknown methods"):
        ev.downstream_scores(Xc, yc, Xc, yc, models=LOGREG, methods=["gan"])


class _Dup:
    def fit_resample(self, X, y):
        return np.r_[X, X], np.r_[y, y]
