"""Sample and augment on Dask (extra ``ganaug[dask]``): partitions computed by the workers.

- :func:`sample`: ``n`` rows of an exported ``.onnx`` generator as a ``dask.dataframe``, equal to
  single-process :meth:`ganaug.runtime.OnnxGenerator.sample` for any partitioning;
- :func:`augment`: a ``dask.dataframe`` training set followed by synthetic rows, with the class
  counts of :class:`ganaug.GANAugmenter`'s ``sampling_strategy``;
- :func:`write_parquet`: a partitioned Parquet dataset, written by the workers, atomically;
- :func:`dask_client` / :func:`connect`: a local cluster of worker processes, or a scheduler,
  with a :class:`~ganaug.core.errors.ClusterError` naming an address that does not answer.

The work of one partition is :func:`ganaug.runtime.partitions.sample_range`, which needs no
engine (plain pandas out), so Spark or Ray can call it too (``docs/scaling.md``).
"""

from __future__ import annotations

try:
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a test that hides dask
    raise ImportError(
        f"ganaug.dask needs dask[dataframe] and distributed ({exc.name} is missing): "
        "pip install 'ganaug[dask]'"
    ) from None

from ganaug.dask.augment import augment, fit_quotas
from ganaug.dask.cluster import connect, dask_client, peak_memory_mib
from ganaug.dask.sampling import check_output_dir, sample, write_parquet

__all__ = [
    "augment",
    "check_output_dir",
    "connect",
    "dask_client",
    "fit_quotas",
    "peak_memory_mib",
    "sample",
    "write_parquet",
]
