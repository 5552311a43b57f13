"""The ``ganaug`` command line.

Every command runs under :class:`GanaugGroup`, which turns the library's user-facing errors
(ValueError, TypeError, OSError, ImportError and the :mod:`ganaug.errors` classes, which
are ValueErrors) into one ``Error: ...`` line and exit status 1, without a traceback.  Set
``GANAUG_DEBUG=1`` to get the traceback instead.  Heavy libraries are imported inside the
commands so that ``ganaug --help`` stays fast.

Plugins add commands through the ``register_commands(cli)`` hook; they are collected
lazily when the group lists or resolves its commands, so built-in commands defined
anywhere in this module take precedence.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ganaug._version import __version__

#: exception types reported as one clean line (ganaug.errors.* subclass ValueError)
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OSError, ImportError)
DEBUG_ENV_VAR = "GANAUG_DEBUG"
TASK_CHOICE = click.Choice(["classification", "regression"])


def error_message(exc: BaseException) -> str:
    """One-line message for an exception raised by a command.

    Parameters
    ----------
    exc : BaseException
        The error.

    Returns
    -------
    str
        Its message on one line (the type name if the message is empty).
    """
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ImportError):
        message = f"missing dependency: {message}"
    return message


class GanaugGroup(click.Group):
    """Click group with plugin-provided commands and one-line error reporting."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if os.environ.get(DEBUG_ENV_VAR):
                raise
            raise click.ClickException(error_message(exc)) from exc

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # load plugins up front so that load warnings print as tidy lines
        from ganaug.plugins import load_plugins

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_plugins()
        for w in caught:
            click.echo(f"Warning: {w.message}", err=True)
        return super().main(*args, **kwargs)

    def _plugin_commands(self) -> dict[str, click.Command]:
        from ganaug.plugins import PluginWarning, collect_commands

        commands = {}
        for name, (command, plugin) in collect_commands().items():
            if name in self.commands:
                warnings.warn(
                    f"command {name!r} from plugin {plugin!r} clashes with a built-in "
                    "command; ignoring it",
                    PluginWarning,
                    stacklevel=2,
                )
            else:
                commands[name] = command
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            command = self._plugin_commands().get(cmd_name)
        return command


@click.group(cls=GanaugGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="ganaug")
def main() -> None:
    """ganaug: generative pretraining for better training sets."""


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """Plain-text table with left-aligned columns."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _describe(uri: str, target: str | None, task: str | None) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from ganaug.datasets import get_dataset

    ds = get_dataset(uri, target=target, task=task)
    X, y = ds.load()
    info: dict[str, Any] = {
        "name": ds.name,
        "description": ds.description,
        "task": ds.task,
        "modality": ds.modality,
        "target": ds.target,
        "plugin": ds.plugin,
        "n_samples": len(y),
        "feature_shape": list(np.shape(X)[1:]),
    }
    if isinstance(X, pd.DataFrame):
        info["columns"] = {str(c): str(t) for c, t in X.dtypes.items()}
        info["n_missing"] = int(X.isna().sum().sum())
    if ds.task == "classification":
        counts = pd.Series(np.asarray(y)).value_counts(sort=False).sort_index()
        info["class_counts"] = {str(k): int(v) for k, v in counts.items()}
    else:
        values = np.asarray(y, dtype=float)
        info["target_stats"] = {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
        }
    return info


@main.command("datasets")
@click.argument("data", required=False)
@click.option("--target", help="Target column (required for CSV and Parquet files).")
@click.option("--task", type=TASK_CHOICE, help="Override the inferred task.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def datasets_command(data: str | None, target: str | None, task: str | None, as_json: bool):
    """List datasets and data URI forms, or describe DATA.

    DATA is a dataset name (breast_cancer), sklearn:NAME, csv:PATH, parquet:PATH, npz:PATH
    or a path ending in .csv, .parquet or .npz.
    """
    from ganaug.datasets import list_dataset_schemes, list_datasets

    if data is not None:
        info = _describe(data, target, task)
        if as_json:
            _echo_json(info)
            return
        for key, value in info.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            click.echo(f"{key}: {value}")
        return
    if target is not None or task is not None:
        raise click.UsageError("--target and --task need a DATA argument")
    datasets, schemes = list_datasets(), list_dataset_schemes()
    if as_json:
        _echo_json(
            {
                "datasets": [
                    {
                        "name": d.name,
                        "task": d.task,
                        "modality": d.modality,
                        "target": d.target,
                        "description": d.description,
                        "plugin": d.plugin,
                    }
                    for d in datasets
                ],
                "schemes": [
                    {
                        "name": s.name,
                        "extensions": list(s.extensions),
                        "description": s.description,
                        "plugin": s.plugin,
                    }
                    for s in schemes
                ],
            }
        )
        return
    rows = [(d.name, d.task, d.modality, d.description) for d in datasets]
    click.echo(_table(rows, ["name", "task", "modality", "description"]))
    click.echo("\nData URIs:")
    rows = [(f"{s.name}:", " ".join(s.extensions), s.description) for s in schemes]
    click.echo(_table(rows, ["scheme", "extensions", "description"]))


@main.command("models")
@click.argument("name", required=False)
@click.option("--task", type=TASK_CHOICE, help="Only models for this task.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def models_command(name: str | None, task: str | None, as_json: bool) -> None:
    """List downstream models, or only those called NAME."""
    from ganaug.models import get_model, list_models

    specs = list_models(task)
    if name is not None:
        specs = [s for s in specs if s.name == name]
        if not specs:
            get_model(name, task)  # raises the "unknown model" error listing known names
    if as_json:
        _echo_json(
            [
                {"name": s.name, "task": s.task, "description": s.description, "plugin": s.plugin}
                for s in specs
            ]
        )
        return
    rows = [(s.name, s.task, s.description, s.plugin) for s in specs]
    click.echo(_table(rows, ["name", "task", "description", "plugin"]))


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def plugins_command(as_json: bool) -> None:
    """List plugins and what each one registered."""
    from ganaug.plugins import get_plugins

    infos = get_plugins()
    if as_json:
        _echo_json([info.to_dict() for info in infos])
        return
    for info in infos:
        origin = "built-in" if info.builtin else f"{info.package or '?'} {info.version or ''}"
        click.echo(f"{info.name} ({origin.strip()})")
        click.echo(f"  hooks: {', '.join(info.hooks) or '-'}")
        for label, names in (
            ("datasets", info.datasets),
            ("dataset schemes", info.dataset_schemes),
            ("models", [f"{n} ({t})" for n, t in info.models]),
            ("commands", info.commands),
        ):
            if names:
                click.echo(f"  {label}: {', '.join(names)}")


# ---------------------------------------------------------------------------------------------
# the main flow: pretrain -> export -> sample / serve, augment, evaluate
# ---------------------------------------------------------------------------------------------

PRESET_CHOICE = click.Choice(["default", "classic"])
DEVICE_CHOICE = click.Choice(["auto", "cpu", "cuda"])
DEFAULT_DATASET = "sklearn:breast_cancer"


def _load(uri: str, target: str | None, task: str | None = None) -> tuple[Any, Any, Any]:
    from ganaug.datasets import get_dataset

    ds = get_dataset(uri, target=target, task=task)
    X, y = ds.load()
    return ds, X, y


def _write_table(X: Any, y: Any, target: str, path: str) -> None:
    """Write features plus target to CSV or Parquet, atomically."""
    import numpy as np
    import pandas as pd

    from ganaug.artifact import atomic_write_bytes

    frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(
        np.asarray(X), columns=[f"x{i}" for i in range(np.shape(X)[1])]
    )
    frame[target] = np.asarray(y)
    out = Path(path)
    if out.suffix == ".parquet":
        import io

        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        atomic_write_bytes(out, buf.getvalue())
    elif out.suffix == ".csv":
        atomic_write_bytes(out, frame.to_csv(index=False).encode())
    else:
        raise ValueError(f"output file must end in .csv or .parquet; got {path!r}")


def _artifact_dir(source: str) -> tuple[Path, str]:
    """An artifact directory and a display name, from a directory path or a dataset name."""
    from ganaug.datasets import get_dataset
    from ganaug.store import Store

    path = Path(source)
    if path.is_dir():
        return path, path.name
    store = Store()
    key = get_dataset(source).name if not store.exists(source) else source
    if not store.exists(key):
        raise ValueError(
            f"no pretrained artifact for {source!r} in {store.root}; run `ganaug pretrain {source}`"
        )
    return store.path(key), key


@main.command("pretrain")
@click.argument("dataset", default=DEFAULT_DATASET)
@click.option("--target", help="Target column (CSV/Parquet data).")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), help="Override the preset's training length.")
@click.option("--device", type=DEVICE_CHOICE, default="auto", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--force", is_flag=True, help="Retrain even if an artifact is stored.")
@click.option("-o", "--output", type=click.Path(), help="Artifact directory (default: the store).")
def pretrain_command(dataset, target, preset, epochs, device, seed, force, output) -> None:
    """Pretrain a class-conditional GAN on DATASET and store the artifact."""
    from ganaug.sampler import GANAugmenter
    from ganaug.store import Store

    ds, X, y = _load(dataset, target)
    path = Path(output) if output else Store().path(ds.name)
    if not force and (path / "ganaug.json").is_file():
        click.echo(f"{ds.name}: reusing the artifact in {path} (use --force to retrain)")
        return
    aug = GANAugmenter(preset=preset, epochs=epochs, device=device, verbose=True, task=ds.task,
                       random_state=seed)
    aug.fit(X, y)
    aug.save(path)
    model = aug.model_
    click.echo(
        f"{ds.name}: pretrained {preset!r} preset for {model.n_epochs_} epochs on {len(y)} rows; "
        f"artifact in {path}"
    )


@main.command("export")
@click.argument("source", default=DEFAULT_DATASET)
@click.option("-o", "--output", type=click.Path(), help="ONNX file (default: the store).")
def export_command(source, output) -> None:
    """Export a pretrained generator (dataset name or artifact directory) to ONNX."""
    from ganaug.export import export_onnx
    from ganaug.sampler import GANAugmenter
    from ganaug.store import Store

    path, name = _artifact_dir(source)
    aug = GANAugmenter.load(path)
    out = Path(output) if output else Store().onnx_path(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(aug.model_, out, task=aug.task_)
    click.echo(f"exported {name} to {out} ({out.stat().st_size / 1024:.0f} KiB)")


def _onnx_path(model: str) -> Path:
    from ganaug.store import Store

    path = Path(model)
    if path.suffix == ".onnx":
        if not path.is_file():
            raise ValueError(f"ONNX file not found: {model}")
        return path
    store = Store()
    for key in (model, _dataset_key(model)):
        candidate = store.onnx_path(key)
        if candidate.is_file():
            return candidate
    raise ValueError(f"no exported generator for {model!r}; run `ganaug export {model}` first")


def _dataset_key(name: str) -> str:
    from ganaug.datasets import get_dataset

    try:
        return get_dataset(name).name
    except (ValueError, OSError):
        return name


THREADS_HELP = "Sampling threads (default: the CPUs available, at most 8); rows do not depend on it."


@main.command("sample")
@click.argument("model")
@click.option("-n", "n_rows", type=click.IntRange(min=1), required=True, help="Rows to sample.")
@click.option("--class", "label", help="Only rows of this class.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("-o", "--output", type=click.Path(), help="CSV or Parquet file (default: stdout CSV).")
@click.option("--threads", type=click.IntRange(min=1), help=THREADS_HELP)
def sample_command(model, n_rows, label, seed, output, threads) -> None:
    """Sample rows from an exported generator with ONNX Runtime only (no torch)."""
    from ganaug.runtime import OnnxGenerator

    gen = OnnxGenerator(_onnx_path(model), n_threads=threads)
    y = None
    if label is not None:
        y = _parse_label(label, gen.classes_)
    if output:
        gen.write(output, n_rows, y=y, random_state=seed)
        click.echo(f"wrote {n_rows} rows to {output}", err=True)
    else:
        X, labels = gen.sample(n_rows, y=y, random_state=seed)
        _write_stdout(X, labels, gen)


def _parse_label(label: str, classes: Any) -> Any:
    """Match a command-line label to a class label of any type ("1" -> 1)."""
    for c in classes:
        if str(c) == label:
            return c
    raise ValueError(f"unknown class {label!r}: this generator knows {[str(c) for c in classes]}")


def _write_stdout(X: Any, labels: Any, gen: Any) -> None:
    import sys

    import numpy as np
    import pandas as pd

    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    # classification: the class each row was generated for; regression: the modelled target
    column = "label" if gen.task == "classification" else "target"
    frame = frame.assign(**{str(column): np.asarray(labels)})
    frame.to_csv(sys.stdout, index=False)


@main.command("augment")
@click.argument("data")
@click.option("--target", help="Target column (required for CSV/Parquet data).")
@click.option("--strategy", default="auto", show_default=True,
              help="sampling_strategy: auto, minority, not minority, not majority, all, or a float.")
@click.option("--ratio", type=click.FloatRange(min=0), help="augment_ratio: grow every class by this fraction.")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--generator", type=click.Path(exists=True), help="Reuse a pretrained generator (artifact or .onnx).")
@click.option("--task", type=TASK_CHOICE, help="Override the inferred task.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("-o", "--output", type=click.Path(), required=True, help="CSV or Parquet file.")
def augment_command(data, target, strategy, ratio, preset, epochs, generator, task, seed,
                    output) -> None:
    """Add synthetic rows to DATA (fit_resample) and write the augmented table."""
    from ganaug.sampler import GANAugmenter

    ds, X, y = _load(data, target, task)
    try:
        strategy_value: Any = float(strategy)
    except ValueError:
        strategy_value = strategy
    aug = GANAugmenter(sampling_strategy=strategy_value, augment_ratio=ratio, preset=preset,
                       epochs=epochs, generator=generator, verbose=True, task=task or "auto",
                       random_state=seed)
    X_res, y_res = aug.fit_resample(X, y)
    _write_table(X_res, y_res, ds.target or "target", output)
    click.echo(f"{ds.name}: {len(y)} real + {len(y_res) - len(y)} synthetic rows -> {output}")


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
    from ganaug.sampler import GANAugmenter

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
    import numpy as np

    y_arr = np.asarray(y)
    labels, counts = np.unique(y_arr, return_counts=True)
    rng = np.random.default_rng(seed)
    keep = []
    for label, count in zip(labels, counts):
        rows = np.flatnonzero(y_arr == label)
        if count != counts.max():
            rows = rng.choice(rows, size=max(6, round(fraction * count)), replace=False)
        keep.append(rows)
    idx = np.sort(np.concatenate(keep))
    take = (lambda a: a.iloc[idx]) if hasattr(X, "iloc") else (lambda a: np.asarray(a)[idx])
    return take(X), (y.iloc[idx] if hasattr(y, "iloc") else y_arr[idx])


def _print_scores(name: str, scores: Any, summary: Any) -> None:
    metrics = [c for c in ("balanced_accuracy", "f1_macro", "roc_auc", "r2", "mae") if c in scores]
    rows = []
    for _, r in scores.iterrows():
        rows.append([r["model"], r["method"], *[_fmt(r[m]) for m in metrics], r.get("note") or ""])
    click.echo(f"\n{name}: test scores per model and training set\n")
    click.echo(_table(rows, ["model", "method", *metrics, "note"]))
    lift = [c for c in summary.columns if c.endswith("_lift")]
    rows = [[m, *[_fmt(summary.loc[m, c], signed=True) for c in lift]] for m in summary.index]
    click.echo("\nmean lift over no augmentation\n")
    click.echo(_table(rows, ["method", *lift]))


def _fmt(value: Any, signed: bool = False) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "-"
    return f"{v:+.4f}" if signed else f"{v:.4f}"


def _plots(aug: Any, X: Any, y: Any, plot: str, modality: str) -> list[Path]:
    from ganaug import plots

    out = Path(plot)
    stem = out.with_suffix("")
    X_syn, y_syn = aug.sample(max(200, len(y)), random_state=0)
    written = [plots.plot_marginals(X, X_syn, out)]
    written.append(plots.plot_correlations(X, X_syn, f"{stem}-correlations.png"))
    written.append(plots.plot_loss(aug.model_.history_, f"{stem}-loss.png"))
    if modality == "image":
        written.append(plots.plot_image_grid(X_syn, y_syn, f"{stem}-images.png"))
    return written


@main.command("serve")
@click.argument("path", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--max-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Largest n one request may ask for.")
@click.option("--threads", type=click.IntRange(min=1), help=THREADS_HELP)
def serve_command(path, host, port, max_rows, threads) -> None:
    """Serve exported generators (one .onnx file or a directory of them) over HTTP."""
    from ganaug.server import serve

    serve(path, host=host, port=port, max_rows=max_rows, n_threads=threads)


@main.command("run")
@click.argument("dataset", default=DEFAULT_DATASET)
@click.option("--target", help="Target column (CSV/Parquet data).")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), help="Override the preset's training length.")
@click.option("-n", "n_rows", type=click.IntRange(min=1), default=1000, show_default=True)
@click.pass_context
def run_command(ctx, dataset, target, preset, seed, epochs, n_rows) -> None:
    """The main job: pretrain, export to ONNX, sample, and evaluate on DATASET."""
    from ganaug.datasets import get_dataset
    from ganaug.store import Store

    name = get_dataset(dataset, target=target).name
    store = Store()
    click.echo(f"[1/4] pretrain {name}")
    ctx.invoke(pretrain_command, dataset=dataset, target=target, preset=preset, seed=seed,
               epochs=epochs)
    click.echo(f"[2/4] export {name} to ONNX")
    ctx.invoke(export_command, source=str(store.path(name)), output=str(store.onnx_path(name)))
    sample_path = store.root / "samples" / f"{name}.csv"
    sample_path.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"[3/4] sample {n_rows} rows with ONNX Runtime")
    ctx.invoke(sample_command, model=str(store.onnx_path(name)), n_rows=n_rows, seed=seed,
               output=str(sample_path))
    click.echo(f"[4/4] evaluate on {name} (60/40 split)")
    ctx.invoke(evaluate_command, dataset=dataset, target=target, preset=preset, seed=seed,
               epochs=epochs)
