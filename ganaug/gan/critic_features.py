"""The critic as a feature extractor (torch only): rows in, hidden-layer activations out.

A GAN's critic learns, without labels, what tells real rows from generated ones; its hidden
layers are features a downstream model can use (Radford et al. 2016 used a DCGAN critic's
activations this way). Two modules here:

- :class:`CriticTrunk`: the hidden layers of a fitted :class:`~ganaug.gan.networks.Discriminator`
  applied to single encoded rows. The critic judges packs of ``pac`` rows (PacGAN); a row is
  judged as a pack of ``pac`` copies of itself, which folds the first layer's ``pac`` blocks into
  one (``sum_k W_k``). Its condition input is set to the mean of the class one-hots (a row's class
  is not known when extracting features).
- :class:`FeatureModule`: the one encoder of rows (:class:`ganaug.gan.encoder.TableEncoder`, the
  one training uses) then the trunk, so the exported feature extractor takes the user's rows
  (numeric values with NaN, and category codes) and ONNX Runtime alone computes the features.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ganaug.gan.codec import TableCodec
from ganaug.gan.encoder import TableEncoder
from ganaug.gan.networks import Discriminator


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
