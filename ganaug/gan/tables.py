"""Tables read piece by piece: a Parquet dataset, a CSV file or an in-memory table, and shards.

A :class:`TableSource` yields ``(X, y, row_ids)`` batches of bounded size, so nothing here holds
a whole large table in memory. :meth:`TableSource.shard` gives one process of a distributed job
its part: the Parquet row groups ``rank, rank + N, ...``, or a contiguous slice of the rows of a
CSV file or of an in-memory table. ``row_ids`` are the rows' positions in the whole table, the
same whatever the sharding (they decide which rows are held out).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganaug.core.errors import ShardError, TableSchemaError

#: rows per batch read from a file
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Piece:
    """The unit of sharding: one Parquet row group, or a slice of rows.

    Attributes
    ----------
    path : str or None
        Parquet file, or CSV file; None for an in-memory table.
    row_group : int or None
        Row group of a Parquet file.
    start : int
        Position of the piece's first row in the whole table.
    n_rows : int
        Rows in the piece.
    """

    path: str | None
    row_group: int | None
    start: int
    n_rows: int


def parquet_files(path: str | os.PathLike[str]) -> list[Path]:
    """A Parquet file, or the ``*.parquet`` files under a directory (sorted)."""
    root = Path(path).expanduser()
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.suffix in (".parquet", ".pq") and p.is_file())
        if not files:
            raise FileNotFoundError(f"no .parquet files under {path}")
        return files
    if not root.is_file():
        raise FileNotFoundError(f"Parquet dataset not found: {path}")
    return [root]


class TableSource:
    """A table to read in bounded batches (see the module docstring).

    Use :meth:`parquet`, :meth:`csv` or :meth:`frame` to make one.
    """

    def __init__(
        self, pieces: list[Piece], target: str, kind: str, frame: pd.DataFrame | None = None,
        y: np.ndarray | None = None, columns: list[str] | None = None,
    ) -> None:
        self.pieces = pieces
        self.target = target
        self.kind = kind
        self._frame, self._y = frame, y
        self.columns = columns

    # ------------------------------------------------------------------------ constructors
    @classmethod
    def parquet(cls, path: str | os.PathLike[str], target: str) -> TableSource:
        """A Parquet file or dataset directory; every file must have the first file's schema.

        Raises
        ------
        TableSchemaError
            A file's schema differs from the first file's (names the file and the difference),
            or the target column is missing.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = parquet_files(path)
        pieces, start, schema, first = [], 0, None, None
        for file in files:
            try:
                meta = pq.ParquetFile(file)
            except (pa.ArrowException, OSError) as exc:
                raise TableSchemaError(f"{file} is not a readable Parquet file: {exc}") from None
            file_schema = meta.schema_arrow.remove_metadata()
            if schema is None:
                schema, first = file_schema, file
                if target not in schema.names:
                    raise TableSchemaError(
                        f"target column {target!r} not found in {file}; columns: "
                        f"{', '.join(schema.names)}"
                    )
            elif not file_schema.equals(schema):
                raise TableSchemaError(
                    f"{file} does not have the schema of {first}: "
                    f"{_schema_difference(schema, file_schema)}"
                )
            for g in range(meta.num_row_groups):
                n = meta.metadata.row_group(g).num_rows
                if n:
                    pieces.append(Piece(str(file), g, start, n))
                    start += n
        columns = [c for c in schema.names if c != target]
        if not columns:
            raise TableSchemaError(f"{path} has no feature columns besides the target {target!r}")
        return cls(pieces, target, "parquet", columns=columns)

    @classmethod
    def csv(cls, path: str | os.PathLike[str], target: str) -> TableSource:
        """A CSV file, one piece (a shard is a slice of its rows, found by reading ahead)."""
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"CSV file not found: {path}")
        n = sum(len(chunk) for chunk in pd.read_csv(file, usecols=[0], chunksize=BATCH_ROWS))
        return cls([Piece(str(file), None, 0, n)], target, "csv")

    @classmethod
    def frame(cls, X: pd.DataFrame, y: Any) -> TableSource:
        """An in-memory table and its labels."""
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"y has {len(y)} labels for {len(X)} rows of X")
        return cls([Piece(None, None, 0, len(X))], "y", "frame", frame=X, y=y)

    # ----------------------------------------------------------------------------- shards
    @property
    def n_rows(self) -> int:
        """Rows in this source (a shard: its own rows)."""
        return sum(p.n_rows for p in self.pieces)

    def shard(self, rank: int, world_size: int) -> TableSource:
        """Process ``rank``'s part of the table (see the module docstring).

        Raises
        ------
        ShardError
            More processes than Parquet row groups, or than rows.
        """
        if self.kind == "parquet":
            if world_size > len(self.pieces):
                raise ShardError(
                    f"{world_size} processes but the Parquet data has {len(self.pieces)} row "
                    f"group(s): write it with more row groups (e.g. row_group_size=) or use at "
                    f"most {len(self.pieces)} processes"
                )
            pieces = self.pieces[rank::world_size]
        else:
            (whole,) = self.pieces
            if world_size > whole.n_rows:
                raise ShardError(f"{world_size} processes but the table has {whole.n_rows} rows")
            lo, hi = whole.n_rows * rank // world_size, whole.n_rows * (rank + 1) // world_size
            pieces = [Piece(whole.path, None, lo, hi - lo)]
        return TableSource(pieces, self.target, self.kind, self._frame, self._y, self.columns)

    # ---------------------------------------------------------------------------- reading
    def batches(
        self, batch_rows: int = BATCH_ROWS, order: np.ndarray | None = None
    ) -> Iterator[tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
        """``(X, y, row_ids)`` batches of at most ``batch_rows`` rows, pieces in ``order``."""
        for i in order if order is not None else range(len(self.pieces)):
            yield from self._read(self.pieces[i], batch_rows)

    def _read(
        self, piece: Piece, batch_rows: int
    ) -> Iterator[tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
        if self.kind == "frame":
            for lo in range(piece.start, piece.start + piece.n_rows, batch_rows):
                hi = min(lo + batch_rows, piece.start + piece.n_rows)
                X = self._frame.iloc[lo:hi].reset_index(drop=True)
                yield X, self._y[lo:hi], np.arange(lo, hi, dtype=np.int64)
            return
        if self.kind == "csv":
            seen = 0
            for chunk in pd.read_csv(piece.path, chunksize=batch_rows):
                lo, hi = max(piece.start - seen, 0), min(piece.start + piece.n_rows - seen, len(chunk))
                if lo < hi:
                    yield self._split(chunk.iloc[lo:hi].reset_index(drop=True), seen + lo)
                seen += len(chunk)
                if seen >= piece.start + piece.n_rows:
                    return
            return
        import pyarrow.parquet as pq

        offset = piece.start
        for batch in pq.ParquetFile(piece.path).iter_batches(
            batch_size=batch_rows, row_groups=[piece.row_group]
        ):
            yield self._split(batch.to_pandas(), offset)
            offset += batch.num_rows

    def _split(self, frame: pd.DataFrame, start: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        if self.target not in frame.columns:
            raise TableSchemaError(f"target column {self.target!r} not found in {self.pieces[0].path}")
        y = frame.pop(self.target).to_numpy()
        if pd.isna(pd.Series(y)).any():
            raise ValueError(f"target column {self.target!r} has missing values")
        return frame, y, np.arange(start, start + len(frame), dtype=np.int64)


def _schema_difference(expected: Any, got: Any) -> str:
    """What differs between two Arrow schemas, in words."""
    missing = [n for n in expected.names if n not in got.names]
    extra = [n for n in got.names if n not in expected.names]
    parts = []
    if missing:
        parts.append(f"missing column(s) {missing}")
    if extra:
        parts.append(f"extra column(s) {extra}")
    for name in expected.names:
        if name in got.names and expected.field(name).type != got.field(name).type:
            parts.append(
                f"column {name!r} is {got.field(name).type}, expected {expected.field(name).type}"
            )
    return "; ".join(parts) or f"columns in another order: {got.names}"
