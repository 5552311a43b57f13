"""The main flow after pretraining (:mod:`ganaug.cli.pretrain`): ``ganaug export``, ``sample``,
``augment``, ``serve`` and ``run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ganaug.cli.app import (
    DEFAULT_DATASET,
    EPOCHS_HELP,
    PRESET_CHOICE,
    PRESET_HELP,
    SEED_HELP,
    TASK_CHOICE,
    THREADS_HELP,
    main,
)
from ganaug.cli.evaluate import evaluate_command
from ganaug.cli.plumbing import (
    _artifact_dir,
    _check_table_path,
    _load,
    _onnx_path,
    _parse_label,
    _write_stdout,
    _write_table,
)
from ganaug.cli.pretrain import CONSTRAINT_OPTION, EXACT_OPTION, echo_rules, pretrain_command
from ganaug.cli.scale import ENGINE_CHOICE, check_engine_options, sample_with_dask
from ganaug.registry.datasets import store_key


@main.command("export")
@click.argument("source", default=DEFAULT_DATASET)
@click.option("-o", "--output", type=click.Path(), help="ONNX file (default: the store).")
@click.option("--triton", "triton_dir", type=click.Path(file_okay=False),
              help="Also write a Triton model repository entry: DIR/NAME/config.pbtxt and "
                   "DIR/NAME/1/model.onnx.")
def export_command(source, output, triton_dir=None) -> None:
    """Export a pretrained generator to ONNX (one file that any ONNX Runtime can sample).

    SOURCE is what was pretrained: a dataset name, a data file (its stem names the model:
    data/churn.csv and churn are the same), or an artifact directory.

    \b
    Examples:
      ganaug export breast_cancer
      ganaug export churn -o churn.onnx
      ganaug export data/churn.parquet --triton model_repository
    """
    from ganaug.gan.export import export_onnx
    from ganaug.gan.store import Store
    from ganaug.learn.sampler import GANAugmenter

    path, name = _artifact_dir(source)
    aug = GANAugmenter.load(path)
    out = Path(output) if output else Store().onnx_path(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(aug.model_, out, task=aug.task_)
    click.echo(f"exported {name} to {out} ({out.stat().st_size / 1024:.0f} KiB)")
    if triton_dir:
        from ganaug.runtime.triton import write_model_repository

        entry = write_model_repository(out, triton_dir, name=name)
        click.echo(f"Triton model repository entry {entry.name!r} in {entry}")


@main.command("sample")
@click.argument("model")
@click.option("-n", "n_rows", type=click.IntRange(min=1), required=True,
              help="Number of rows to generate (classes in training proportions).")
@click.option("--class", "label", help="Only rows of this class.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=SEED_HELP)
@click.option("-o", "--output", type=click.Path(), help="CSV or Parquet file (default: stdout CSV).")
@click.option("--threads", type=click.IntRange(min=1), help=THREADS_HELP
              + " With --engine dask and no --scheduler: the local cluster's workers.")
@click.option("--engine", type=ENGINE_CHOICE, default="onnxruntime", show_default=True,
              help="dask: Dask workers compute the rows, written as a Parquet dataset (-o DIR).")
@click.option("--scheduler", help="Dask scheduler address (default: a local cluster).")
@click.option("--npartitions", type=click.IntRange(min=1),
              help="Dask partitions, one Parquet file each (default: one per 500,000 rows).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="Seconds to wait for the Dask scheduler.")
@click.option("--where", "where", multiple=True, metavar="CONDITION",
              help="Only rows that meet it: 'age>=30', 'region=north', 'income=NA' (missing); "
                   "repeat for several. A condition on the class column selects the class.")
def sample_command(model, n_rows, label, seed, output, threads, engine="onnxruntime",
                   scheduler=None, npartitions=None, timeout=10.0, where=()) -> None:
    """Sample rows from an exported generator with ONNX Runtime only (no torch).

    MODEL is an .onnx file or the name of an exported model (a dataset name or a data file's
    stem). Rows go to stdout as CSV, or to -o FILE (.csv or .parquet) with progress on stderr.

    \b
    Examples:
      ganaug sample churn -n 1000 > rows.csv
      ganaug sample churn.onnx -n 1000000 --class yes -o rows.parquet
      ganaug sample churn -n 50000000 --engine dask -o rows_dir
    """
    from ganaug.core.files import exit_on_sigterm
    from ganaug.runtime import OnnxGenerator
    from ganaug.runtime.progress import track_rows

    check_engine_options(engine, scheduler, npartitions, output)
    conditions = _parse_where(where)
    if conditions and engine == "dask":
        raise click.UsageError("--where is not supported with --engine dask")
    if engine == "dask":
        sample_with_dask(_onnx_path(model), n_rows, label, seed, output, scheduler, npartitions,
                         threads, timeout)
        return
    if output:
        _check_table_path(output)
    gen = OnnxGenerator(_onnx_path(model), n_threads=threads)
    y = None
    if label is not None:
        y = _parse_label(label, gen.classes_)
    if gen.label_name in conditions:  # the class column: a label as --class takes it
        y = _parse_label(str(conditions.pop(gen.label_name)), gen.classes_)
    if output:
        with exit_on_sigterm(), track_rows(n_rows, f"sampling to {output}") as done:
            # SIGTERM mid-write removes the temporary file, keeps the old one
            gen.write(output, n_rows, y=y, random_state=seed, on_rows=done,
                      conditions=conditions or None)
        click.echo(f"wrote {n_rows} rows to {output}", err=True)
    else:
        with track_rows(n_rows, "sampling to stdout") as done:
            for i, (X, labels) in enumerate(gen.iter_samples(
                    n_rows, y=y, random_state=seed, conditions=conditions or None)):
                _write_stdout(X, labels, gen, header=i == 0)
                done(len(labels))


class StrategyType(click.ParamType):
    """``--strategy``: one of imbalanced-learn's over-sampling words, or a ratio in (0, 1]."""

    name = "strategy"
    WORDS = ("auto", "minority", "not minority", "not majority", "all")

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value in self.WORDS:
            return value
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None and 0 < number <= 1:
            return number
        self.fail(f"{value!r} is not a strategy; choose one of {', '.join(self.WORDS)}, or a "
                  "number in (0, 1] (the minority/majority ratio wanted)", param, ctx)


STRATEGY = StrategyType()


@main.command("augment")
@click.argument("data")
@click.option("--target", help="Target column (required for CSV/Parquet data).")
@click.option("--strategy", type=STRATEGY, default="auto", show_default=True,
              help="Which classes to grow: auto (all but the majority, up to its size), minority, "
                   "not minority, not majority, all, or a number in (0, 1]: the wanted "
                   "minority/majority ratio (two classes).")
@click.option("--ratio", type=click.FloatRange(min=0),
              help="Grow every class by this fraction instead (0.5: 50% more rows).")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True,
              help=PRESET_HELP)
@click.option("--epochs", type=click.IntRange(min=1), help=EPOCHS_HELP)
@click.option("--generator", type=click.Path(exists=True), help="Reuse a pretrained generator (artifact or .onnx).")
@click.option("--task", type=TASK_CHOICE, help="Override the inferred task.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=SEED_HELP)
@click.option("--unlabeled-value", "unlabeled",
              help="Label of unlabeled rows (default -1; 'nan' for empty cells, 'none' for no "
                   "unlabeled rows): they fit the codec's marginals and are left out of the output.")
@click.option("-o", "--output", type=click.Path(), required=True, help="CSV or Parquet file.")
@click.option("--mark-synthetic", "mark", metavar="COLUMN",
              help="Add a boolean column COLUMN: true on synthetic rows, false on real ones.")
@click.option("--save", "save_dir", type=click.Path(),
              help="Also save the trained model as an artifact directory.")
@EXACT_OPTION
@CONSTRAINT_OPTION
def augment_command(data, target, strategy, ratio, preset, epochs, generator, task, seed,
                    unlabeled, output, mark=None, save_dir=None, exact_structure=True,
                    constraints=()) -> None:
    """Add synthetic rows to DATA (fit_resample) and write the augmented table.

    \b
    Examples:
      ganaug augment data/churn.csv --target churn -o augmented.csv
      ganaug augment data/churn.parquet --target churn --strategy minority -o out.parquet
      ganaug augment data/churn.csv --target churn --generator churn.onnx -o out.csv
    """
    from ganaug.learn.sampler import GANAugmenter

    _check_table_path(output)
    if save_dir:
        from ganaug.core.errors import ArtifactError
        from ganaug.gan.artifact import check_destination

        if generator:
            raise click.UsageError("--save keeps a model trained here; with --generator there is none")
        try:
            check_destination(save_dir)
        except ArtifactError as exc:
            raise click.UsageError(f"--save: {exc}") from None
    _check_not_input(output, data)
    nan_marker = unlabeled is not None and unlabeled.lower() in ("nan", "")
    ds, X, y = _load(data, target, task, missing_labels=nan_marker)
    if mark is not None and mark in [str(c) for c in getattr(X, "columns", [])] + [ds.target or "target"]:
        raise click.UsageError(f"--mark-synthetic {mark!r} is already a column name; choose another")
    aug = GANAugmenter(sampling_strategy=strategy, augment_ratio=ratio, preset=preset,
                       epochs=epochs, generator=generator, verbose=True,
                       task=task or ("auto" if generator else ds.task), random_state=seed,
                       exact_structure=exact_structure, constraints=list(constraints) or None)
    if unlabeled is not None:
        aug.set_params(unlabeled_value=_typed_marker(unlabeled, y))
    X_res, y_res = aug.fit_resample(X, y)
    import numpy as np

    n_real = len(y) - aug.n_unlabeled_
    _write_table(X_res, y_res, ds.target or "target", output,
                 mark={mark: np.arange(len(y_res)) >= n_real} if mark else None)
    if save_dir:
        aug.save(save_dir)
        click.echo(f"saved the model to {save_dir}")
    if generator is None:
        echo_rules(aug.model_)
    dropped = f" ({aug.n_unlabeled_} unlabeled rows used for pretraining)" if aug.n_unlabeled_ else ""
    click.echo(f"{ds.name}: {n_real} real + {len(y_res) - n_real} synthetic rows{dropped} -> {output}")


def _parse_where(texts: Any) -> dict[str, Any]:
    from ganaug.core.conditions import parse_where
    from ganaug.core.errors import ConditionError

    try:
        return parse_where(list(texts))
    except ConditionError as exc:
        raise click.BadParameter(str(exc), param_hint="--where") from None


def _check_not_input(output: str, data: str) -> None:
    """Refuse an output path that is the input file: the input would be replaced."""
    import os

    scheme, sep, rest = data.partition(":")
    source = rest if sep and scheme.lower() in ("csv", "parquet", "npz") else data
    if os.path.isfile(source) and os.path.exists(output) and os.path.samefile(source, output):
        raise click.UsageError(
            f"--output {output!r} is the input file {data!r}: writing there would replace the "
            "input; choose another output file"
        )


def _typed_marker(text: str, y: Any) -> Any:
    """The typed ``--unlabeled-value``: None, NaN, a number for a numeric target, else the text."""
    if text.lower() == "none":
        return None
    if text.lower() in ("nan", ""):
        return float("nan")
    import numpy as np

    if np.asarray(y).dtype.kind in "iuf":
        try:
            number = float(text)
        except ValueError:
            raise click.BadParameter(
                f"{text!r} is not a number, but the target's labels are numbers",
                param_hint="--unlabeled-value",
            ) from None
        return int(number) if number.is_integer() else number
    return text


@main.command("serve")
@click.argument("path", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--max-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Largest n one request may ask for.")
@click.option("--threads", type=click.IntRange(min=1), help=THREADS_HELP)
@click.option("--max-concurrent", type=click.IntRange(min=1), default=4, show_default=True,
              help="Sampling calls running at once, server-wide (later requests wait).")
@click.option("--cors", "cors", multiple=True, metavar="ORIGIN",
              help="Let web pages from ORIGIN call the server (repeatable; '*' for any).")
@click.option("--reload-interval", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds between checks for new, changed or removed .onnx files (0: only on "
                   "POST /v1/reload).")
@click.option("--body-timeout", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True, help="Seconds a request body may take to arrive (408 after).")
def serve_command(path, host, port, max_rows, threads, max_concurrent, cors=(),
                  reload_interval=2.0, body_timeout=5.0) -> None:
    """Serve exported generators (one .onnx file or a directory of them) over HTTP.

    A model's name is its file stem. Endpoints:

    \b
      GET  /health, /health/live, /health/ready
      GET  /metrics                   Prometheus: requests, latency, rows served
      GET  /docs, /openapi.json       API page and OpenAPI description
      GET  /v1/models, /v1/models/NAME
      POST /v1/models/NAME/sample     {"n": 100, "class": "yes", "seed": 1}
                                      JSON rows with their label, or CSV (Accept: text/csv)
      POST /v1/reload                 pick up new or changed files now
      /v2/...                         Open Inference Protocol (KServe, Triton clients):
                                      /v2/health/live|ready, /v2/models/NAME[/ready|/infer]

    \b
    Examples:
      ganaug serve ~/.cache/ganaug/onnx
      ganaug serve churn.onnx --port 9000 --cors http://localhost:3000
      curl -X POST localhost:8000/v1/models/churn/sample -d '{"n": 5}'
    """
    from ganaug.runtime.server import serve

    serve(path, host=host, port=port, max_rows=max_rows, n_threads=threads,
          max_concurrent=max_concurrent, cors_origins=cors, reload_interval=reload_interval,
          body_timeout=body_timeout)


#: the demo's regime: every class but the largest keeps this fraction of its rows in each
#: training split (the test splits keep every row), the case augmentation is for
RUN_IMBALANCE = 0.1


@main.command("run")
@click.argument("dataset", default=DEFAULT_DATASET)
@click.option("--target", help="Target column (CSV/Parquet data).")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True,
              help=PRESET_HELP)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=SEED_HELP)
@click.option("--epochs", type=click.IntRange(min=1), help=EPOCHS_HELP)
@click.option("-n", "n_rows", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Rows to sample with ONNX Runtime in step 3.")
@click.option("--splits", "n_splits", type=click.IntRange(min=2), default=5, show_default=True,
              help="Repeated stratified splits of the evaluation step.")
@click.option("--imbalance", type=click.FloatRange(0, 1, min_open=True), default=RUN_IMBALANCE,
              show_default=True,
              help="Fraction of every non-majority class kept in each training split (1: no cut).")
@click.pass_context
def run_command(ctx, dataset, target, preset, seed, epochs, n_rows, n_splits, imbalance) -> None:
    """The main job: pretrain, export to ONNX, sample, then measure whether the rows help.

    The evaluation step trains a fresh GAN on each split's training rows (not the stored
    model, which has seen every row) and prints the lift with a 95% interval and a verdict.

    \b
    Examples:
      ganaug run
      ganaug run wine --imbalance 0.2 --splits 10
      ganaug run data/churn.csv --target churn --imbalance 1
    """
    from ganaug.gan.store import Store
    from ganaug.registry.datasets import get_dataset

    ds = get_dataset(dataset, target=target)  # a bad name or file fails before any work
    name = store_key(dataset)
    store = Store()
    click.echo(f"[1/4] pretrain {name} (the stored model, fitted on every row)")
    ctx.invoke(pretrain_command, dataset=dataset, target=target, preset=preset, seed=seed,
               epochs=epochs)
    click.echo(f"[2/4] export {name} to ONNX")
    ctx.invoke(export_command, source=str(store.path(name)), output=str(store.onnx_path(name)))
    sample_path = store.root / "samples" / f"{name}.csv"
    sample_path.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"[3/4] sample {n_rows} rows with ONNX Runtime")
    ctx.invoke(sample_command, model=str(store.onnx_path(name)), n_rows=n_rows, seed=seed,
               output=str(sample_path))
    cut = None if imbalance >= 1 or ds.task == "regression" else imbalance
    regime = (f"every class but the largest keeps {cut:.0%} of its rows in each training split, "
              "the test split keeps them all" if cut else "training splits as drawn")
    kind = "stratified " if ds.task != "regression" else ""
    click.echo(f"[4/4] evaluate on {name}: {n_splits} {kind}60/40 splits; {regime}. Each split "
               "trains a fresh GAN on its training rows only (not the stored model, which has seen "
               "every row) and compares downstream models trained with and without added rows.")
    ctx.invoke(evaluate_command, dataset=dataset, target=target, preset=preset, seed=seed,
               epochs=epochs, imbalance=cut, n_splits=n_splits)
