"""Registry layer (pluggy): hook specifications, the plugin manager, and the dataset and model
registries that plugins fill.

May import :mod:`ganaug.learn` (model pipelines) and :mod:`ganaug.core`.
"""
