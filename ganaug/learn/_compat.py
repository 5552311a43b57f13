"""The one place ganaug reaches into scikit-learn's private modules.

Everything else in :mod:`ganaug.learn` imports these names from here, so a scikit-learn release
that moves them needs one edit. Parameter validation (``_param_validation``) has no public
equivalent yet (imbalanced-learn's samplers use the same module), nor has the
validation of ``sample_weight``.
"""

from __future__ import annotations

from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight as check_sample_weight

__all__ = ["HasMethods", "Interval", "StrOptions", "check_sample_weight", "safe_indexing"]
