"""The networks: generators, discriminators and the decode head (torch only, no training loop).

The decode head turns raw generator outputs into ready-to-use values inside the graph (numeric
columns on their original scale, integers rounded, missing values as NaN, categorical columns as
integer codes). The same :class:`SamplingModule` serves torch sampling and ONNX export, so both paths
compute the same thing by construction.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from ganaug.codec import Span, TableCodec


class ResidualBlock(nn.Module):
    """``x + W2 act(W1 act(x))``: keeps gradients healthy in deeper generators."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.act(self.fc1(self.act(x))))


def one_hot(condition: torch.Tensor, n_classes: int) -> torch.Tensor:
    """One-hot encode class indices with a gather on an identity matrix (exports cleanly to ONNX)."""
    eye = torch.eye(n_classes, dtype=torch.float32, device=condition.device)
    return eye[condition.reshape(-1).long()]


class Generator(nn.Module):
    """Conditional generator: noise and class one-hot in, raw (pre-activation) outputs out.

    Parameters
    ----------
    noise_dim, n_classes, output_dim : int
        Input and output sizes.
    hidden : sequence of int
        ``architecture="classic"``: one hidden layer per entry (Linear-ReLU). ``"residual"``: a
        projection to ``hidden[0]`` followed by ``len(hidden)`` residual blocks.
    architecture : {"classic", "residual"}
        Layer layout.
    """

    def __init__(
        self,
        noise_dim: int,
        n_classes: int,
        output_dim: int,
        hidden: Sequence[int],
        architecture: str = "residual",
    ) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.n_classes = n_classes
        in_dim = noise_dim + n_classes
        layers: list[nn.Module] = []
        if architecture == "classic":
            for width in hidden:
                layers += [nn.Linear(in_dim, width), nn.ReLU()]
                in_dim = width
        else:
            layers.append(nn.Linear(in_dim, hidden[0]))
            layers += [ResidualBlock(hidden[0]) for _ in hidden]
            layers.append(nn.LeakyReLU(0.2))
            in_dim = hidden[0]
        layers.append(nn.Linear(in_dim, output_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([noise, one_hot(condition, self.n_classes)], dim=1))


class Discriminator(nn.Module):
    """Conditional critic over packs of ``pac`` rows (PacGAN), returns one score per pack.

    Parameters
    ----------
    input_dim, n_classes : int
        Encoded row width and number of classes.
    hidden : sequence of int
        Hidden widths.
    pac : int
        Rows judged jointly; packing makes mode collapse visible to the critic.
    dropout : float
        Dropout after each hidden layer.
    activation : {"leaky_relu", "relu"}
        Hidden activation.
    sigmoid : bool
        Append a sigmoid (classic BCE GAN); otherwise return raw scores.
    """

    def __init__(
        self,
        input_dim: int,
        n_classes: int,
        hidden: Sequence[int],
        pac: int = 1,
        dropout: float = 0.0,
        activation: str = "leaky_relu",
        sigmoid: bool = False,
    ) -> None:
        super().__init__()
        self.pac = pac
        self.n_classes = n_classes
        in_dim = (input_dim + n_classes) * pac
        layers: list[nn.Module] = []
        for width in hidden:
            layers.append(nn.Linear(in_dim, width))
            layers.append(nn.LeakyReLU(0.2) if activation == "leaky_relu" else nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            in_dim = width
        layers.append(nn.Linear(in_dim, 1))
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, rows: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        x = torch.cat([rows, one_hot(condition, self.n_classes)], dim=1)
        return self.net(x.reshape(-1, x.shape[1] * self.pac))


def activate(raw: torch.Tensor, spans: Sequence[Span], output: str, tau: float | None) -> torch.Tensor:
    """Apply each span's output activation to raw generator outputs.

    Parameters
    ----------
    raw : Tensor
        Generator outputs.
    spans : sequence of Span
        Output layout.
    output : {"linear", "sigmoid"}
        Activation for numeric spans (``sigmoid`` for the classic preset's [0, 1] data).
    tau : float or None
        Gumbel-softmax temperature for one-hot spans during training; ``None`` uses a plain
        softmax (sigmoid for the classic preset).
    """
    if output == "sigmoid":
        return torch.sigmoid(raw)
    parts = []
    start = 0
    for span in spans:
        block = raw[:, start : start + span.dim]
        start += span.dim
        if span.kind == "numeric":
            parts.append(block)
        elif tau is None:
            parts.append(torch.softmax(block, dim=1))
        else:
            parts.append(nn.functional.gumbel_softmax(block, tau=tau, hard=False))
    return torch.cat(parts, dim=1)


class DecodeHead(nn.Module):
    """Decode raw generator outputs into ``(numeric, codes)`` inside the graph.

    Implements :meth:`ganaug.codec.TableCodec.inverse_numeric` in torch: normal CDF, then linear
    interpolation in the quantile table (or min-max rescaling), rounding for integer columns and
    clipping to the observed range; missing indicators set NaN; categorical spans take an argmax.
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
        self.register_buffer("table", table.float())
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
        self.n_numeric = len(numeric)

    def forward(self, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = raw.shape[0]
        if self.n_numeric:
            u = raw.index_select(1, self.numeric_idx)
            if self.sigmoid:
                u = torch.sigmoid(u)
            if self.minmax:
                value = self.minimum + u.clamp(0.0, 1.0) * (self.maximum - self.minimum)
            else:
                p = 0.5 * (1.0 + torch.erf(u / math.sqrt(2.0)))
                pos = p.clamp(0.0, 1.0) * (self.lengths - 1.0)
                lo = torch.minimum(torch.floor(pos), self.lengths - 2.0).clamp(min=0.0)
                frac = pos - lo
                flat = self.table.reshape(-1)
                idx = lo.long() + self.row_offset
                q_lo = flat[idx]
                q_hi = flat[idx + 1]
                value = q_lo + frac * (q_hi - q_lo)
            value = torch.where(self.integer, torch.round(value), value)
            value = torch.minimum(torch.maximum(value, self.minimum), self.maximum)
            if self.missing_idx.numel():
                flags = raw.index_select(1, self.missing_idx)
                miss_logit = raw.index_select(1, self.missing_idx + 1)
                is_missing = (miss_logit > flags).float()
                mask = (is_missing @ self.missing_route) > 0.5
                value = torch.where(mask, torch.full_like(value, float("nan")), value)
        else:
            value = raw.new_zeros((n, 0))
        codes = [raw[:, s : s + d].argmax(dim=1, keepdim=True) for s, d in self.cat_slices]
        cat = torch.cat(codes, dim=1) if codes else torch.zeros((n, 0), dtype=torch.long)
        return value, cat


class SamplingModule(nn.Module):
    """Generator plus decode head: ``(noise, condition) -> (numeric, codes)``; what ONNX exports."""

    def __init__(self, generator: Generator, head: DecodeHead) -> None:
        super().__init__()
        self.generator = generator
        self.head = head

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.generator(noise, condition))
