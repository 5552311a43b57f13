"""Scale-out: generated rows to Parquet on a Dask LocalCluster vs one process.

Parts (``--parts``, comma-separated; more parts join this script later):

* ``dask``: a default-preset generator of the 30-column mixed table (``benchmarks/sampling.py``)
  writes ``--rows`` rows (default 1e7 and 1e8) to Parquet, once from one process
  (``OnnxGenerator.write``, one file, its thread pool on every core) and once on a
  ``LocalCluster`` of ``--workers`` single-threaded worker processes (``ganaug.dask.sample`` then
  ``write_parquet``: one file per 500,000-row partition). Reported: wall seconds, rows/s, and
  peak resident memory of the process or of each worker (a fresh cluster per size, so a
  worker's lifetime peak is that run's). The files are deleted after each run.

Usage::

    nice -n 10 python benchmarks/scale.py                      # 1e7 and 1e8 rows
    python benchmarks/scale.py --reduced                       # smoke run, about a minute
    python benchmarks/scale.py --parts dask --rows 1e7 3e7

Writes ``scale.json`` and ``scale.md`` (with machine info and date) to ``--out``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import sampling

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
PARTS = ("dask",)


def dask_part(path: Path, rows: Sequence[int], workers: int, scratch: Path) -> list[dict[str, Any]]:
    """Single-process and Dask LocalCluster Parquet writes of each row count."""
    import ganaug.dask as gd
    from ganaug.runtime import OnnxGenerator

    results = []
    for n in rows:
        out = scratch / "single.parquet"
        with sampling.PeakRSS() as mem:
            t0 = time.perf_counter()
            OnnxGenerator(path).write(out, n, random_state=0)
            seconds = time.perf_counter() - t0
        results.append(
            {
                "engine": "single process",
                "rows": n,
                "seconds": seconds,
                "rows_per_s": n / seconds,
                "peak_mib": [mem.absolute_mb],
                "bytes": out.stat().st_size,
            }
        )
        print(
            f"single  n={n:>12,d} {seconds:8.1f} s {n / seconds:>12,.0f} rows/s "
            f"peak {mem.absolute_mb:.0f} MiB",
            flush=True,
        )
        out.unlink()
        with gd.dask_client(n_workers=workers) as client:
            client.run(lambda: None)
            frame = gd.sample(
                path, n, random_state=0, npartitions=max(workers * 2, -(-n // 500_000))
            )
            t0 = time.perf_counter()
            gd.write_parquet(frame, scratch / "dask")
            seconds = time.perf_counter() - t0
            peaks = sorted(client.run(gd.peak_memory_mib).values())
        size = sum(p.stat().st_size for p in (scratch / "dask").iterdir())
        results.append(
            {
                "engine": f"dask, {workers} workers",
                "rows": n,
                "seconds": seconds,
                "rows_per_s": n / seconds,
                "peak_mib": peaks,
                "bytes": size,
                "partitions": frame.npartitions,
            }
        )
        print(
            f"dask    n={n:>12,d} {seconds:8.1f} s {n / seconds:>12,.0f} rows/s "
            f"peaks {', '.join(f'{p:.0f}' for p in peaks)} MiB",
            flush=True,
        )
        shutil.rmtree(scratch / "dask")
    return results


def markdown(report: dict[str, Any]) -> str:
    cfg = report["config"]
    lines = ["# Scale-out", "", common.machine_markdown(report["machine"]), ""]
    lines += [f"- config: {', '.join(f'{k}={v}' for k, v in cfg.items())}", ""]
    if "dask" in report:
        lines += [
            (
                "## Sampling to Parquet: Dask LocalCluster vs one process "
                "(default preset, 30 mixed columns)"
            ),
            "",
        ]
        lines.append(
            common.markdown_table(
                [
                    "engine",
                    "rows",
                    "seconds",
                    "rows/s",
                    "peak RSS per process (MiB)",
                    "Parquet MiB",
                ],
                [
                    [
                        r["engine"],
                        f"{r['rows']:,}",
                        f"{r['seconds']:.1f}",
                        f"{r['rows_per_s']:,.0f}",
                        ", ".join(f"{p:.0f}" for p in r["peak_mib"]),
                        f"{r['bytes'] / 2**20:,.0f}",
                    ]
                    for r in report["dask"]
                ],
            )
        )
        lines += [
            "",
            (
                "Single process: `OnnxGenerator.write` (one file, a thread per core). Dask: "
                "`ganaug.dask.sample` + `write_parquet`, single-threaded worker processes, "
                "500,000-row partitions (at least two per worker); the peak is each "
                "worker's (the scheduler and the "
                "client are not counted)."
            ),
        ]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    as_int = lambda s: int(float(s))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--parts", default="dask", help=f"comma-separated parts to run: {', '.join(PARTS)}"
    )
    p.add_argument("--reduced", action="store_true", help="smoke run")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p.add_argument("--rows", nargs="+", type=as_int, default=None, help="rows to generate (dask)")
    p.add_argument("--workers", type=int, default=2, help="Dask worker processes (dask)")
    p.add_argument("--scratch", type=Path, default=None, help="where the Parquet files go")
    p.add_argument("--exporter", choices=("auto", "dynamo", "torchscript"), default=None)
    args = p.parse_args(argv)
    args.parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        p.error(f"unknown parts {unknown}; choose from {', '.join(PARTS)}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    cfg = {
        "parts": ",".join(args.parts),
        "reduced": args.reduced,
        "rows": args.rows or ([200_000] if args.reduced else [10_000_000, 100_000_000]),
        "workers": args.workers,
        "exporter": args.exporter or ("torchscript" if args.reduced else "auto"),
    }
    report: dict[str, Any] = {"benchmark": "scale", "machine": common.machine_info(), "config": cfg}
    t0 = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="ganaug-scale-", dir=args.scratch))
    try:
        if "dask" in args.parts:
            X, y = sampling.make_table(1000, 30)
            model = sampling.fit_model(X, y, "default")
            path, _ = sampling.export(model, scratch / "model.onnx", cfg["exporter"])
            report["dask"] = dask_part(path, cfg["rows"], args.workers, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report["total_seconds"] = time.perf_counter() - t0
    paths = sampling.write_report(report, args.out, "scale", markdown(report))
    print(f"wrote {paths[0]} and {paths[1]}")
    return report


if __name__ == "__main__":
    main()
