"""The critic as a feature extractor (torch only): rows in, hidden-layer activations out.

A GAN's critic learns, without labels, what tells real rows from generated ones; its hidden
layers are features a downstream model can use (Radford et al. 2016 used a DCGAN critic's
activations this way). Two modules here:

- :class:`CriticTrunk`: the hidden layers of a fitted :class:`~ganaug.gan.networks.Discriminator`
  applied to single encoded rows. The critic judges packs of ``pac`` rows (PacGAN); a row is
  judged as a pack of ``pac`` copies of itself, which folds the first layer's ``pac`` blocks into
  one (``sum_k W_k``). Its condition input is set to the mean of the class one-hots (a row's class
  is not known when extracting features).
- :class:`TableEncoder`: the codec's encoding (:meth:`ganaug.gan.codec.TableCodec.encode`) as a
  graph, so the exported feature extractor takes the user's rows (numeric values with NaN, and
  category codes) and ONNX Runtime alone computes the features. Its quantile look-up and inverse
  normal CDF (Acklam's rational approximation, relative error 1.2e-9) follow the codec's, tie
  rule included; they agree with it within float32 rounding.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ganaug.gan.codec import _P_EPS, TableCodec
from ganaug.gan.networks import Discriminator, one_hot

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
    """``(numeric, codes) -> encoded rows``: the codec's encoding inside the graph.

    ``numeric`` holds the numeric columns (float32, NaN for missing) in schema order, ``codes``
    each categorical column's index into its categories (int64).
    """

    def __init__(self, codec: TableCodec) -> None:
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
        self.register_buffer("minimum", torch.tensor([c.minimum or 0.0 for c in numeric]))
        span = [(c.maximum - c.minimum) or 1.0 for c in numeric] if self.minmax else [1.0] * len(numeric)
        self.register_buffer("span", torch.tensor(span))
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

    def _quantile_codes(self, numeric: torch.Tensor) -> torch.Tensor:
        x = numeric.double()
        q = self.table.unsqueeze(0)
        value = x.unsqueeze(2)
        n_le = (q <= value).sum(dim=2).double()
        n_lt = (q < value).sum(dim=2).double()
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
        # forward interpolation (the last of tied knots) and backward (the first), averaged as
        # the codec does so that a tie lands in the middle of its plateau
        forward = position(torch.minimum((n_le - 1.0).clamp(min=0.0), last - 1.0), True)
        backward = position(torch.minimum(n_lt.clamp(min=1.0), last) - 1.0, False)
        lower = (0.5 * (forward + backward) / last).float()
        upper = (0.5 * ((last - forward) + (last - backward)) / last).float()  # 1 - lower
        z = torch.where(
            lower <= 0.5,
            ndtri_lower(lower.clamp(min=_P_EPS, max=0.5)),
            -ndtri_lower(upper.clamp(min=_P_EPS, max=0.5)),
        )
        return torch.where(torch.isnan(numeric), 0.0, z)

    def forward(self, numeric: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        parts = []
        if numeric.shape[1]:
            if self.minmax:
                scaled = ((numeric - self.minimum) / self.span).clamp(0.0, 1.0)
                parts.append(torch.where(torch.isnan(numeric), 0.5, scaled))
            else:
                parts.append(self._quantile_codes(numeric))
        if self.n_missing:
            missing = torch.isnan(numeric.index_select(1, self.missing_columns)).float()
            parts.append(torch.stack([1.0 - missing, missing], dim=2).reshape(numeric.shape[0], -1))
        for j, dim in enumerate(self.categories):
            parts.append(one_hot(codes[:, j], dim))
        return torch.cat(parts, dim=1).index_select(1, self.order)


class CriticTrunk(nn.Module):
    """The hidden layers of a fitted critic, applied to single encoded rows.

    Parameters
    ----------
    critic : Discriminator
        A fitted critic; its weights are copied (the trunk can be fine-tuned on its own).
    dropout : float, default=0.0
        Dropout after each hidden layer (active in train mode only), for fine-tuning.

    The output is every hidden layer's activations side by side (:attr:`n_features` columns).
    """

    def __init__(self, critic: Discriminator, dropout: float = 0.0) -> None:
        super().__init__()
        linears = [m for m in critic.net if isinstance(m, nn.Linear)][:-1]  # the last one scores
        activations = [m for m in critic.net if isinstance(m, (nn.LeakyReLU, nn.ReLU))]
        first = linears[0]
        n_classes, pac = critic.n_classes, critic.pac
        width = first.out_features
        folded = first.weight.detach().reshape(width, pac, -1).sum(dim=1)
        input_dim = folded.shape[1] - n_classes
        condition = torch.full((n_classes,), 1.0 / n_classes)
        layer = nn.Linear(input_dim, width)
        with torch.no_grad():
            layer.weight.copy_(folded[:, :input_dim])
            layer.bias.copy_(first.bias.detach() + folded[:, input_dim:] @ condition)
        layers = [layer] + [_copy_linear(m) for m in linears[1:]]
        self.layers = nn.ModuleList(layers)
        self.activations = nn.ModuleList([_copy_activation(a) for a in activations[: len(layers)]])
        self.dropout = nn.Dropout(dropout)
        self.input_dim = input_dim
        self.n_features = sum(m.out_features for m in layers)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        out, h = [], rows
        for layer, act in zip(self.layers, self.activations):
            h = self.dropout(act(layer(h)))
            out.append(h)
        return torch.cat(out, dim=1)


def _copy_linear(layer: nn.Linear) -> nn.Linear:
    new = nn.Linear(layer.in_features, layer.out_features)
    new.load_state_dict(layer.state_dict())
    return new


def _copy_activation(act: nn.Module) -> nn.Module:
    return nn.LeakyReLU(act.negative_slope) if isinstance(act, nn.LeakyReLU) else nn.ReLU()


class FeatureModule(nn.Module):
    """``(numeric, codes) -> outputs``: the table encoder, the trunk, and an optional head.

    Without a head the outputs are the trunk's features; with one (a ``Linear`` from the features
    to ``K`` classes) they are class probabilities (softmax). What
    :func:`ganaug.gan.export.export_rows_onnx` writes.
    """

    def __init__(self, encoder: TableEncoder, trunk: CriticTrunk, head: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.trunk = trunk
        self.head = head

    def forward(self, numeric: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        features = self.trunk(self.encoder(numeric, codes))
        if self.head is None:
            return features
        return torch.softmax(self.head(features), dim=1)


def encoded(codec: TableCodec, X: Any) -> torch.Tensor:
    """The codec's encoding of ``X`` as a float32 tensor."""
    return torch.from_numpy(codec.encode(X))


def export_rows_onnx(
    module: FeatureModule,
    codec: TableCodec,
    path: Any,
    *,
    kind: str,
    extra: dict[str, Any] | None = None,
    opset: int = 18,
    exporter: str = "auto",
) -> Any:
    """Export a :class:`FeatureModule` to one self-describing ``.onnx`` file.

    The graph reads ``numeric`` (float32, NaN = missing) and ``codes`` (int64) as
    :func:`ganaug.core.rows.split_rows` gives them, and outputs ``features`` (``kind="features"``)
    or ``probabilities`` (``kind="classifier"``). The schema, ``kind`` and ``extra`` are JSON in
    ``metadata_props``; :mod:`ganaug.runtime.row_model` reads the file with ONNX Runtime alone.
    The exported graph is run once and compared with torch before the file is written
    (atomically).
    """
    from pathlib import Path

    import numpy as np
    import onnxruntime as ort

    from ganaug._version import __version__
    from ganaug.core.onnx_format import (
        ROWS_FORMAT,
        ROWS_FORMAT_VERSION,
        ROWS_INPUT_NAMES,
        ROWS_OUTPUT_NAMES,
        write_export,
    )
    from ganaug.gan.onnx_convert import convert, seal

    schema = codec.schema_
    module = module.eval()
    gen = torch.Generator().manual_seed(0)
    # three example rows (batch >= 2 keeps the batch dimension dynamic), drawn inside each
    # numeric column's range, with a missing value where the column has them
    numeric = torch.stack(
        [
            torch.tensor(c.minimum) + torch.rand(3, generator=gen) * (c.maximum - c.minimum)
            for c in schema.numeric_columns
        ],
        dim=1,
    ).float() if schema.numeric_columns else torch.zeros(3, 0)
    for i, c in enumerate(schema.numeric_columns):
        if c.has_missing:
            numeric[0, i] = math.nan
    codes = torch.stack(
        [torch.arange(3) % len(c.categories) for c in schema.categorical_columns], dim=1
    ) if schema.categorical_columns else torch.zeros(3, 0, dtype=torch.long)
    outputs = ROWS_OUTPUT_NAMES[kind]
    proto, used = convert(module, (numeric, codes), opset, exporter, ROWS_INPUT_NAMES, outputs)
    meta = {
        "format": ROWS_FORMAT,
        "format_version": ROWS_FORMAT_VERSION,
        "ganaug_version": __version__,
        "kind": kind,
        "schema": schema.to_dict(),
        "numeric_encoding": codec.numeric_encoding,
        "n_outputs": int(module(numeric, codes).shape[1]),
        "inputs": {
            "numeric": {"dtype": "float32", "columns": [c.name for c in schema.numeric_columns],
                        "meaning": "numeric columns on their original scale; NaN where missing"},
            "codes": {"dtype": "int64", "columns": [c.name for c in schema.categorical_columns],
                      "meaning": "index into the column's categories; a null category is missing"},
        },
        **(extra or {}),
    }
    blob, text = seal(
        proto, meta, f"ganaug {kind} extractor: (numeric, codes) -> {outputs[0]}.", used, opset,
        graph_name=f"ganaug_{kind}", model_version=ROWS_FORMAT_VERSION,
    )
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"numeric": numeric.numpy(), "codes": codes.numpy()})
    with torch.no_grad():
        want = module(numeric, codes).numpy()
    if not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        raise RuntimeError("the exported ONNX graph does not reproduce the torch outputs")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_export(path, blob, text)
    return path
