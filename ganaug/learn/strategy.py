"""How many rows an over-sampler adds per class, from the class counts alone.

:class:`~ganaug.learn.sampler.GANAugmenter` resolves ``sampling_strategy`` with imbalanced-learn's
``check_sampling_strategy``, which needs the whole ``y``. A table that does not fit in memory (a
``dask.dataframe``, see :func:`ganaug.dask.augment`) only has its class counts, so
:func:`oversampling_targets` applies imbalanced-learn's over-sampling rules to the counts; the
tests check it against ``check_sampling_strategy`` for every kind of strategy.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

__all__ = ["grow", "oversampling_targets"]


def oversampling_targets(class_counts: Mapping[Any, int], sampling_strategy: Any) -> OrderedDict:
    """Rows to add per targeted class, as imbalanced-learn's over-samplers compute them.

    Parameters
    ----------
    class_counts : mapping
        Rows per class label.
    sampling_strategy : str, float or dict
        ``"auto"``, ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``, a float
        in (0, 1] (binary only) or a dict ``{class: rows wanted}``, with imbalanced-learn's
        meaning. A callable needs the whole ``y`` and is refused.

    Returns
    -------
    OrderedDict
        ``{class: rows to add}`` for the targeted classes, sorted by class.
    """
    stats = dict(sorted((label, int(count)) for label, count in class_counts.items()))
    if len(stats) <= 1:
        raise ValueError(
            f"The target 'y' needs to have more than 1 class. Got {len(stats)} class instead"
        )
    majority = max(stats, key=stats.get)
    minority = min(stats, key=stats.get)
    top = stats[majority]
    if isinstance(sampling_strategy, str):
        chosen = {
            "minority": [minority],
            "not minority": [c for c in stats if c != minority],
            "not majority": [c for c in stats if c != majority],
            "auto": [c for c in stats if c != majority],
            "all": list(stats),
        }.get(sampling_strategy)
        if chosen is None:
            raise ValueError(
                "sampling_strategy must be 'auto', 'minority', 'not minority', 'not majority' or "
                f"'all' for over-sampling; got {sampling_strategy!r}"
            )
        return OrderedDict((c, top - stats[c]) for c in sorted(chosen))
    if isinstance(sampling_strategy, Mapping):
        missing = [c for c in sampling_strategy if c not in stats]
        if missing:
            raise ValueError(f"The {missing} target class is/are not present in the data.")
        for c, wanted in sampling_strategy.items():
            if wanted < stats[c]:
                raise ValueError(
                    "With over-sampling methods, the number of samples in a class should be "
                    "greater or equal to the original number of samples. Originally, there is "
                    f"{stats[c]} "
                    f"samples and {wanted} samples are asked (class {c!r})."
                )
        return OrderedDict(
            sorted((c, int(wanted) - stats[c]) for c, wanted in sampling_strategy.items())
        )
    if isinstance(sampling_strategy, numbers.Real) and not isinstance(sampling_strategy, bool):
        if not 0 < sampling_strategy <= 1:
            raise ValueError(
                f"a float sampling_strategy must be in (0, 1]; got {sampling_strategy}"
            )
        if len(stats) != 2:
            raise ValueError(
                '"sampling_strategy" can be a float only when the type of target is binary.'
            )
        added = OrderedDict(
            (c, int(top * sampling_strategy - n)) for c, n in stats.items() if c != majority
        )
        if any(rows <= 0 for rows in added.values()):
            raise ValueError(
                "The specified ratio required to remove samples from the minority class while "
                "trying to generate new samples. Please increase the ratio."
            )
        return added
    raise ValueError(
        "sampling_strategy must be a string, a float or a dict here (a callable needs the whole "
        f"y; pass the dict it would return); got {sampling_strategy!r}"
    )


def grow(
    class_counts: Mapping[Any, int], targets: Mapping[Any, int], augment_ratio: float | None
) -> OrderedDict:
    """Synthetic rows per class: ``targets``, then ``augment_ratio`` times the balanced class.

    Parameters
    ----------
    class_counts : mapping
        Rows per class label (every class, in the order wanted).
    targets : mapping
        Rows to add per class from the sampling strategy (absent: 0).
    augment_ratio : float or None
        Extra rows, ``augment_ratio`` times the class's size after balancing (None: 0).

    Returns
    -------
    OrderedDict
        ``{class: rows to add}`` for every class of ``class_counts``.
    """
    ratio = augment_ratio or 0.0
    return OrderedDict(
        (c, int(targets.get(c, 0) + round(ratio * (n + targets.get(c, 0)))))
        for c, n in class_counts.items()
    )
