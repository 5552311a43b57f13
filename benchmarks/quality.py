"""Quality benchmark: does augmentation improve downstream models? (fixed, rerunnable protocol)

For each dataset x regime x seed:

1. stratified 60/40 train/test split (seeded);
2. degrade the training split: ``imbalanced`` keeps the largest class and cuts every other
   class to 15% of its size (at least 6 rows); ``lowdata`` subsamples it to 200 rows;
3. build one training set per method -- ``none``, ``random`` (random oversampling),
   ``smote`` (SMOTE, SMOTENC for mixed tables), ``ganaug-classic``, ``ganaug-default`` and
   ``ctgan`` (only when the ``ctgan`` package is installed) -- all asked for the same class
   counts: every class balanced to the largest (``imbalanced``), then grown by
   ``--lowdata-ratio`` (``lowdata``, default 1.0, i.e. doubled);
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

METHODS: tuple[str, ...] = ("none", "random", "smote", "ganaug-classic", "ganaug-default", "ctgan")
MODELS: tuple[str, ...] = ("logreg", "rf", "hgb")
SEEDS: tuple[int, ...] = (0, 1, 2)
REDUCED = {"rows": 300, "lowdata_rows": 120, "epochs": 3, "ctgan_epochs": 2, "cv": 3}


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
        help=f"comma-separated, from {','.join(common.DATASETS)} (default: all)",
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
        default=list(METHODS),
        help=f"comma-separated, from {','.join(METHODS)} (default: all; ctgan is "
        "skipped when the package is not installed)",
    )
    p.add_argument(
        "--models",
        type=_csv(str),
        default=list(MODELS),
        help="comma-separated ganaug.registry.models names (default: logreg,rf,hgb)",
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
    p.add_argument("--cv", type=int, default=5, help="detection AUC folds (default: 5)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results",
        help="output folder (default: benchmarks/results/)",
    )
    args = p.parse_args(argv)
    for name, allowed in (
        ("datasets", common.DATASETS),
        ("regimes", common.REGIMES),
        ("methods", METHODS),
    ):
        bad = [v for v in getattr(args, name) if v not in allowed]
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
    return args


# --- methods ------------------------------------------------------------------------------------


def _ctgan_resample(
    X: pd.DataFrame, y: pd.Series, targets: dict[Any, int], seed: int, epochs: int
) -> tuple[pd.DataFrame, pd.Series]:
    """CTGAN fitted on the training table with the label as a discrete column, then sampled
    per class (``condition_column``) up to the target counts.  Rows are labelled with the
    class they were conditioned on."""
    from ctgan import CTGAN

    from ganaug.evaluation.tables import _column_kinds

    label = "__target__"
    names = {str(c): c for c in pd.unique(y)}
    table = X.copy()
    table[label] = y.astype(str).to_numpy()
    kinds = _column_kinds(X)
    discrete = [c for c in X.columns if kinds[c] == "categorical"] + [label]
    model = CTGAN(epochs=epochs, verbose=False)
    model.set_random_state(seed)
    model.fit(table, discrete_columns=discrete)
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


def resample(
    method: str,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    augment_ratio: float,
    seed: int,
    args: argparse.Namespace,
) -> tuple[Any, Any]:
    """Training set for one method: original rows first, then the new ones.

    Raises ``ganaug.evaluation.MethodSkipped`` when the method does not apply.
    """
    from ganaug.evaluation import MethodSkipped, oversample

    strategy: Any = "auto" if augment_ratio == 0 else common.target_counts(y, augment_ratio)
    if method in ("none", "random", "smote"):
        return oversample(X, y, method, sampling_strategy=strategy, random_state=seed)
    if method.startswith("ganaug-"):
        from ganaug.learn.sampler import GANAugmenter

        params: dict[str, Any] = {
            "preset": method.split("-", 1)[1],
            "random_state": seed,
            "verbose": False,
        }
        if augment_ratio:
            params["augment_ratio"] = augment_ratio
        if args.epochs:
            params["epochs"] = args.epochs
        return GANAugmenter(**params).fit_resample(X, y)
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
        RandomForestClassifier,
    )

    params = {"": estimator, **estimator.get_params(deep=True)}
    for key, value in params.items():
        prefix = f"{key}__" if key else ""
        if isinstance(value, RandomForestClassifier | ExtraTreesClassifier):
            estimator.set_params(**{f"{prefix}n_estimators": 20})
        elif isinstance(value, HistGradientBoostingClassifier):
            estimator.set_params(**{f"{prefix}max_iter": 20})
    return estimator


def model_factories(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """``{name: factory}`` from ``ganaug.registry.models.make_model`` (smaller ensembles if reduced)."""
    from ganaug.registry.models import make_model

    def factory(name: str) -> Any:
        model = make_model(name, task="classification", random_state=seed)
        return _shrink(model) if args.reduced else model

    return {name: (lambda n=name: factory(n)) for name in args.models}


def _detection_classifier(args: argparse.Namespace) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=30) if args.reduced else None


def _seen_detection_classifier(args: argparse.Namespace, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        min_samples_leaf=3, max_iter=30 if args.reduced else 100, random_state=seed
    )


def run_one(
    dataset: str, regime: str, seed: int, args: argparse.Namespace, data: tuple[Any, Any]
) -> list[dict[str, Any]]:
    """All methods x models for one dataset / regime / seed; one record per (method, model)."""
    from ganaug import evaluation as ev

    X, y = data
    X_ref, y_ref, X_te, y_te = common.split(X, y, seed)
    X_tr, y_tr = common.apply_regime(X_ref, y_ref, regime, seed, args.lowdata_rows)
    models = model_factories(args, seed)
    ratio = args.lowdata_ratio if regime == "lowdata" else 0.0
    base = {
        "dataset": dataset,
        "regime": regime,
        "seed": seed,
        "n_train": len(X_tr),
        "n_test": len(X_te),
        "class_counts": {str(k): int(v) for k, v in y_tr.value_counts().sort_index().items()},
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
        }
        try:
            with common.timer() as t:
                X_res, y_res = resample(
                    method, X_tr, y_tr, augment_ratio=ratio, seed=seed, args=args
                )
        except ev.MethodSkipped as exc:
            rec.update(method_seconds=t["seconds"], note=f"skipped: {exc}")
            records += [{**rec, "model": m} for m in args.models]
            print(f"  {dataset}/{regime}/seed {seed}: {method} skipped ({exc})", flush=True)
            continue
        rec["method_seconds"] = t["seconds"]
        n = len(X_tr)
        rec["n_synthetic"] = len(X_res) - n
        if rec["n_synthetic"] > 0:
            X_syn = X_res.iloc[n:] if isinstance(X_res, pd.DataFrame) else np.asarray(X_res)[n:]
            y_syn = np.asarray(y_res)[n:]
            # reference: the whole training split before the regime cut, so that the few real
            # minority rows of the imbalanced regime are not the only comparison; and (seen) only
            # the rows the method was given, which separates "learned badly" from "saw too
            # little" (the cut classes keep a dozen rows or so, hence a classifier with small
            # leaves there)
            references = (
                ("detection_auc", "", X_ref, y_ref, _detection_classifier(args)),
                ("detection_auc_seen", " (seen)", X_tr, y_tr, _seen_detection_classifier(args, seed)),
            )
            for key, label, X_real, y_real, classifier in references:
                try:
                    rec[key] = ev.detection_auc(
                        X_real, X_syn, y_real=y_real, y_synthetic=y_syn, cv=args.cv,
                        random_state=seed, classifier=classifier,
                    )
                except ValueError as exc:
                    rec["note"] = f"no detection AUC{label}: {exc}"
            fid = ev.column_fidelity(X_tr, X_syn)
            rec.update({k: fid[k] for k in ("mean_ks", "mean_tvd", "correlation_difference")})
        scores = ev.score_models(
            X_res, y_res, X_te, y_te, models=models, task="classification", random_state=seed
        )
        for row in scores.to_dict("records"):
            records.append({**rec, **row})
        print(
            f"  {dataset}/{regime}/seed {seed}: {method} {t['seconds']:.1f}s "
            f"bal.acc {scores['balanced_accuracy'].mean():.3f}",
            flush=True,
        )
    return records


# --- report -------------------------------------------------------------------------------------


def summary_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Per dataset x regime x method: means over seeds and models, lift over ``none``."""
    df = pd.DataFrame(records)
    if "detection_auc_seen" not in df:  # records written before the column existed
        df["detection_auc_seen"] = np.nan
    keys = ["dataset", "regime", "method"]
    by_run = df.groupby([*keys, "seed"], sort=False).agg(
        balanced_accuracy=("balanced_accuracy", "mean"),
        f1_macro=("f1_macro", "mean"),
        detection_auc=("detection_auc", "first"),
        detection_auc_seen=("detection_auc_seen", "first"),
        method_seconds=("method_seconds", "first"),
        n_synthetic=("n_synthetic", "first"),
    )
    out = (
        by_run.groupby(keys, sort=False)
        .agg(
            balanced_accuracy=("balanced_accuracy", "mean"),
            f1_macro=("f1_macro", "mean"),
            detection_auc=("detection_auc", "mean"),
            detection_auc_seen=("detection_auc_seen", "mean"),
            seconds=("method_seconds", "mean"),
            n_synthetic=("n_synthetic", "mean"),
            runs=("balanced_accuracy", "count"),
        )
        .reset_index()
    )
    metrics = ["balanced_accuracy", "f1_macro"]
    base = out.loc[out["method"] == "none", ["dataset", "regime", *metrics]]
    out = out.merge(base, on=["dataset", "regime"], how="left", suffixes=("", "_none"))
    for metric in metrics:
        out[f"{metric}_lift"] = out[metric] - out.pop(f"{metric}_none")
    return out


def render_markdown(
    summary: pd.DataFrame,
    records: list[dict[str, Any]],
    info: dict[str, Any],
    config: dict[str, Any],
) -> str:
    headers = [
        "dataset",
        "regime",
        "method",
        "bal. acc.",
        "macro F1",
        "lift bal. acc.",
        "lift F1",
        "detection AUC",
        "detection AUC (seen)",
        "seconds",
        "synthetic rows",
        "runs",
    ]
    rows = []
    for r in summary.itertuples():
        if r.runs == 0:  # skipped in every run (see the notes)
            rows.append([r.dataset, r.regime, r.method, "skipped", *["-"] * 7, 0])
            continue
        rows.append(
            [
                r.dataset,
                r.regime,
                r.method,
                common.fmt(r.balanced_accuracy),
                common.fmt(r.f1_macro),
                common.fmt(r.balanced_accuracy_lift, signed=True),
                common.fmt(r.f1_macro_lift, signed=True),
                common.fmt(r.detection_auc),
                common.fmt(r.detection_auc_seen),
                common.fmt(r.seconds, 2),
                f"{r.n_synthetic:.0f}",
                r.runs,
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
        "Lift = method minus `none` on the same dataset and regime. Detection AUC: "
        "real training rows vs the method's new rows, matched per class (0.5 = "
        "indistinguishable); against the whole training split before the regime cut, and "
        "(seen) against only the rows the method was given (gradient boosting with 3-row "
        "leaves: the cut classes keep a dozen rows or so). Seconds: time to build the augmented training set.",
        "",
        common.markdown_table(headers, rows),
        "",
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

    torch.set_num_threads(1)


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
    X, y = common.load_dataset(dataset)  # fixed table; the seed drives the split
    if args.reduced:
        X, y = common.stratified_subsample(X, y, REDUCED["rows"], seed)
    records: list[dict[str, Any]] = []
    try:
        for regime in args.regimes:
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
        "reduced": args.reduced,
        "epochs": args.epochs or "preset default",
        "ctgan_epochs": args.ctgan_epochs,
        "lowdata_rows": args.lowdata_rows,
        "lowdata_ratio": args.lowdata_ratio,
        "detection_cv": args.cv,
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
    summary = summary_table(records)
    out = Path(args.out)
    common.write_json(out / "quality.json", {"machine": info, "config": config, "records": records})
    md = render_markdown(summary, records, info, config)
    (out / "quality.md").write_text(md, encoding="utf-8")
    print(f"wrote {out / 'quality.json'} and {out / 'quality.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
