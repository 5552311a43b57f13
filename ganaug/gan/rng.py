"""Training's random draws come from local ``torch.Generator`` objects only (torch).

torch's global RNG is process-wide: seeding it for a fit (``torch.manual_seed``, even inside
``torch.random.fork_rng``) races with fits in other threads and with the caller's own draws, and
``manual_seed`` reseeds every CUDA device. So a fit never touches it. Its draws take an explicit
generator: noise and batches directly, dropout through :class:`LocalDropout`, Gumbel-softmax
through :func:`gumbel_softmax`, and the layers' initialisation through :func:`local_draws`, which
routes the draws of module constructors (``nn.Linear.reset_parameters``) to a generator. The
draws are the ones a global RNG seeded with the same seed would make, so a CPU fit gives the
rows it gave when it seeded the global RNG.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

#: draws that take ``generator=`` but may be called without one (torch.nn.init calls these)
_TENSOR_DRAWS = frozenset(
    {
        torch.Tensor.uniform_,
        torch.Tensor.normal_,
        torch.Tensor.bernoulli_,
        torch.Tensor.exponential_,
        torch.Tensor.random_,
        torch.Tensor.cauchy_,
        torch.Tensor.log_normal_,
        torch.Tensor.geometric_,
        torch.rand,
        torch.randn,
        torch.randint,
        torch.randperm,
        torch.multinomial,
        torch.normal,
        torch.bernoulli,
    }
)


class _LocalDraws(TorchFunctionMode):
    """Give ``generator`` to every random draw that was called without one."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.generator = generator

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = dict(kwargs or {})
        wants = "generator" in kwargs or func in _TENSOR_DRAWS
        if wants and kwargs.get("generator") is None:
            kwargs["generator"] = self.generator
        return func(*args, **kwargs)


@contextmanager
def local_draws(generator: torch.Generator) -> Iterator[None]:
    """Route the random draws made in this block, in this thread, to ``generator``.

    Meant for building modules (their initialisation draws from the global RNG otherwise); torch
    function modes are thread-local, so other threads are unaffected. Every torch call in the
    block goes through a Python hook: keep hot loops out of it.
    """
    with _LocalDraws(generator):
        yield


class LocalDropout(nn.Dropout):
    """``nn.Dropout`` whose mask is drawn from :attr:`generator` when one is set.

    Same parameters (none) and state dict as ``nn.Dropout``, and the same values as
    ``torch.nn.functional.dropout`` on CPU for the same generator state. Without a generator it
    is ``nn.Dropout``.
    """

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or self.generator is None:
            return super().forward(x)
        if self.p == 1.0:
            return x * 0.0
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep.div_(1.0 - self.p)


@contextmanager
def dropout_generator(module: nn.Module, generator: torch.Generator) -> Iterator[None]:
    """Draw the dropout masks of ``module``'s :class:`LocalDropout` layers from ``generator``
    in this block (and go back to no generator after it)."""
    layers = [m for m in module.modules() if isinstance(m, LocalDropout)]
    for layer in layers:
        layer.generator = generator
    try:
        yield
    finally:
        for layer in layers:
            layer.generator = None


def gumbel_softmax(
    logits: torch.Tensor,
    tau: float,
    hard: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``torch.nn.functional.gumbel_softmax`` over the last dimension, drawing its Gumbel noise
    from ``generator`` (the same values as torch's for the same generator state)."""
    uniform = torch.empty_like(logits, memory_format=torch.legacy_contiguous_format)
    gumbels = -uniform.exponential_(generator=generator).log()
    soft = ((logits + gumbels) / tau).softmax(-1)
    if not hard:
        return soft
    index = soft.max(-1, keepdim=True)[1]
    one_hot = torch.zeros_like(logits, memory_format=torch.legacy_contiguous_format)
    return one_hot.scatter_(-1, index, 1.0) - soft.detach() + soft
