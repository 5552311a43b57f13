"""Exact structure before / after: detection AUC and lift of the same model's rows, finished
(learned precision and relations applied) or not.

Precision and relations are applied to decoded rows only (``ganaug.core.exact``); training does
not read them. So one fit per table and seed gives both rows: ``after`` as sampled, ``before``
the same draws assembled with a schema stripped of its rules. Same split and ``imbalanced`` regime
as ``quality.py`` (its helpers), detection AUC against the whole training split, balanced accuracy
of the downstream models on the real test split.

    python benchmarks/faithful.py --datasets oj,flights --max-rows 4000 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
from quality import COPULA_OVERRIDES


def _stripped(schema: Any) -> Any:
    bare = copy.deepcopy(schema)
    bare.relations = []
    for column in bare.columns:
        column.decimals, column.multiple, column.significant = None, 1, None
    return bare


def _rows(model: Any, plan: np.ndarray, seed: int, finished: bool) -> pd.DataFrame:
    """The model's rows for class indices ``plan`` (no constraints are declared here)."""
    schema = model.codec_.schema_
    if not finished:
        model.codec_.schema_ = _stripped(schema)
    try:
        return model.generate(plan, random_state=seed)
    finally:
        model.codec_.schema_ = schema


def _exact_share(X: pd.DataFrame, schema: Any) -> float:
    """Share of rows in which every learned relation holds (1.0 where there is none)."""
    from ganaug.core.exact import apply_relations

    cols = [c.name for c in schema.numeric_columns]
    if not any(r["kind"] != "map" for r in schema.relations):
        return float("nan")
    numeric = X[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    again = numeric.copy()
    codes = np.zeros((len(X), len(schema.categorical_columns)), dtype=np.int64)
    keep = [r for r in schema.relations if r["kind"] != "map"]
    bare = copy.copy(schema)
    bare.relations = keep
    apply_relations(bare, again, codes)
    ok = np.isclose(numeric, again, rtol=0, atol=1e-6) | (np.isnan(numeric) & np.isnan(again))
    return float(ok.all(axis=1).mean())


def run(dataset: str, seed: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    import ganaug.evaluation as ev
    from ganaug.gan.presets import get_preset
    from ganaug.learn.sampler import GANAugmenter

    X, y = common.load_dataset(dataset, max_rows=args.max_rows, random_state=0)
    X_tr_full, y_tr_full, X_te, y_te = common.split(X, y, seed)
    keep = common.regime_rows(y_tr_full, "imbalanced", seed)
    X_tr, y_tr = X_tr_full.iloc[keep].reset_index(drop=True), y_tr_full.iloc[keep].reset_index(drop=True)
    preset = get_preset("default").with_overrides(**COPULA_OVERRIDES) if args.preset == "copula" \
        else get_preset(args.preset)
    aug = GANAugmenter(preset=preset, random_state=seed, verbose=False).fit(X_tr, y_tr)
    counts = common.target_counts(y_tr, 0.0)
    have = y_tr.value_counts()
    labels = np.repeat(list(counts), [max(0, n - int(have[c])) for c, n in counts.items()])
    plan = aug.model_.class_index(labels)
    base = ev.score_models(X_tr, y_tr, X_te, y_te, models=args.models, random_state=seed)
    records = []
    for finished in (False, True):
        X_syn = _rows(aug.model_, plan, aug._sample_seed, finished).reset_index(drop=True)
        X_res = pd.concat([X_tr, X_syn], ignore_index=True)
        y_res = pd.concat([y_tr, pd.Series(labels, name=y_tr.name)], ignore_index=True)
        scores = ev.score_models(X_res, y_res, X_te, y_te, models=args.models, random_state=seed)
        auc = ev.detection_auc(X_tr_full, X_syn, y_real=y_tr_full, y_synthetic=labels,
                               cv=args.cv, random_state=seed)
        records.append({
            "dataset": dataset, "seed": seed, "rows": "after" if finished else "before",
            "detection_auc": auc,
            "lift": float(scores["balanced_accuracy"].mean() - base["balanced_accuracy"].mean()),
            "relations_hold": _exact_share(X_syn, aug.model_.codec_.schema_),
            "rules": aug.model_.history_["exact"],
        })
        print(json.dumps({k: v for k, v in records[-1].items() if k != "rules"}), flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/faithful.py", description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="oj,flights")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--max-rows", type=int, default=4000)
    p.add_argument("--preset", default="copula", help="copula (default: the default preset's "
                   "closed-form stage, fast) or a preset name")
    p.add_argument("--models", default="logreg,hgb")
    p.add_argument("--cv", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "faithful.json")
    args = p.parse_args(argv)
    args.models = args.models.split(",")
    records = []
    for dataset in args.datasets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            records += run(dataset, seed, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(records, indent=1))
    frame = pd.DataFrame(records).groupby(["dataset", "rows"])[
        ["detection_auc", "lift", "relations_hold"]].agg(["mean", "std"])
    print(frame.round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
