"""Pretraining on several processes with torch.distributed, launched by ``torchrun``.

Run as::

    torchrun --nproc-per-node 2 -m ganaug.distributed DATA --target COL -o ARTIFACT_DIR
    ganaug pretrain DATA --target COL --nproc-per-node 2          # the same, torchrun started for you

DATA is a Parquet file or a directory of Parquet files (each process reads only its row groups),
a CSV file (each process keeps a slice of the rows) or a registered dataset such as
``sklearn:wine`` (loaded by each process, which keeps its slice). Each process fits on its shard:
the codec from merged bounded samples, the copula from all-reduced sufficient statistics (exact),
the adversarial stage with the generator, critic and auxiliary classifier in
``DistributedDataParallel`` (gloo on CPU, NCCL on GPU). Rank 0 writes the artifact, the same
format as a single-process ``ganaug pretrain``. See ``docs/scaling.md``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from ganaug.cli.app import DEBUG_ENV_VAR, DEVICE_CHOICE, PRESET_CHOICE, USER_ERRORS, error_message
from ganaug.core.errors import ClusterError

#: options passed through from ``ganaug pretrain --nproc-per-node``
PASSED = ("target", "preset", "epochs", "device", "seed")
#: set by :func:`launch` for its ranks, which then leave the result line to the launching command
LAUNCHED_ENV = "GANAUG_LAUNCHED_BY_CLI"


def is_table_path(data: str) -> bool:
    """Whether ``data`` names a Parquet file or directory, or a CSV file (with or without a scheme)."""
    path = Path(_strip_scheme(data)).expanduser()
    return path.is_dir() or (path.is_file() and path.suffix in (".parquet", ".pq", ".csv"))


def _strip_scheme(data: str) -> str:
    for scheme in ("parquet:", "csv:"):
        if data.startswith(scheme):
            return data[len(scheme):]
    return data


def open_source(data: str, target: str | None) -> tuple[Any, str]:
    """A :class:`~ganaug.gan.tables.TableSource` for ``data`` and the dataset's store name."""
    from ganaug.gan.tables import TableSource

    if is_table_path(data):
        path = _strip_scheme(data)
        if not target:
            raise ValueError(f"{path} needs a target column: pass --target")
        from ganaug.cli.plumbing import store_key

        if Path(path).suffix == ".csv":
            return TableSource.csv(path, target), store_key(f"csv:{path}")
        return TableSource.parquet(path, target), store_key(f"parquet:{path}")
    from ganaug.cli.plumbing import check_target_present
    from ganaug.registry.datasets import get_dataset

    ds = get_dataset(data, target=target)
    if ds.task != "classification" or ds.modality != "table":
        raise ValueError(f"{ds.name}: distributed and streamed training take classification tables")
    X, y = ds.load()
    check_target_present(y, ds.target, data)
    return TableSource.frame(X, y), ds.name


def wants_source(data: str, stream: bool | None) -> bool:
    """Whether ``ganaug pretrain DATA`` reads DATA piece by piece rather than loading it.

    Yes for ``--stream``, a Parquet directory, and a Parquet file of more than
    :data:`~ganaug.gan.stream.STREAM_CELLS` cells (read from its metadata).
    """
    if stream:
        return True
    path = Path(_strip_scheme(data)).expanduser()
    if path.is_dir():
        return True
    if stream is None and path.is_file() and path.suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        from ganaug.gan.stream import STREAM_CELLS

        meta = pq.ParquetFile(path).metadata
        return meta.num_rows * meta.num_columns > STREAM_CELLS
    return False


def pretrain(
    data: str,
    target: str | None = None,
    output: str | os.PathLike[str] | None = None,
    *,
    preset: str = "default",
    epochs: int | None = None,
    device: str = "auto",
    seed: int = 0,
    stream: bool | None = None,
    verbose: bool = False,
) -> Path:
    """Pretrain on ``data`` and save the artifact: one rank of a torchrun job, or one process.

    Under ``torchrun`` (``WORLD_SIZE`` set) the default process group is initialised here (NCCL
    when the device is a GPU, gloo otherwise) and torn down at the end; otherwise this process
    trains alone (streaming a big Parquet table, see :func:`ganaug.gan.stream.fit_source`).

    Parameters
    ----------
    data : str
        Parquet file or directory, CSV file, or registered dataset name.
    target : str, optional
        Class column (required for files).
    output : path-like, optional
        Artifact directory (default: the store's directory for the dataset).
    preset, epochs, device, seed
        As for :class:`~ganaug.learn.sampler.GANAugmenter` (``seed`` as its ``random_state``:
        :func:`~ganaug.learn.sampler.fit_seeds` gives the training seed).
    stream : bool, optional
        Force (True) or forbid (False) streaming; default: by table size.
    verbose : bool
        Progress bar (rank 0 only).

    Returns
    -------
    Path
        The artifact directory (written by rank 0).

    Raises
    ------
    ClusterError
        If a rank on a GPU device has no GPU of its own (more ranks per node than GPUs).
    """
    import torch

    from ganaug.gan.parallel import Distributed, Local
    from ganaug.gan.store import Store
    from ganaug.gan.stream import fit_source
    from ganaug.gan.synthesizer import ConditionalGAN, resolve_device
    from ganaug.learn.sampler import GANAugmenter, fit_seeds

    source, name = open_source(data, target)
    path = Path(output) if output else Store().path(name)
    comm: Local = Local()
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        import torch.distributed as dist

        torch_device = resolve_device(device)
        if torch_device.type == "cuda":
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            here = int(os.environ.get("LOCAL_WORLD_SIZE", str(local_rank + 1)))
            visible = torch.cuda.device_count()
            if here > visible:  # NCCL needs a GPU of its own per rank; every rank stops here
                raise ClusterError(
                    f"{here} ranks on this node but {visible} GPU(s) visible: NCCL needs one GPU "
                    f"per rank; use --nproc-per-node {visible} or --device cpu (gloo)"
                )
            torch_device = torch.device("cuda", local_rank)
            torch.cuda.set_device(torch_device)
        dist.init_process_group("nccl" if torch_device.type == "cuda" else "gloo")
        comm = Distributed(torch_device)
    try:
        # the training seed GANAugmenter(random_state=seed).fit would use: one model per seed
        model = ConditionalGAN(preset=preset, epochs=epochs, device=device,
                               random_state=fit_seeds(seed)[0], verbose=verbose)
        fit_source(model, source, comm, stream=stream)
        if comm.rank == 0:
            GANAugmenter.from_generator(
                model, preset=preset, epochs=epochs, device=device, task="classification",
                random_state=seed,
            ).save(path)
        if distributed:
            dist.barrier()
    finally:
        if distributed:
            dist.destroy_process_group()
    return path


def launch(nproc: int, data: str, output: str | os.PathLike[str], **options: Any) -> None:
    """Run :func:`pretrain` on ``nproc`` local processes with torchrun (``torch.distributed.run``).

    Raises
    ------
    RuntimeError
        If a rank fails (its error is printed on stderr).
    """
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", "-m", "ganaug.distributed", data, "-o", str(output)]
    for key in PASSED:
        if options.get(key) is not None:
            command += [f"--{key}", str(options[key])]
    if options.get("stream") is not None:
        command.append("--stream" if options["stream"] else "--no-stream")
    # the ranks stay silent about the result: the launching command reports it once
    env = {**os.environ, LAUNCHED_ENV: "1"}
    status = subprocess.run(command, check=False, env=env).returncode
    if status:
        raise RuntimeError(f"distributed training failed (exit status {status}); see the errors above")


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
