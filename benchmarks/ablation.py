"""Quick ablation used to choose the default preset (a smaller protocol than quality.py).

Imbalanced regime only (largest class kept, every other class cut to 15%, at least 6 rows),
seeds 0 and 1, datasets breast_cancer, wine and ``heldout``: a generated 3-class table
(``make_classification``, 12 features, 2 clusters per class) that ``quality.py`` never uses, so a
change is checked on data it was not tuned on. Reports, per dataset, the balanced-accuracy lift
over no augmentation of logistic regression and random forest for ganaug and SMOTE, ganaug's
detection AUC (gradient boosting with min_samples_leaf=3, per class, against the training split)
and seconds per fit.

    python benchmarks/ablation.py '{"target_steps": 300}'                 # preset overrides
    python benchmarks/ablation.py '{"copula": false}' --filter-ratio 3   # augmenter option
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from sklearn.datasets import load_breast_cancer, load_wine, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ganaug import GANAugmenter
from ganaug.evaluation import detection_auc
from ganaug.gan.presets import PRESETS


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    if name == "wine":
        return load_wine(return_X_y=True)
    return make_classification(n_samples=1500, n_features=12, n_informative=6, n_classes=3,
                               n_clusters_per_class=2, random_state=42)


MODELS = {
    "lr": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
    "rf": lambda: RandomForestClassifier(100, random_state=0, n_jobs=1),
}


def imbalance(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    big = np.bincount(y).argmax()
    keep = [
        idx if c == big else rng.choice(idx, max(6, int(0.15 * len(idx))), replace=False)
        for c in np.unique(y)
        for idx in [np.flatnonzero(y == c)]
    ]
    k = np.concatenate(keep)
    return X[k], y[k]


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("overrides", nargs="?", default="{}", help="JSON preset overrides")
    p.add_argument("--preset", default="default")
    p.add_argument("--filter-ratio", type=float, default=1.0)
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--datasets", default="breast_cancer,wine,heldout")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    over = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(args.overrides).items()}
    config = PRESETS[args.preset].with_overrides(**over)
    rows = []
    for name in args.datasets.split(","):
        X, y = load(name)
        for seed in map(int, args.seeds.split(",")):
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
            X_tr, y_tr = imbalance(X_tr, y_tr, seed)
            start = time.perf_counter()
            aug = GANAugmenter(preset=config, filter_ratio=args.filter_ratio, random_state=seed)
            X_g, y_g = aug.fit_resample(X_tr, y_tr)
            row = {"dataset": name, "seed": seed, "seconds": time.perf_counter() - start}
            k = min(5, np.bincount(y_tr).min() - 1)
            X_s, y_s = SMOTE(k_neighbors=k, random_state=seed).fit_resample(X_tr, y_tr)
            for m, make in MODELS.items():
                base = balanced_accuracy_score(y_te, make().fit(X_tr, y_tr).predict(X_te))
                row[f"{m}_ganaug"] = balanced_accuracy_score(y_te, make().fit(X_g, y_g).predict(X_te)) - base
                row[f"{m}_smote"] = balanced_accuracy_score(y_te, make().fit(X_s, y_s).predict(X_te)) - base
            row["detection_auc"] = detection_auc(
                X_tr, X_g[len(X_tr):], y_real=y_tr, y_synthetic=y_g[len(X_tr):],
                classifier=HistGradientBoostingClassifier(min_samples_leaf=3, random_state=0),
            )
            rows.append(row)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    df = pd.DataFrame(rows)
    print(df.drop(columns="seed").groupby("dataset").mean().round(3).to_string())
    print("mean", df.drop(columns=["dataset", "seed"]).mean().round(3).to_dict())
    return df


if __name__ == "__main__":
    main()
