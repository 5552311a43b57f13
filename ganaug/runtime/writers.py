"""Streamed file writers for :meth:`ganaug.runtime.OnnxGenerator.write` (pyarrow, bounded memory)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd


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
