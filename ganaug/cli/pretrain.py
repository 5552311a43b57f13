"""``ganaug pretrain``: train a GAN on a dataset and store it, or reuse the stored artifact when it
was trained on the same data with the same options (the data's source is noted beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ganaug.cli.app import (
    DEFAULT_DATASET,
    DEVICE_CHOICE,
    EPOCHS_HELP,
    PRESET_CHOICE,
    PRESET_HELP,
    SEED_HELP,
    TASK_CHOICE,
    main,
)
from ganaug.cli.plumbing import _load
from ganaug.registry.datasets import store_key

EXACT_OPTION = click.option(
    "--exact-structure/--no-exact-structure", "exact_structure", default=True, show_default=True,
    help="Learn each column's precision and the exact relations between columns (sums, copies, "
         "a column that determines another) and keep them in the synthetic rows.")
CONSTRAINT_OPTION = click.option(
    "--constraint", "constraints", multiple=True, metavar="RULE",
    help="A rule every synthetic row obeys: 'end >= start', 'amount in [0, limit]', "
         "'fixed city, zip'; repeat for several. Refused if the data breaks it.")

@main.command("pretrain")
@click.argument("dataset", default=DEFAULT_DATASET)
@click.option("--target", help="Target column (required for CSV and Parquet files).")
@click.option("--task", type=TASK_CHOICE, help="Override the inferred task.")
@click.option("--preset", type=PRESET_CHOICE, default="default", show_default=True,
              help=PRESET_HELP)
@click.option("--epochs", type=click.IntRange(min=1), help=EPOCHS_HELP)
@click.option("--device", type=DEVICE_CHOICE, default="auto", show_default=True,
              help="Where to train: auto picks a GPU when there is one.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=SEED_HELP)
@click.option("--force", is_flag=True, help="Retrain even if an artifact is stored.")
@click.option("-o", "--output", type=click.Path(), help="Artifact directory (default: the store).")
@click.option("--nproc-per-node", type=click.IntRange(min=1),
              help="Train on N local processes with torchrun (torch.distributed, DDP).")
@click.option("--stream/--no-stream", default=None,
              help="Read the table batch by batch (default: for Parquet tables over 2e7 cells).")
@EXACT_OPTION
@CONSTRAINT_OPTION
def pretrain_command(dataset, target, preset, epochs, device, seed, force, output,
                     nproc_per_node, stream, task=None, exact_structure=True, constraints=()) -> None:
    """Pretrain a class-conditional GAN on DATASET and store the artifact.

    DATASET is a dataset name (`ganaug datasets` lists them) or a CSV, Parquet or .npz file. The
    artifact is stored under the dataset's name, or a file's stem (churn for data/churn.csv),
    the name that `ganaug export` and `ganaug sample` then take.

    \b
    Examples:
      ganaug pretrain breast_cancer
      ganaug pretrain data/churn.csv --target churn --seed 1
      ganaug pretrain data/big.parquet --target label --nproc-per-node 2
    """
    from ganaug import scaleout
    from ganaug.core.errors import ArtifactError
    from ganaug.core.files import exit_on_sigterm
    from ganaug.gan.artifact import check_destination
    from ganaug.gan.store import Store
    from ganaug.learn.sampler import GANAugmenter

    if output:
        try:
            check_destination(output)
        except ArtifactError as exc:
            raise click.UsageError(f"--output: {exc}") from None
    by_source = nproc_per_node or scaleout.wants_source(dataset, stream)
    if by_source:
        source, name = scaleout.open_source(dataset, target)
        source.shard((nproc_per_node or 1) - 1, nproc_per_node or 1)  # too few shards: refuse now
        ds, X, y = None, None, None
    else:
        ds, X, y = _load(dataset, target, task)
        name = store_key(dataset)
    path = Path(output) if output else check_destination(Store().path(name))
    if not force and (path / "ganaug.json").is_file():
        stored = _stored_options(path)
        wanted = {"preset": preset, "epochs": epochs, "seed": seed}
        source, current = _read_source(path), _source_of(dataset, target)
        if source is not None and source != current:  # another file of the same stem
            click.echo(f"{name}: the stored artifact was trained on {source.get('data')}; "
                       f"retraining on {current['data']}")
        elif stored == wanted:
            click.echo(f"{name}: reusing the artifact in {path} (use --force to retrain)")
            return
        else:
            click.echo(f"{name}: the stored artifact was trained with {_options_text(stored)}; "
                       f"retraining with {_options_text(wanted)}")
    options = {"target": target, "preset": preset, "epochs": epochs, "device": device,
               "seed": seed, "stream": stream}
    if nproc_per_node and nproc_per_node > 1:
        scaleout.launch(nproc_per_node, dataset, path, **options)
        _record_source(path, dataset, target)
        click.echo(f"{name}: pretrained on {nproc_per_node} processes; artifact in {path}")
        return
    if by_source:
        options.pop("target")
        scaleout.pretrain(dataset, target, path, verbose=True, **options)
        _record_source(path, dataset, target)
        click.echo(f"{name}: pretrained {preset!r} preset from {source.n_rows} rows; artifact in {path}")
        return
    aug = GANAugmenter(preset=preset, epochs=epochs, device=device, verbose=True, task=ds.task,
                       random_state=seed, exact_structure=exact_structure,
                       constraints=list(constraints) or None)
    with exit_on_sigterm():  # a SIGTERM mid-save still removes the temporary files
        aug.fit(X, y)
        aug.save(path)
    _record_source(path, dataset, target)
    model = aug.model_
    click.echo(
        f"{name}: pretrained {preset!r} preset for {model.n_steps_} steps ({model.n_epochs_} epochs) "
        f"on {len(y)} rows; "
        f"artifact in {path}"
    )
    echo_rules(model)


def _stored_options(path: Path) -> dict[str, Any] | None:
    """The preset, epochs and seed a stored artifact was trained with (None if unreadable)."""
    from ganaug.core.errors import ArtifactError
    from ganaug.gan.artifact import read_meta

    try:
        extra = read_meta(path).get("extra", {})
    except ArtifactError:
        return None
    params = extra.get("augmenter_params", {})
    return {"preset": extra.get("preset"), "epochs": params.get("epochs"),
            "seed": params.get("random_state")}


SOURCE_FILE = "source.json"


def _source_of(dataset: str, target: str | None) -> dict[str, Any]:
    """What an artifact was trained on: a file's absolute path (and target), or a dataset name."""
    from ganaug.registry.datasets import file_stem

    data = store_key(dataset)  # a registered dataset: its name (sklearn:wine and wine agree)
    if file_stem(dataset) is not None:
        _, sep, rest = dataset.partition(":")
        path = rest if sep and not Path(dataset).exists() else dataset
        data = str(Path(path).expanduser().resolve())
    return {"data": data, "target": target}


def _record_source(path: Path, dataset: str, target: str | None) -> None:
    """Note the training data next to the artifact, so a file of the same stem is not mistaken
    for it (the store is keyed by the stem)."""
    import json

    from ganaug.core.files import atomic_write_bytes

    atomic_write_bytes(path / SOURCE_FILE, json.dumps(_source_of(dataset, target)).encode())


def _read_source(path: Path) -> dict[str, Any] | None:
    import json

    try:
        return json.loads((path / SOURCE_FILE).read_text())
    except (OSError, ValueError):
        return None


def _options_text(options: dict[str, Any] | None) -> str:
    if options is None:
        return "unknown options"
    return ", ".join(f"{k}={v if v is not None else 'auto'}" for k, v in options.items())


def echo_rules(model: Any) -> None:
    """The learned relations and the constraints, one line each."""
    lines = model.history_.get("exact", []) if isinstance(getattr(model, "history_", None), dict) else []
    for line in lines:
        click.echo(f"  kept: {line}")
