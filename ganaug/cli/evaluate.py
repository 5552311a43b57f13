"""``ganaug evaluate``: downstream scores on real, ganaug-, SMOTE- and randomly-oversampled
training sets, and optional plots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ganaug.cli.app import DEFAULT_DATASET, PRESET_CHOICE, main
from ganaug.cli.files import _load
from ganaug.cli.output import _echo_json, _print_scores


@main.command("evaluate")
@click.argument("dataset", default=DEFAULT_DATASET)
@click.option("--target", help="Target column (CSV/Parquet data).")
@click.option("--model", "models", multiple=True, help="Downstream model name (repeatable).")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--imbalance", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Keep only this fraction of every non-majority class in the training split.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--plot", type=click.Path(), help="Write plots: PATH and PATH-stem variants.")
def evaluate_command(dataset, target, models, preset, epochs, imbalance, seed, as_json, plot) -> None:
    """Score models trained on real, ganaug-, SMOTE- and randomly-oversampled training sets."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from ganaug import evaluation
    from ganaug.learn.sampler import GANAugmenter

    ds, X, y = _load(dataset, target)
    stratify = y if ds.task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, stratify=stratify, random_state=seed)
    if imbalance is not None and ds.task == "classification":
        X_tr, y_tr = _imbalance(X_tr, y_tr, imbalance, seed)
    aug = GANAugmenter(preset=preset, epochs=epochs, verbose=not as_json, task=ds.task,
                       random_state=seed)
    if ds.task == "regression":
        aug.set_params(augment_ratio=1.0)
    scores = evaluation.downstream_scores(
        X_tr, y_tr, X_te, y_te, augmenter=aug, models=list(models) or None, task=ds.task,
        random_state=seed,
    )
    n_real = len(y_tr)
    summary = evaluation.summarize(scores)
    if as_json:
        _echo_json({"dataset": ds.name, "task": ds.task, "n_train": n_real, "n_test": len(y_te),
                    "scores": scores.replace({np.nan: None}).to_dict(orient="records"),
                    "summary": summary.reset_index().replace({np.nan: None}).to_dict(orient="records")})
    else:
        _print_scores(ds.name, scores, summary)
    if plot:
        for written in _plots(aug, X_tr, y_tr, plot, ds.modality):
            click.echo(f"wrote {written}", err=True)


def _imbalance(X: Any, y: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """Cut every class but the largest to ``fraction`` of its rows (at least 6, or all it has)."""
    import numpy as np
    from imblearn.datasets import make_imbalance

    labels, counts = np.unique(np.asarray(y), return_counts=True)
    keep = {
        label: int(min(count, max(6, round(fraction * count))))
        for label, count in zip(labels, counts)
        if count != counts.max()
    }
    return make_imbalance(X, y, sampling_strategy=keep, random_state=seed)


def _plots(aug: Any, X: Any, y: Any, plot: str, modality: str) -> list[Path]:
    from ganaug.evaluation import plots

    out = Path(plot)
    stem = out.with_suffix("")
    X_syn, y_syn = aug.sample(max(200, len(y)), random_state=0)
    written = [plots.plot_marginals(X, X_syn, out)]
    written.append(plots.plot_correlations(X, X_syn, f"{stem}-correlations.png"))
    written.append(plots.plot_loss(aug.model_.history_, f"{stem}-loss.png"))
    if modality == "image":
        written.append(plots.plot_image_grid(X_syn, y_syn, f"{stem}-images.png"))
    return written
