"""``torchrun -m ganaug.distributed``: the command line of one rank. It parses the rank's options
and calls :func:`ganaug.scaleout.pretrain` (the Python API, documented there)."""

from __future__ import annotations

import os

import click

from ganaug.cli.app import DEBUG_ENV_VAR, DEVICE_CHOICE, PRESET_CHOICE, USER_ERRORS, error_message
from ganaug.scaleout import LAUNCHED_ENV, pretrain


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("data")
@click.option("--target", help="Class column (Parquet/CSV data).")
@click.option("-o", "--output", type=click.Path(), help="Artifact directory (default: the store).")
@click.option("--preset", type=PRESET_CHOICE, default="default")
@click.option("--epochs", type=click.IntRange(min=1))
@click.option("--device", type=DEVICE_CHOICE, default="auto")
@click.option("--seed", type=click.IntRange(min=0), default=0)
@click.option("--stream/--no-stream", default=None, help="Stream the table (default: by size).")
def main(data: str, target: str | None, output: str | None, preset: str, epochs: int | None,
         device: str, seed: int, stream: bool | None) -> None:
    """One rank of ``torchrun -m ganaug.distributed DATA``: pretrain and (rank 0) save."""
    try:
        path = pretrain(data, target, output, preset=preset, epochs=epochs, device=device,
                        seed=seed, stream=stream, verbose=os.environ.get("RANK", "0") == "0")
    except USER_ERRORS as exc:
        if os.environ.get(DEBUG_ENV_VAR):
            raise
        raise click.ClickException(error_message(exc)) from exc
    if os.environ.get("RANK", "0") == "0" and not os.environ.get(LAUNCHED_ENV):
        click.echo(f"{data}: pretrained on {os.environ.get('WORLD_SIZE', '1')} process(es); "
                   f"artifact in {path}")
