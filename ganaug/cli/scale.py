"""``ganaug sample --engine dask``: a partitioned Parquet dataset written by Dask workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

ENGINE_CHOICE = click.Choice(["onnxruntime", "dask"])


def check_engine_options(
    engine: str, scheduler: str | None, npartitions: int | None, output: str | None
) -> None:
    """Refuse Dask options without ``--engine dask``, and ``--engine dask`` without ``-o DIR``."""
    if engine != "dask":
        given = [
            name
            for name, value in (("--scheduler", scheduler), ("--npartitions", npartitions))
            if value is not None
        ]
        if given:
            raise click.UsageError(f"{' and '.join(given)} apply only with --engine dask")
        return
    if not output:
        raise click.UsageError("--engine dask writes a Parquet dataset: give its directory with -o")


def dataset_dir(output: str) -> str:
    """A directory path as printed: with exactly one trailing separator (``out/``, never ``out//``)."""
    return os.path.join(str(Path(output)), "")


def sample_with_dask(
    model: Path,
    n_rows: int,
    label: str | None,
    seed: int,
    output: str,
    scheduler: str | None,
    npartitions: int | None,
    workers: int | None,
    timeout: float,
) -> None:
    """Sample ``n_rows`` on a Dask cluster (``scheduler``, or a local one) into ``output``/."""
    import ganaug.dask as gd  # ImportError with the install hint when dask is missing
    from ganaug.cli.plumbing import _parse_label
    from ganaug.runtime.partitions import open_generator

    gd.check_output_dir(output)  # before starting a cluster
    gen = open_generator(model)
    y: Any = None if label is None else _parse_label(label, gen.classes_)
    with gd.dask_client(scheduler, n_workers=workers, timeout=timeout) as client:
        frame = gd.sample(model, n_rows, npartitions=npartitions, random_state=seed, y=y)
        gd.write_parquet(frame, output)
        where = scheduler or f"a local cluster of {len(client.scheduler_info()['workers'])} workers"
    click.echo(
        f"wrote {n_rows} rows in {frame.npartitions} Parquet files to {dataset_dir(output)} "
        f"({where})", err=True
    )
