"""Where a pretraining reads its table piece by piece: a Parquet file or directory (each process
reads only its row groups), a CSV file (each process keeps a slice of the rows) or a registered
dataset such as ``sklearn:wine`` (loaded, then sliced), as a :class:`~ganaug.gan.tables.TableSource`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganaug.core.labels import check_target_present
from ganaug.gan.tables import TableSource
from ganaug.registry.datasets import get_dataset, store_key


def is_table_path(data: str) -> bool:
    """Whether ``data`` names a Parquet file or directory, or a CSV file (with or without a scheme)."""
    path = Path(_strip_scheme(data)).expanduser()
    return path.is_dir() or (path.is_file() and path.suffix in (".parquet", ".pq", ".csv"))


def _strip_scheme(data: str) -> str:
    for scheme in ("parquet:", "csv:"):
        if data.startswith(scheme):
            return data[len(scheme):]
    return data


def open_source(data: str, target: str | None) -> tuple[Any, str]:
    """A :class:`~ganaug.gan.tables.TableSource` for ``data`` and the dataset's store name."""
    if is_table_path(data):
        path = _strip_scheme(data)
        if not target:
            raise ValueError(f"{path} needs a target column: pass --target")
        if Path(path).suffix == ".csv":
            return TableSource.csv(path, target), store_key(f"csv:{path}")
        return TableSource.parquet(path, target), store_key(f"parquet:{path}")
    ds = get_dataset(data, target=target)
    if ds.task != "classification" or ds.modality != "table":
        raise ValueError(f"{ds.name}: distributed and streamed training take classification tables")
    X, y = ds.load()
    check_target_present(y, ds.target, data)
    return TableSource.frame(X, y), ds.name


def wants_source(data: str, stream: bool | None) -> bool:
    """Whether ``ganaug pretrain DATA`` reads DATA piece by piece rather than loading it.

    Yes for ``--stream``, a Parquet directory, and a Parquet file of more than
    :data:`~ganaug.gan.stream.STREAM_CELLS` cells (read from its metadata).
    """
    if stream:
        return True
    path = Path(_strip_scheme(data)).expanduser()
    if path.is_dir():
        return True
    if stream is None and path.is_file() and path.suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        from ganaug.gan.stream import STREAM_CELLS

        meta = pq.ParquetFile(path).metadata
        return meta.num_rows * meta.num_columns > STREAM_CELLS
    return False
