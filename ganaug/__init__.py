"""ganaug: generative pretraining that makes training sets better.

Heavy modules (torch, scikit-learn) are imported lazily on first attribute access so that
``import ganaug.runtime`` stays light: the ONNX runtime path needs neither torch nor scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

from ganaug._version import __version__

# public name -> module that defines it
_LAZY = {
    "GANAugmenter": "ganaug.learn.sampler",
    "AugmentedEstimator": "ganaug.learn.estimator",
    "GANFeatures": "ganaug.learn.features",
    "DiscriminatorClassifier": "ganaug.learn.discriminator",
    "ConditionalGAN": "ganaug.gan.synthesizer",
    "GANConfig": "ganaug.gan.presets",
    "TableCodec": "ganaug.gan.codec",
    "export_onnx": "ganaug.gan.export",
    "OnnxGenerator": "ganaug.runtime.generator",
    "hookimpl": "ganaug.registry.hookspecs",
}

__all__ = ["__version__", *_LAZY.keys()]  # noqa: PLE0604


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ganaug' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
