"""Learn layer (scikit-learn, imbalanced-learn): the GANAugmenter sampler, the AugmentedEstimator,
the realism filter and the tabular preprocessing pipeline.

May import :mod:`ganaug.gan`, :mod:`ganaug.runtime` and :mod:`ganaug.core`.
"""
