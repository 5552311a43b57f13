"""The one encoder of table rows, in torch: ``(numeric, codes) -> encoded matrix``.

Training (:meth:`ganaug.gan.codec.TableCodec.encode`), the critic's features and the exported
feature graphs (:mod:`ganaug.gan.critic_features`) all run :class:`TableEncoder`; the codec only
learns the layout (the :class:`Span` blocks, quantile knots, min-max bounds) and turns a table
into ``numeric`` values and category ``codes``.

Numeric columns: the quantile-normal code ``ndtri(p)``, where ``p`` is a value's position in the
column's quantile knots (ties land in the middle of their plateau, as scikit-learn's
QuantileTransformer does; the decode maps them back), or min-max to ``[0, 1]``. Missing numeric
values get an ``[observed, missing]`` pair, categories a one-hot block.

The precision follows the input's dtype. float64 ``numeric`` (training) takes the exact kernels:
a binary search of the knots and the inverse normal CDF of ``torch.special.ndtri``, in float64,
rounded to float32 at the end. float32 ``numeric`` (the ONNX graph, which has no search and no
``ndtri``) counts knots by comparison and uses Acklam's rational approximation of the inverse
normal CDF (relative error 1.2e-9) on the smaller tail; the two agree within float32 rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch
from torch import nn

#: a value at the very edge of the CDF would map to +-inf; clip probabilities to this margin.
P_EPS = 1e-7


@dataclass(frozen=True)
class Span:
    """One block of the encoded matrix.

    Attributes
    ----------
    kind : {"numeric", "categorical", "missing"}
        ``numeric``: one unbounded (quantile) or [0, 1] (min-max) value; ``categorical``: one-hot over
        the column's categories; ``missing``: one-hot [observed, missing] for a numeric column.
    dim : int
        Width of the block.
    column : int
        Index of the source column in the schema.
    """

    kind: Literal["numeric", "categorical", "missing"]
    dim: int
    column: int


class Layout(Protocol):
    """What the encoder reads of a fitted :class:`~ganaug.gan.codec.TableCodec`."""

    schema_: Any
    spans_: list[Span]
    numeric_encoding: str


# Acklam's coefficients for the inverse normal CDF
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)
_P_LOW = 0.02425


def _poly(coefficients: tuple[float, ...], x: torch.Tensor) -> torch.Tensor:
    out = torch.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        out = out * x + c
    return out


def ndtri_lower(p: torch.Tensor) -> torch.Tensor:
    """The inverse normal CDF for ``p`` in ``(0, 0.5]`` (Acklam's approximation).

    Taking the smaller tail keeps its precision in float32 (``1 - p`` would lose it).
    """
    q = torch.sqrt(-2.0 * torch.log(p))
    tail = _poly(_C, q) / (_poly(_D, q) * q + 1.0)
    c = p - 0.5
    r = c * c
    central = _poly(_A, r) * c / (_poly(_B, r) * r + 1.0)
    return torch.where(p < _P_LOW, tail, central)


class TableEncoder(nn.Module):
    """``(numeric, codes) -> encoded rows`` (float32), laid out by the codec's spans.

    ``numeric`` holds the numeric columns (NaN for missing) in schema order, float64 for the exact
    kernels or float32 for the graph's (see the module docstring); ``codes`` each categorical
    column's index into its categories (int64).
    """

    def __init__(self, codec: Layout) -> None:
        super().__init__()
        schema = codec.schema_
        numeric = schema.numeric_columns
        self.minmax = codec.numeric_encoding == "minmax"
        n_q = max([len(c.quantiles) for c in numeric], default=2)
        table = torch.full((len(numeric), n_q), math.inf, dtype=torch.float64)
        for i, column in enumerate(numeric):
            table[i, : len(column.quantiles)] = torch.tensor(column.quantiles, dtype=torch.float64)
        # +inf padding is never <= or < a value, so it never counts in the look-up
        # float64: knots a hair apart (0.9999999999 and 1.0) must stay apart, as in the codec
        self.register_buffer("table", table)
        self.register_buffer(
            "last", torch.tensor([len(c.quantiles) - 1.0 for c in numeric], dtype=torch.float64)
        )
        # float64, cast to the input's dtype: the float32 graph rounds them as before
        self.register_buffer(
            "minimum", torch.tensor([c.minimum or 0.0 for c in numeric], dtype=torch.float64)
        )
        span = [(c.maximum - c.minimum) or 1.0 for c in numeric] if self.minmax else [1.0] * len(numeric)
        self.register_buffer("span", torch.tensor(span, dtype=torch.float64))
        self.categories = [len(c.categories) for c in schema.categorical_columns]
        self.n_missing = sum(c.has_missing for c in numeric)
        self.register_buffer(
            "missing_columns",
            torch.tensor([i for i, c in enumerate(numeric) if c.has_missing], dtype=torch.long),
        )
        # pieces in computing order: numeric codes, [observed, missing] pairs, one-hot blocks;
        # ``order`` puts them in the codec's span order
        positions: dict[tuple[str, int], int] = {}
        start = 0
        for i in range(len(numeric)):
            positions[("numeric", i)] = start
            start += 1
        for j in range(self.n_missing):
            positions[("missing", j)] = start
            start += 2
        for j, dim in enumerate(self.categories):
            positions[("categorical", j)] = start
            start += dim
        kinds = {c.name: c.kind for c in schema.columns}
        index_of = {"numeric": {}, "categorical": {}}  # column position -> index in its kind
        for position, column in enumerate(schema.columns):
            index_of[kinds[column.name]][position] = len(index_of[kinds[column.name]])
        missing_index = {}
        order: list[int] = []
        for span in codec.spans_:
            if span.kind == "numeric":
                order.append(positions[("numeric", index_of["numeric"][span.column])])
            elif span.kind == "missing":
                j = missing_index.setdefault(span.column, len(missing_index))
                order += [positions[("missing", j)], positions[("missing", j)] + 1]
            else:
                first = positions[("categorical", index_of["categorical"][span.column])]
                order += list(range(first, first + span.dim))
        self.register_buffer("order", torch.tensor(order, dtype=torch.long))

    def _positions(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Knots ``<= x`` and ``< x`` per value (+inf padding never counts)."""
        if x.dtype == torch.float64:  # a binary search: no (rows, columns, knots) block
            values = x.T.contiguous()
            n_le = torch.searchsorted(self.table, values, right=True).T
            n_lt = torch.searchsorted(self.table, values, right=False).T
            return n_le.double(), n_lt.double()
        value = x.double().unsqueeze(2)
        q = self.table.unsqueeze(0)
        return (q <= value).sum(dim=2).double(), (q < value).sum(dim=2).double()

    def _quantile_codes(self, numeric: torch.Tensor) -> torch.Tensor:
        exact = numeric.dtype == torch.float64
        x = numeric.double()
        n_le, n_lt = self._positions(numeric)
        rows = torch.arange(self.table.shape[0], device=x.device) * self.table.shape[1]
        flat = self.table.reshape(-1)

        def position(j: torch.Tensor, inclusive: bool) -> torch.Tensor:
            # j + the fraction of the way from knot j to knot j + 1, as np.interp computes it
            q0 = flat.index_select(0, (j.long() + rows).reshape(-1)).reshape(j.shape)
            q1 = flat.index_select(0, (j.long() + 1 + rows).reshape(-1)).reshape(j.shape)
            width = q1 - q0
            inside = ((x - q0) / torch.where(width > 0, width, 1.0)).clamp(0.0, 1.0)
            edge = (x >= q1) if inclusive else (x > q0)
            return j + torch.where(width > 0, inside, edge.double())

        last = self.last
        # forward interpolation (the last of tied knots) and backward (the first), averaged so
        # that a tie lands in the middle of its plateau
        forward = position(torch.minimum((n_le - 1.0).clamp(min=0.0), last - 1.0), True)
        backward = position(torch.minimum(n_lt.clamp(min=1.0), last) - 1.0, False)
        if exact:
            p = (0.5 * (forward + backward) / last).clamp(P_EPS, 1.0 - P_EPS)
            z = torch.special.ndtri(p)
        else:
            lower = (0.5 * (forward + backward) / last).float()
            upper = (0.5 * ((last - forward) + (last - backward)) / last).float()  # 1 - lower
            z = torch.where(
                lower <= 0.5,
                ndtri_lower(lower.clamp(min=P_EPS, max=0.5)),
                -ndtri_lower(upper.clamp(min=P_EPS, max=0.5)),
            )
        return torch.where(torch.isnan(numeric), 0.0, z).float()

    def forward(self, numeric: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        parts = []
        if numeric.shape[1]:
            if self.minmax:
                low, span = self.minimum.to(numeric.dtype), self.span.to(numeric.dtype)
                scaled = ((numeric - low) / span).clamp(0.0, 1.0)
                parts.append(torch.where(torch.isnan(numeric), 0.5, scaled).float())
            else:
                parts.append(self._quantile_codes(numeric))
        if self.n_missing:
            missing = torch.isnan(numeric.index_select(1, self.missing_columns)).float()
            parts.append(torch.stack([1.0 - missing, missing], dim=2).reshape(numeric.shape[0], -1))
        for j, dim in enumerate(self.categories):
            # one-hot as a gather on an identity matrix (exports cleanly to ONNX)
            eye = torch.eye(dim, dtype=torch.float32, device=codes.device)
            parts.append(eye.index_select(0, codes[:, j].reshape(-1).long()))
        return torch.cat(parts, dim=1).index_select(1, self.order)
