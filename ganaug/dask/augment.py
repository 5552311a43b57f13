"""Augment a ``dask.dataframe`` training set: its partitions, then synthetic rows from workers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from ganaug.core.errors import SchemaMismatchError
from ganaug.core.noise import seed_from
from ganaug.dask.sampling import sample
from ganaug.runtime import OnnxGenerator
from ganaug.runtime.partitions import open_generator

FIT_ROWS = 100_000
"""Default most rows of the sample a generator is fitted on when ``augment`` trains one."""


def augment(
    data: dd.DataFrame,
    target: str,
    *,
    generator: str | os.PathLike[str] | OnnxGenerator | None = None,
    sampling_strategy: Any = "auto",
    augment_ratio: float | None = None,
    fit_rows: int = FIT_ROWS,
    model_path: str | os.PathLike[str] | None = None,
    npartitions: int | None = None,
    random_state: Any = None,
    **params: Any,
) -> dd.DataFrame:
    """The rows of ``data``, then the synthetic rows ``GANAugmenter.fit_resample`` would add.

    The class counts are computed over all of ``data``; ``sampling_strategy`` and
    ``augment_ratio`` turn them into rows to add per class exactly as
    :class:`~ganaug.learn.sampler.GANAugmenter` does (imbalanced-learn's rules), and the workers
    sample those rows from an ``.onnx`` file (:func:`ganaug.dask.sample`), the classes one after
    the other in label order.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        The training set: feature columns and the ``target`` column of class labels.
    target : str
        Name of the class label column.
    generator : path-like or OnnxGenerator, optional
        A pretrained, exported generator of these columns. None fits a
        :class:`~ganaug.learn.sampler.GANAugmenter` on a stratified sample of at most
        ``fit_rows`` rows of ``data`` (a class smaller than its share is taken whole; the
        others share the rest equally), computed partition by partition, then exports it to
        ``model_path``.
    sampling_strategy : str, float or dict, default="auto"
        As in ``GANAugmenter`` (a callable is refused: it would need the whole ``y``).
    augment_ratio : float, optional
        As in ``GANAugmenter``: grow every class by this fraction after balancing.
    fit_rows : int, default=100000
        Most rows the generator is fitted on (no generator given).
    model_path : path-like, optional
        Where the fitted generator is exported; the workers read it, so on a multi-node cluster
        it must be on a shared file system. Default: ``model.onnx`` in a new temporary directory
        (enough for a local cluster); it is not removed, since the returned frame reads it.
    npartitions : int, optional
        Partitions of the synthetic rows (default: one per 500,000 rows).
    random_state : int, optional
        Seeds the fitting sample, the training and the synthetic rows.
    **params
        Other ``GANAugmenter`` parameters for the fit (``preset``, ``epochs``, ``device`` ...).

    Returns
    -------
    dask.dataframe.DataFrame
        ``data``'s partitions, then the synthetic ones (index ``0 ..`` of the synthetic rows),
        with ``data``'s columns and dtypes.
    """
    from ganaug.learn.strategy import grow, oversampling_targets

    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"data must be a dask.dataframe.DataFrame; got {type(data).__name__}")
    if target not in data.columns:
        raise SchemaMismatchError(
            f"target column {target!r} is not a column of the data "
            f"(columns: {list(data.columns)[:10]})"
        )
    if isinstance(fit_rows, bool) or not isinstance(fit_rows, (int, np.integer)) or fit_rows < 2:
        raise ValueError(f"fit_rows must be an integer >= 2; got {fit_rows!r}")
    counts = _class_counts(data, target)
    targets = oversampling_targets(counts, sampling_strategy)  # bad strategies fail before training
    wanted = {c: rows for c, rows in grow(counts, targets, augment_ratio).items() if rows > 0}
    fit_seed, sample_seed = (
        int(s) for s in np.random.SeedSequence(seed_from(random_state)).generate_state(2)
    )
    if generator is None:
        generator = _fit(data, target, counts, int(fit_rows), fit_seed, model_path, params)
    elif params:
        raise TypeError(
            f"GANAugmenter parameters {sorted(params)} apply only when no generator is given"
        )
    gen = open_generator(generator)
    _check_generator(gen, data, target, counts)
    if not wanted:
        return data
    synthetic = sample(
        gen,
        sum(wanted.values()),
        npartitions=npartitions,
        y=wanted,
        random_state=sample_seed,
        label_column=target,
    )
    differ = {c: t for c, t in data.dtypes.items() if synthetic.dtypes[c] != t}
    if differ:  # e.g. pyarrow strings in data, numpy-backed ones from the generator
        synthetic = synthetic.astype(differ)
    return dd.concat([data, synthetic.clear_divisions()])


def _class_counts(data: dd.DataFrame, target: str) -> dict[Any, int]:
    """Rows per class over all partitions, in label order."""
    counts = data[target].value_counts(dropna=False).compute()
    if counts.index.hasnans:
        raise ValueError(
            f"target column {target!r} has missing values "
            f"({int(counts[counts.index.isna()].sum())} rows)"
        )
    labels = np.unique(np.asarray(counts.index, dtype=object))
    return {label: int(counts[label]) for label in labels}


def _check_generator(
    gen: OnnxGenerator, data: dd.DataFrame, target: str, counts: Mapping[Any, int]
) -> None:
    if gen.task != "classification":
        raise ValueError(
            f"{gen.path}: augmenting a dask dataframe needs a classification generator; "
            f"this one is {gen.task}"
        )
    features = [c for c in data.columns if c != target]
    if gen.schema.names != features:
        raise SchemaMismatchError(
            f"{gen.path} was trained on columns {gen.schema.names[:8]} ({len(gen.schema.names)}), "
            f"but the data has {features[:8]} ({len(features)}) besides {target!r}"
        )
    gen.class_index(np.array(list(counts), dtype=object))  # an unknown class -> error naming it


def fit_quotas(counts: Mapping[Any, int], budget: int) -> dict[Any, int]:
    """Rows per class of a stratified sample of at most ``budget`` rows.

    Smaller classes first: each takes all its rows or an equal share of what is left, so rare
    classes are kept whole and the total never exceeds ``budget``.
    """
    quotas, left = {}, int(budget)
    ordered = sorted(counts.items(), key=lambda item: item[1])
    for i, (label, rows) in enumerate(ordered):
        quotas[label] = min(int(rows), left // (len(ordered) - i))
        left -= quotas[label]
    return {label: quotas[label] for label in counts}


def _keep(
    part: pd.DataFrame, target: str, rates: dict[Any, float], seed: int, number: int
) -> pd.DataFrame:
    """Rows of one partition kept with their class's rate (a stream per partition: reproducible)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(number,)))
    rate = part[target].map(rates).to_numpy(dtype=np.float64, na_value=0.0)
    return part[rng.random(len(part)) < rate]


def _fit_sample(
    data: dd.DataFrame, target: str, counts: Mapping[Any, int], budget: int, seed: int
) -> pd.DataFrame:
    """A stratified sample of ``data`` of at most ``budget`` rows, held in memory."""
    quotas = fit_quotas(counts, budget)
    # keep each row with a rate that gives the quota plus 4 standard deviations (and 10 rows)
    # in expectation, then trim: the sample hits the quota (but for odds under 1e-4) and stays
    # within about 1.5 times the budget while it is gathered
    rates = {c: min(1.0, (q + 4 * q**0.5 + 10) / counts[c]) for c, q in quotas.items()}
    parts = [
        dask.delayed(_keep)(p, target, rates, seed, k) for k, p in enumerate(data.to_delayed())
    ]
    rows = pd.concat(dask.compute(*parts), ignore_index=True)
    rng = np.random.default_rng(seed)
    keep = [
        idx if len(idx) <= quotas[c] else np.sort(rng.choice(idx, quotas[c], replace=False))
        for c, idx in ((c, np.flatnonzero((rows[target] == c).to_numpy())) for c in counts)
    ]
    return rows.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)


def _fit(
    data: dd.DataFrame,
    target: str,
    counts: Mapping[Any, int],
    budget: int,
    seed: int,
    model_path: str | os.PathLike[str] | None,
    params: dict[str, Any],
) -> Path:
    """Fit a GANAugmenter on a bounded stratified sample and export it; returns the .onnx path."""
    from ganaug.learn.sampler import GANAugmenter

    rows = _fit_sample(data, target, counts, budget, seed)
    aug = GANAugmenter(random_state=seed, **params).fit(
        rows.drop(columns=[target]), rows[target].to_numpy()
    )
    path = (
        Path(model_path)
        if model_path is not None
        else Path(tempfile.mkdtemp(prefix="ganaug-dask-")) / "model.onnx"
    )
    return aug.export_onnx(path)
