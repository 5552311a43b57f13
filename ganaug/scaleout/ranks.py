"""Pretraining on several processes with torch.distributed, launched by ``torchrun``.

Run as::

    torchrun --nproc-per-node 2 -m ganaug.distributed DATA --target COL -o ARTIFACT_DIR
    ganaug pretrain DATA --target COL --nproc-per-node 2          # the same, torchrun started for you

DATA is read piece by piece (:mod:`ganaug.scaleout.sources`). Each process fits on its shard:
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

from ganaug.core.errors import ClusterError
from ganaug.scaleout.sources import open_source

#: options passed through from ``ganaug pretrain --nproc-per-node``
PASSED = ("target", "preset", "epochs", "device", "seed")
#: set by :func:`launch` for its ranks, which then leave the result line to the launching command
LAUNCHED_ENV = "GANAUG_LAUNCHED_BY_CLI"


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
