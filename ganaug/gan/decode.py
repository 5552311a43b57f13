"""The decode head and the sampling module that torch sampling and ONNX export both run (torch
only): raw generator outputs to ``(numeric, codes)`` inside the graph.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ganaug.gan.codec import TableCodec
from ganaug.gan.copula import copula_base, normal_cdf
from ganaug.gan.networks import Generator, one_hot


def _integer_bounds(column: Any) -> tuple[float, float]:
    """The smallest and largest integers in ``[minimum, maximum]`` (the nearest integer to the
    middle when there is none: both knots inside one unit gap)."""
    low, high = math.ceil(column.minimum), math.floor(column.maximum)
    if low > high:
        low = high = round(0.5 * (column.minimum + column.maximum))
    return float(low), float(high)


class DecodeHead(nn.Module):
    """Decode raw generator outputs into ``(numeric, codes)`` inside the graph.

    The inverse of :class:`ganaug.gan.codec.TableCodec`'s numeric encoding: normal CDF, then linear
    interpolation in the quantile table (or min-max rescaling), rounding for integer columns and
    clipping to the observed range. Missing indicators and categorical spans are *sampled* from
    the distribution their logits give (softmax, or normalised sigmoids for the classic preset),
    by inverse CDF of one uniform per block, never by argmax (which is mode-seeking: a level that is
    never the most likely one would never be generated). The uniforms come in as the last
    :attr:`n_draws` noise columns, so the caller's noise fixes the rows.
    """

    def __init__(self, codec: TableCodec, output: str = "linear") -> None:
        super().__init__()
        schema = codec.schema_
        self.minmax = codec.numeric_encoding == "minmax"
        self.sigmoid = output == "sigmoid"
        numeric_idx, missing_idx, cat_slices = [], [], []
        numeric_of_missing = []
        start = 0
        for span in codec.spans_:
            if span.kind == "numeric":
                numeric_idx.append(start)
            elif span.kind == "missing":
                missing_idx.append(start)
                numeric_of_missing.append(len(numeric_idx) - 1)
            else:
                cat_slices.append((start, span.dim))
            start += span.dim
        self.cat_slices = cat_slices
        numeric = schema.numeric_columns
        n_q = max([len(c.quantiles) for c in numeric], default=2)
        # Pad every quantile table to one width by repeating its last value, so one gather serves
        # all columns; each column interpolates only over its own length.
        table = torch.zeros(len(numeric), n_q, dtype=torch.float64)
        lengths = []
        for i, column in enumerate(numeric):
            q = torch.tensor(column.quantiles, dtype=torch.float64)
            table[i, : len(q)] = q
            table[i, len(q) :] = q[-1]
            lengths.append(len(q))
        self.register_buffer("numeric_idx", torch.tensor(numeric_idx, dtype=torch.long))
        self.register_buffer("missing_idx", torch.tensor(missing_idx, dtype=torch.long))
        # (n_missing, n_numeric) selector: a matmul routes each indicator to its numeric column.
        route = torch.zeros(len(missing_idx), len(schema.numeric_columns))
        route[torch.arange(len(missing_idx)), torch.tensor(numeric_of_missing, dtype=torch.long)] = 1
        self.register_buffer("missing_route", route)
        # rows (q[j], q[j+1] - q[j]) of every column, stacked: interpolation is one ONNX Gather
        # of pairs (0.9 ms per 2,048 rows x 30 columns in ONNX Runtime, against 2.1 ms for the two
        # GatherND that 2-D advanced indexing into the table exports to)
        delta = torch.zeros_like(table)
        delta[:, :-1] = table[:, 1:] - table[:, :-1]
        self.register_buffer("q_pairs", torch.stack([table, delta], dim=-1).float().reshape(-1, 2))
        self.register_buffer("lengths", torch.tensor(lengths, dtype=torch.float32))
        self.register_buffer("row_offset", torch.arange(len(numeric), dtype=torch.long) * n_q)
        self.register_buffer(
            "minimum", torch.tensor([c.minimum for c in numeric], dtype=torch.float32)
        )
        self.register_buffer(
            "maximum", torch.tensor([c.maximum for c in numeric], dtype=torch.float32)
        )
        self.register_buffer(
            "integer", torch.tensor([c.integer for c in numeric], dtype=torch.bool)
        )
        # integer columns end inside [minimum, maximum] too: rounding a half-integer outermost
        # knot would step outside it, so they are clamped again to the integers inside
        bounds = [_integer_bounds(c) if c.integer else (c.minimum, c.maximum) for c in numeric]
        self.register_buffer("low", torch.tensor([b[0] for b in bounds], dtype=torch.float32))
        self.register_buffer("high", torch.tensor([b[1] for b in bounds], dtype=torch.float32))
        self.n_numeric = len(numeric)
        # Decode order of the raw columns: numeric values, missing "observed" flags, missing
        # "missing" logits, then the categorical blocks. SamplingModule re-orders the generator's
        # output layer once so that decoding reads contiguous slices (no column gathers).
        order = numeric_idx + missing_idx + [i + 1 for i in missing_idx]
        for s, d in cat_slices:
            order += list(range(s, s + d))
        self.register_buffer("order", torch.tensor(order, dtype=torch.long))
        self.n_missing = len(missing_idx)
        start = len(numeric_idx) + 2 * len(missing_idx)
        self.sorted_cat_slices = []
        for _, d in cat_slices:
            self.sorted_cat_slices.append((start, d))
            start += d
        flags = [bool(c.integer) for c in numeric]
        self.any_integer, self.all_integer = any(flags), bool(flags) and all(flags)
        #: noise columns the head consumes: one uniform (as a standard normal) per missing
        #: indicator, then one per categorical column
        self.n_draws = self.n_missing + len(cat_slices)

    def _probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        if self.sigmoid:
            s = torch.sigmoid(logits)
            return s / s.sum(dim=1, keepdim=True).clamp(min=1e-12)
        return torch.softmax(logits, dim=1)

    def forward(self, raw: torch.Tensor, draws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode raw generator outputs in the generator's own column layout.

        ``draws`` holds :attr:`n_draws` standard normal values per row (the sampling noise).
        """
        return self.decode_ordered(raw.index_select(1, self.order), draws)

    def decode_ordered(
        self, raw: torch.Tensor, draws: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode raw outputs whose columns are already in :attr:`order`."""
        n = raw.shape[0]
        uniform = normal_cdf(draws)
        k, m = self.n_numeric, self.n_missing
        if self.n_numeric:
            u = raw[:, :k]
            if self.sigmoid:
                u = torch.sigmoid(u)
            if self.minmax:
                value = self.minimum + u.clamp(0.0, 1.0) * (self.maximum - self.minimum)
            else:
                p = normal_cdf(u)
                pos = p.clamp(0.0, 1.0) * (self.lengths - 1.0)
                lo = torch.minimum(torch.floor(pos), self.lengths - 2.0).clamp(min=0.0)
                frac = pos - lo
                idx = (lo.long() + self.row_offset).reshape(-1)
                pairs = self.q_pairs.index_select(0, idx).reshape(n, k, 2)
                value = pairs[:, :, 0] + frac * pairs[:, :, 1]
            # clip, round, clip to the integers inside: the outermost knots of an integer column
            # may be half-integers (codec.quantile_knots), and round(0.5) = 0 is below 0.5
            value = torch.minimum(torch.maximum(value, self.minimum), self.maximum)
            if self.all_integer:
                value = torch.round(value)
            elif self.any_integer:
                value = torch.where(self.integer, torch.round(value), value)
            if self.any_integer:
                value = torch.minimum(torch.maximum(value, self.low), self.high)
            if m:
                observed, missing = raw[:, k : k + m], raw[:, k + m : k + 2 * m]
                if self.sigmoid:
                    observed, missing = torch.sigmoid(observed), torch.sigmoid(missing)
                    p_missing = missing / (observed + missing).clamp(min=1e-12)
                else:
                    p_missing = torch.sigmoid(missing - observed)
                is_missing = (uniform[:, :m] < p_missing).float()
                mask = (is_missing @ self.missing_route) > 0.5
                value = torch.where(mask, float("nan"), value)
        else:
            value = raw.new_zeros((n, 0))
        codes = []
        for j, (s, d) in enumerate(self.sorted_cat_slices):
            cdf = torch.cumsum(self._probabilities(raw[:, s : s + d]), dim=1)
            u = uniform[:, m + j : m + j + 1]
            # the level whose CDF interval holds u; the clamp guards against rounding at 1
            codes.append((cdf < u).sum(dim=1, keepdim=True).clamp(max=d - 1))
        cat = torch.cat(codes, dim=1) if codes else torch.zeros((n, 0), dtype=torch.long)
        return value, cat


class SamplingModule(nn.Module):
    """Generator plus decode head: ``(noise, condition) -> (numeric, codes)``; what ONNX exports.

    ``noise`` has :attr:`noise_dim` columns: the generator's noise, then the decode head's
    :attr:`DecodeHead.n_draws` sampling draws.

    Computes ``head(generator(noise, condition))`` with the generator's output layer (and its
    Gaussian-copula base, if any) copied once, at construction, with columns in the head's decode
    order (:attr:`DecodeHead.order`): decoding then reads contiguous slices instead of gathering
    columns (about 20% faster in ONNX Runtime), and the copula base is one product with the
    already concatenated input. A check on a few random rows at construction guarantees the
    outputs are the generator's; if not (a generator this module does not know), or when the
    generator has no linear output layer (the conv preset's), it falls back to
    ``head(generator(...))``. Build a new module after further training
    (:meth:`ganaug.gan.synthesizer.ConditionalGAN.sampling_module` does).
    """

    def __init__(self, generator: Generator, head: DecodeHead) -> None:
        super().__init__()
        self.head = head
        self.n_classes = generator.n_classes
        self.generator_noise_dim = generator.noise_dim
        self.noise_dim = generator.noise_dim + head.n_draws
        net = getattr(generator, "net", None)
        if not (isinstance(net, nn.Sequential) and isinstance(net[-1], nn.Linear)) or getattr(
            generator, "component_input", False
        ):
            # no linear output layer to re-order (the conv generator), or a residual that reads
            # the mixture component: decode as it comes
            self.fast, self.copula, self.generator = False, False, generator
            return
        last = net[-1]
        order = head.order.to(last.weight.device)
        self.body = nn.Sequential(*list(generator.net)[:-1])  # shares the layers, no copy
        self.register_buffer("out_weight", last.weight.detach().index_select(0, order).clone())
        self.register_buffer("out_bias", last.bias.detach().index_select(0, order).clone())
        self.copula = bool(getattr(generator, "copula", False))
        if self.copula:
            # every class block of the factor, and the means, in decode order
            dim = generator.base_mean.shape[1]
            factor = generator.base_factor.detach().reshape(generator.noise_dim, -1, dim)
            factor = factor.index_select(2, order).reshape(generator.noise_dim, -1)
            self.register_buffer("base_factor", factor.clone())
            self.register_buffer("base_mean", generator.base_mean.detach().index_select(1, order).clone())
            self.register_buffer("base_mask", generator.logit_mask.index_select(0, order).clone())
            self.register_buffer("component_cdf", generator.component_cdf.detach().clone())
        self.fast = True
        rng = torch.Generator(device="cpu").manual_seed(0)
        noise = torch.randn(4, generator.noise_dim, generator=rng).to(last.weight.device)
        condition = (torch.arange(4) % self.n_classes).to(last.weight.device)
        with torch.no_grad():
            expected = generator(noise, condition).index_select(1, order)
            ok = torch.allclose(self._raw(noise, condition), expected, rtol=1e-4, atol=1e-5)
        if not ok:
            self.fast = False
            self.generator = generator

    def _raw(self, noise: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        cond = one_hot(condition, self.n_classes)
        out = nn.functional.linear(self.body(torch.cat([noise, cond], dim=1)), self.out_weight, self.out_bias)
        if self.copula:
            out = out + copula_base(
                noise, cond, self.base_factor, self.base_mean, self.base_mask, self.component_cdf
            )
        return out

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noise, draws = noise[:, : self.generator_noise_dim], noise[:, self.generator_noise_dim :]
        if not self.fast:
            return self.head(self.generator(noise, condition), draws)
        return self.head.decode_ordered(self._raw(noise, condition), draws)
