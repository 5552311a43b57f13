"""What a training process needs to know of its peers: one process, or a torch.distributed group.

The training loop asks the same questions whether it runs alone or as one rank of a ``torchrun``
job: sum these statistics over everyone's rows, average this held-out score, did anyone run out
of time, wrap this network for gradient averaging. :class:`Local` answers them for one process
(identity operations); :class:`Distributed` answers them with collectives of the default process
group (gloo on CPU, NCCL on GPU), so every rank takes the same decisions and none waits forever
in a collective the others skipped.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Local:
    """A single training process (the default): every collective is the identity."""

    rank: int = 0
    world_size: int = 1

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``tensor`` over all processes."""
        return tensor

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true in any process."""
        return bool(flag)

    def mean(self, value: float, weight: float = 1.0) -> float:
        """The ``weight``-weighted mean of ``value`` over the processes (a weight of 0 abstains)."""
        return float(value)

    def gather(self, obj: Any) -> list[Any]:
        """Every process's ``obj``, in rank order (pickled between processes of one job)."""
        return [obj]

    def wrap(self, module: nn.Module) -> nn.Module:
        """The module whose backward averages gradients over the processes."""
        return module


class Distributed(Local):
    """One rank of an initialised ``torch.distributed`` default process group.

    Parameters
    ----------
    device : torch.device
        Where collective tensors live: the CPU for gloo, this rank's GPU for NCCL.
    """

    def __init__(self, device: torch.device) -> None:
        import torch.distributed as dist

        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("torch.distributed is not initialised: launch with torchrun")
        self._dist = dist
        self.device = device
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        out = tensor.to(self.device).clone()
        self._dist.all_reduce(out, op=self._dist.ReduceOp.SUM)
        return out.to(tensor.device)

    def any(self, flag: bool) -> bool:
        return bool(self.sum(torch.tensor([float(bool(flag))], dtype=torch.float64)) > 0)

    def mean(self, value: float, weight: float = 1.0) -> float:
        total = self.sum(torch.tensor([value * weight, weight], dtype=torch.float64))
        return float(total[0] / total[1]) if float(total[1]) > 0 else float(value)

    def gather(self, obj: Any) -> list[Any]:
        out: list[Any] = [None] * self.world_size
        self._dist.all_gather_object(out, obj)
        return out

    def wrap(self, module: nn.Module) -> nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        # construction broadcasts rank 0's parameters and buffers, so every rank starts equal
        return DistributedDataParallel(module, device_ids=ids)


def resolve_device(device: str) -> torch.device:
    """Map ``"auto"|"cpu"|"cuda"|"cuda:N"`` to a torch device, with a clear error."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda'; got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} requested but CUDA is not available")
        return torch.device(device)
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda'; got {device!r}")
