"""The input guard of exported graphs: rows with an unknown class or non-finite noise are marked.

ganaug's own samplers check their inputs before running, but an exported file is also run by
other clients (ONNX Runtime for Node, C#, Java...). Without the guard, ``condition=-1`` silently
gave the last class (ONNX ``Gather`` wraps negative indices), an index ``>= n_classes`` failed the
whole call, and one NaN in the noise failed the whole batch with an out-of-bounds ``Gather`` in the
quantile decode. With it, each such row comes out as NaN in every ``numeric`` column and ``-1``
in every ``codes`` column, and the other rows of the batch are unaffected.
"""

from __future__ import annotations

import torch
from torch import nn

#: finite noise is clipped to this magnitude first, so that no layer can overflow to inf - inf
#: (standard normal noise never comes near it, so valid rows are unchanged)
NOISE_LIMIT = 1e6


class InputGuard(nn.Module):
    """Wrap a ``(noise, condition) -> (numeric, codes)`` module with the input guard.

    Parameters
    ----------
    module : nn.Module
        The sampling module (:class:`ganaug.gan.decode.SamplingModule`).
    n_classes : int
        Valid condition indices are ``0 .. n_classes - 1``.
    """

    def __init__(self, module: nn.Module, n_classes: int) -> None:
        super().__init__()
        self.module = module
        self.n_classes = int(n_classes)

    def forward(
        self, noise: torch.Tensor, condition: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # a row sum is NaN or infinite when the row holds a NaN or an infinity (or when finite
        # values near float32's limit overflow it): one reduction instead of a test per value
        finite = torch.isfinite(noise.sum(dim=1))
        valid = finite & (condition >= 0) & (condition < self.n_classes)
        safe_noise = torch.where(finite.unsqueeze(1), noise, 0.0).clamp(-NOISE_LIMIT, NOISE_LIMIT)
        numeric, codes = self.module(safe_noise, torch.where(valid, condition, 0))
        keep = valid.unsqueeze(1)
        numeric = torch.where(keep, numeric, torch.full_like(numeric, float("nan")))
        codes = torch.where(keep, codes, torch.full_like(codes, -1))
        return numeric, codes
