"""File and store plumbing for the commands: load a dataset, find an artifact or an ``.onnx``
file, write tables to CSV, Parquet or stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ganaug.registry.datasets import store_key


def _load(
    uri: str, target: str | None, task: str | None = None, missing_labels: bool = False
) -> tuple[Any, Any, Any]:
    """Load a dataset; refuse a numeric target that would silently become many classes, and
    missing target values unless ``missing_labels`` (``augment --unlabeled-value nan`` takes
    them as unlabeled rows)."""
    from ganaug.core.labels import check_target_present
    from ganaug.core.tasks import looks_continuous
    from ganaug.registry.datasets import get_dataset

    ds = get_dataset(uri, target=target, task=task)
    X, y = ds.load()
    if not missing_labels:
        check_target_present(y, ds.target, uri)
    if task is None and ds.task == "classification" and ds.modality == "table":
        reason = looks_continuous(y)
        if reason is not None:
            raise click.UsageError(
                f"target {ds.target!r} has {reason}: read as class labels, each value would "
                "become a class of its own. Pass --task regression to model it as a number, "
                "or --task classification to keep one class per value."
            )
    return ds, X, y


def _check_table_path(path: str) -> None:
    """Refuse an output table path before any work: a .csv or .parquet file in a directory."""
    out = Path(path)
    if out.is_dir():
        raise click.UsageError(f"output {path!r} is a directory")
    if out.suffix not in (".csv", ".parquet", ".pq"):
        raise click.UsageError(f"output file must end in .csv or .parquet; got {path!r}")
    if out.parent.exists() and not out.parent.is_dir():
        raise click.UsageError(f"output {path!r}: {out.parent} is not a directory")


def _write_table(X: Any, y: Any, target: str, path: str, mark: dict[str, Any] | None = None) -> None:
    """Write features plus target (plus the ``mark`` columns) to CSV or Parquet, atomically."""
    import numpy as np
    import pandas as pd

    from ganaug.core.files import atomic_write_bytes

    frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(
        np.asarray(X), columns=[f"x{i}" for i in range(np.shape(X)[1])]
    )
    frame[target] = np.asarray(y)
    for name, values in (mark or {}).items():
        frame[name] = np.asarray(values, dtype=bool)
    out = Path(path)
    if out.suffix in (".parquet", ".pq"):
        import io

        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        atomic_write_bytes(out, buf.getvalue())
    elif out.suffix == ".csv":
        atomic_write_bytes(out, frame.to_csv(index=False).encode())
    else:
        raise ValueError(f"output file must end in .csv or .parquet; got {path!r}")


def _artifact_dir(source: str) -> tuple[Path, str]:
    """An artifact directory and a display name, from a directory path or a dataset name."""
    from ganaug.gan.store import Store

    path = Path(source)
    if path.is_dir():
        return path, path.name
    from ganaug.registry.datasets import DatasetFileNotFoundError

    store = Store()
    if store.exists(source):
        return store.path(source), source
    try:
        key = store_key(source)
    except DatasetFileNotFoundError:
        raise  # a typo in a file name: "file not found", not "no artifact"
    except ValueError:
        key = None
    if key is None or not store.exists(key):
        stored = ", ".join(store.list()) or "none"
        missing = key is not None and key != source and not _data_file_exists(source)
        raise ValueError(
            (f"file not found: {source}, and " if missing else "")
            + f"no pretrained artifact for {source!r} in {store.root} (stored: {stored}); "
            f"run `ganaug pretrain {source}`"
        )
    return store.path(key), key


def _data_file_exists(uri: str) -> bool:
    _, sep, rest = uri.partition(":")
    return Path(uri).expanduser().exists() or bool(sep and Path(rest).expanduser().exists())


def _onnx_path(model: str) -> Path:
    from ganaug.gan.store import Store

    path = Path(model)
    if path.suffix == ".onnx":
        if not path.is_file():
            raise ValueError(f"ONNX file not found: {model}")
        return path
    store = Store()
    for key in (model, _dataset_key(model)):
        candidate = store.onnx_path(key)
        if candidate.is_file():
            return candidate
    raise ValueError(f"no exported generator for {model!r}; run `ganaug export {model}` first")


def _dataset_key(name: str) -> str:
    """The store key of a name or data URI; the name itself when it resolves to nothing."""
    try:
        return store_key(name)
    except (ValueError, OSError):
        return name


def _parse_label(label: str, classes: Any) -> Any:
    """Match a command-line label to a class label of any type ("1" -> 1)."""
    from ganaug.core.labels import parse_label

    return classes[parse_label(label, classes)]


def _write_stdout(X: Any, labels: Any, gen: Any, header: bool = True) -> None:
    import sys

    import numpy as np
    import pandas as pd

    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    # classification: the class each row was generated for; regression: the modelled target
    column = gen.label_name if gen.task == "classification" else "target"
    frame = frame.assign(**{str(column): np.asarray(labels)})
    frame.to_csv(sys.stdout, index=False, header=header)
