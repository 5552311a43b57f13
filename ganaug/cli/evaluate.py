"""``ganaug evaluate``: downstream scores on real, ganaug-, SMOTE- and randomly-oversampled
training sets, and optional plots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ganaug.cli.app import DEFAULT_DATASET, EPOCHS_HELP, PRESET_CHOICE, PRESET_HELP, SEED_HELP, main
from ganaug.cli.output import _echo_json, _print_intervals
from ganaug.cli.plumbing import _load


@main.command("evaluate")
@click.argument("dataset", default=DEFAULT_DATASET)
@click.option("--target", help="Target column (CSV/Parquet data).")
@click.option("--model", "models", multiple=True, help="Downstream model name (repeatable).")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True,
              help=PRESET_HELP)
@click.option("--epochs", type=click.IntRange(min=1), help=EPOCHS_HELP)
@click.option("--imbalance", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Keep only this fraction of every non-majority class in each training split.")
@click.option("--splits", "n_splits", type=click.IntRange(min=2), default=5, show_default=True,
              help="Repeated stratified 60/40 splits; the lift comes with a 95% interval over them.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=SEED_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--report", type=click.Path(dir_okay=False),
              help="Write a self-contained HTML report (lift, per-class fidelity, privacy).")
@click.option("--plot", type=click.Path(), help="Write PNG plots (minority class): PATH and PATH-stem variants.")
def evaluate_command(dataset, target, models, preset, epochs, imbalance, n_splits, seed, as_json,
                     report, plot) -> None:
    """Does augmentation help on DATASET? Score models trained on real, ganaug-, SMOTE- and
    randomly-oversampled training sets over repeated splits, with intervals and a verdict.

    Each split trains a fresh GAN on its training rows only.

    \b
    Examples:
      ganaug evaluate breast_cancer --imbalance 0.1 --report report.html
      ganaug evaluate data/churn.csv --target churn --splits 10 --model logreg
      ganaug evaluate wine --json > scores.json
    """
    import numpy as np

    from ganaug import evaluation
    from ganaug.evaluation.repeated import lift_intervals, repeated_scores, verdict
    from ganaug.learn.sampler import GANAugmenter

    if report:
        _check_report_path(report)
    ds, X, y = _load(dataset, target)
    if report and ds.task != "classification":
        raise click.UsageError("--report covers classification tables (per-class sections)")
    aug = GANAugmenter(preset=preset, epochs=epochs, task=ds.task, random_state=seed)
    if ds.task == "regression":
        aug.set_params(augment_ratio=1.0)

    def on_split(split: int, total: int) -> None:
        if not as_json:
            click.echo(f"  split {split + 1}/{total}: a fresh GAN on this split's training rows, "
                       "then the downstream models", err=True)

    scores = repeated_scores(
        X, y, augmenter=aug, n_splits=n_splits, minority_fraction=imbalance,
        models=list(models) or None, task=ds.task, random_state=seed, on_split=on_split,
    )
    intervals = lift_intervals(scores)
    line = verdict(intervals)
    if as_json:
        summary = evaluation.summarize(scores)
        _echo_json({"dataset": ds.name, "task": ds.task, "n_splits": n_splits,
                    "scores": scores.replace({np.nan: None}).to_dict(orient="records"),
                    "summary": summary.reset_index().replace({np.nan: None}).to_dict(orient="records"),
                    "intervals": intervals.replace({np.nan: None}).to_dict(orient="records"),
                    "verdict": line})
    else:
        _print_intervals(ds.name, scores, intervals)
        _print_stages(scores)
        click.echo(f"\nVerdict: {line}")  # the last line: the answer
    showcase = None
    if plot or report:
        from ganaug.evaluation.report import showcase_fit

        showcase = showcase_fit(X, y, aug, minority_fraction=imbalance, random_state=seed,
                                task=ds.task)
    if plot:
        for written in _plots(showcase, plot, ds.modality):
            click.echo(f"wrote {written}", err=True)
    if report:
        from ganaug.evaluation.report import evaluation_report

        page = evaluation_report(X, y, augmenter=aug, minority_fraction=imbalance, task=ds.task,
                                 random_state=seed, title=f"ganaug evaluation: {ds.name}",
                                 scores=scores, showcase=showcase)
        click.echo(f"wrote {page.write(report)}", err=True)


def _print_stages(scores: Any) -> None:
    """Which stage of the GAN produced ganaug's rows, per split, and why (the first reason)."""
    rows = scores[scores["method"] == "ganaug"].drop_duplicates("split")
    rows = rows[rows["stage"].notna()] if "stage" in rows else rows.iloc[:0]
    if rows.empty:
        return
    counts = rows["stage"].value_counts()
    parts = ", ".join(f"{stage} stage in {n} of {len(rows)} splits" for stage, n in counts.items())
    click.echo(f"ganaug's rows came from the {parts} (split 1: {rows['stage_reason'].iloc[0]})")


def _check_report_path(path: str) -> None:
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise click.BadParameter(f"folder {parent} does not exist", param_hint="--report")


def _imbalance(X: Any, y: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """Cut every class but the largest to ``fraction`` of its rows (at least 6, or all it has)."""
    from ganaug.evaluation.repeated import cut_classes

    return cut_classes(X, y, fraction, seed)


def _plots(fit: Any, plot: str, modality: str) -> list[Path]:
    """Marginals and correlations of the smallest class (the one augmentation is for), real
    training rows against synthetic rows, with their distances in the titles; the loss curves."""
    import numpy as np

    from ganaug.evaluation import plots

    out = Path(plot)
    stem = out.with_suffix("")
    if fit.classes:
        label = fit.classes[0]
        real = fit.X_train[np.asarray(fit.y_train, dtype=object) == label]
        synthetic = fit.X_synthetic[fit.y_synthetic == label]
        title = f"class {label} (smallest): {len(real)} real training rows vs {len(synthetic)} synthetic rows"
    else:  # regression: every row
        real, synthetic = fit.X_train, fit.X_synthetic
        title = f"{len(real)} real training rows vs {len(synthetic)} synthetic rows"
    written = [plots.plot_marginals(real, synthetic, out, title=title)]
    written.append(plots.plot_correlations(real, synthetic, f"{stem}-correlations.png", title=title))
    written.append(plots.plot_loss(fit.augmenter.model_.history_, f"{stem}-loss.png"))
    if modality == "image":
        written.append(plots.plot_image_grid(fit.X_synthetic, fit.y_synthetic, f"{stem}-images.png"))
    return written
