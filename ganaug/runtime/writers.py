"""Streamed file writers for :meth:`ganaug.runtime.OnnxGenerator.write` (pyarrow, bounded memory):
the format from the path, atomic replacement, pandas CSV when pyarrow is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ganaug.core.files import replacing


def file_format(path: Path, format: str | None) -> str:
    """``format``, or the one the suffix names (``.parquet``/``.pq`` -> Parquet, otherwise CSV)."""
    fmt = format or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet'; got {format!r}")
    return fmt


def table_frames(
    tables: Iterable[tuple[Any, Any]],
    names: list[Any],
    label_column: str | None,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """DataFrames of ``(rows, labels)`` batches: the rows (an array gets the column ``names``)
    with the labels appended as ``label_column`` (None: left out). ``on_rows`` is called with
    each batch's size once the writer asks for the next one (it wrote this one)."""
    for X, labels in tables:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=names)
        yield frame.assign(**({label_column: labels} if label_column is not None else {}))
        if on_rows is not None:
            on_rows(len(frame))


def write_frames(frames: Iterator[pd.DataFrame], path: Path, fmt: str) -> None:
    """Stream DataFrames to one CSV or Parquet file at ``path``, written atomically.

    pyarrow's writers when pyarrow is installed; otherwise pandas' CSV writer (about 8x slower),
    and Parquet is an ImportError naming the extra.
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        if fmt == "parquet":
            raise ImportError("writing Parquet needs pyarrow: pip install 'ganaug[parquet]'") from None
        arrow = False
    else:
        arrow = True
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        if not arrow:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                for i, frame in enumerate(frames):
                    frame.to_csv(fh, header=i == 0, index=False)
        else:
            _write_arrow(frames, tmp, fmt)


def _write_arrow(frames: Iterator[pd.DataFrame], path: str, fmt: str) -> None:
    """Stream DataFrames to one Parquet or CSV file with pyarrow's writers (C++, fast)."""
    import pyarrow as pa

    writer = None
    schema = None
    try:
        for frame in frames:
            frame.columns = [str(c) for c in frame.columns]
            if writer is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                # a column that is all missing in the first batch must not fix a null type
                fields = [
                    f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
                ]
                schema = pa.schema(fields, metadata=table.schema.metadata)
                table = table.cast(schema)
                if fmt == "parquet":
                    import pyarrow.parquet as pq

                    writer = pq.ParquetWriter(path, schema)
                else:
                    import pyarrow.csv as pcsv

                    try:
                        options = pcsv.WriteOptions(quoting_style="needed")
                    except TypeError:  # pyarrow < 13
                        options = pcsv.WriteOptions()
                    writer = pcsv.CSVWriter(path, schema, write_options=options)
            else:
                table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
