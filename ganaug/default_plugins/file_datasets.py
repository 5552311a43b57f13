"""Built-in plugin: CSV, Parquet and NumPy ``.npz`` files as datasets."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from ganaug.registry.datasets import (
    DatasetAdapter,
    DatasetFileNotFoundError,
    DatasetScheme,
    MissingTargetError,
    infer_task,
)
from ganaug.registry.hookspecs import hookimpl


def _existing(path: str) -> str:
    """Expanded path, or DatasetFileNotFoundError naming it."""
    if not path:
        raise ValueError("a file path is required after the scheme, e.g. csv:data.csv")
    expanded = os.path.expanduser(path)
    if not os.path.isfile(expanded):
        raise DatasetFileNotFoundError(f"data file not found: {path}")
    return expanded


def _copies(X: Any, y: Any) -> tuple[Any, Any]:
    return X.copy(), y.copy()


def _split_target(frame: Any, target: str, source: str) -> tuple[Any, Any]:
    if target not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        raise ValueError(
            f"target column {target!r} not found in {source}; available columns: {columns}"
        )
    # empty target cells stay missing (NaN): the estimators refuse them, or take them as
    # unlabeled rows with unlabeled_value=NaN (``ganaug augment --unlabeled-value nan``)
    y = frame[target]
    X = frame.drop(columns=[target])
    if X.shape[1] == 0:
        raise ValueError(f"{source} has no feature columns besides the target {target!r}")
    return X, y


def _column_names(kind: str, path: str) -> list[str]:
    """A table file's column names, read from its header only (none when unreadable)."""
    try:
        if kind == "csv":
            import pandas as pd

            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except (OSError, ValueError):  # the listing is a courtesy: the missing target is the error
        # (pandas' parser errors, pyarrow's ArrowInvalid and decoding errors are ValueErrors)
        return []


def _table(kind: str, path: str, target: str | None) -> DatasetAdapter:
    import pandas as pd

    full = _existing(path)
    if target is None:
        raise MissingTargetError(path, _column_names(kind, full))
    try:
        frame = pd.read_csv(full) if kind == "csv" else pd.read_parquet(full)
    except ImportError:
        raise
    except Exception as exc:
        raise ValueError(f"cannot read {kind} file {path}: {exc}") from exc
    X, y = _split_target(frame, target, path)
    return DatasetAdapter(
        name=f"{kind}:{path}",
        description=f"{kind} file {path}: {len(X)} rows, {X.shape[1]} features",
        task=infer_task(y),
        modality="table",
        target=target,
        loader=partial(_copies, X, y),
    )


def _npz(path: str, target: str | None) -> DatasetAdapter:
    import numpy as np
    import pandas as pd

    full = _existing(path)
    target = target or "y"
    try:
        with np.load(full, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as exc:
        raise ValueError(f"cannot read npz file {path}: {exc}") from exc
    for key in ("X", target):
        if key not in arrays:
            raise ValueError(
                f"npz file {path} has no array {key!r}; arrays: {', '.join(arrays) or 'none'}"
            )
    X, y = arrays["X"], arrays[target]
    if y.ndim != 1 or X.ndim < 2 or len(X) != len(y):
        raise ValueError(
            f"npz file {path}: expected X of shape (n, ...) and 1-d {target!r} of length n, "
            f"got {X.shape} and {y.shape}"
        )
    if X.ndim == 2:
        modality = "table"
        columns = [f"x{i}" for i in range(X.shape[1])]
        X, y = pd.DataFrame(X, columns=columns), pd.Series(y, name=target)
    else:
        modality = "image"
    return DatasetAdapter(
        name=f"npz:{path}",
        description=f"npz file {path}: {len(y)} samples, X of shape {tuple(X.shape[1:])}",
        task=infer_task(y),
        modality=modality,
        target=target,
        loader=partial(_copies, X, y),
    )


#: (scheme, description, factory, file extensions) of the file schemes
_SCHEMES = (
    ("csv", "CSV file with a target column: csv:PATH --target COLUMN", partial(_table, "csv"),
     (".csv", ".csv.gz")),
    ("parquet", "Parquet file with a target column: parquet:PATH --target COLUMN",
     partial(_table, "parquet"), (".parquet", ".pq")),
    ("npz", "NumPy .npz file with arrays X and y: npz:PATH", _npz, (".npz",)),
)


@hookimpl
def register_dataset_schemes(register: Callable[[DatasetScheme], None]) -> None:
    for name, description, factory, extensions in _SCHEMES:
        register(DatasetScheme(name, description, factory, extensions=extensions))
