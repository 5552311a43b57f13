"""GAN layer (torch): table codec, presets, networks, decode head, the conditional GAN, stored
artifacts and ONNX export.

May import :mod:`ganaug.core` and :mod:`ganaug.runtime` (to read an ``.onnx`` file back); never
scikit-learn or the layers above.
"""
