"""Sampling speed: decoded rows per second, ONNX Runtime vs torch (and CTGAN when installed).

Scenarios (``--scenarios``):

* ``mixed30``: 30 mixed columns (20 numeric: normal, skewed, bimodal, integer, some with missing
  values; 10 categorical with 3-8 labels), 3 classes;
* ``numeric30``: 30 numeric columns, 3 classes (the 500,000 rows/s target);
* ``images64``: 8x8 = 64-pixel digit images (scikit-learn's digits; numpy array in and out).

Methods, each for n = 1e4, 1e5, 1e6 rows (``--sizes``):

* ``onnx-graph``: ONNX Runtime, noise drawn + graph run (the graph outputs decoded values: numeric
  columns on their original scale, integers rounded, categorical codes), no DataFrame;
* ``onnx``: ``OnnxGenerator.sample`` -> DataFrame / array with the original names and dtypes;
* ``onnx-stream``: ``OnnxGenerator.write`` to Parquet (or CSV), batch by batch;
* ``torch``: ``ConditionalGAN.sample`` -> DataFrame / array (same threads as ONNX Runtime);
* ``ctgan``: ``CTGAN.sample`` on the mixed table, when the ``ctgan`` package is installed.

Peak memory is the largest resident-set growth over the process's level before the call (sampled
every 5 ms from /proc), so each measurement is separate; for ``onnx-stream`` it should not grow
with n. The GANs are trained for one epoch only: sampling cost depends on the architecture, not on
the weights.

Usage::

    python benchmarks/sampling.py                 # full run (a few minutes on 2 cores)
    python benchmarks/sampling.py --reduced       # < 20 s smoke run
    python benchmarks/sampling.py --presets classic --sizes 10000 1000000 --threads 2

Writes ``sampling.json`` and ``sampling.md`` (with machine info and date) to ``--out``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
SCENARIOS = ("mixed30", "numeric30", "images64")
PRESET_NAMES = ("classic", "default")
METHODS = ("onnx-graph", "onnx", "onnx-stream", "torch", "ctgan")
TARGET_ROWS_PER_S = 500_000


# --- data -----------------------------------------------------------------------------------


def make_table(
    n_rows: int, n_columns: int = 30, n_categorical: int | None = None, n_classes: int = 3,
    random_state: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """A mixed table: a third categorical (3-8 labels) by default, numeric columns of 4 shapes.

    Numeric columns cycle through normal, log-normal (skewed), bimodal and Poisson integer; every
    fifth numeric column has 10% missing values. Labels are ``n_classes`` classes, 50/30/20-ish.
    """
    rng = np.random.default_rng(random_state)
    n_cat = n_columns // 3 if n_categorical is None else n_categorical
    n_num = n_columns - n_cat
    data: dict[str, Any] = {}
    for j in range(n_num):
        kind = j % 4
        if kind == 0:
            col = rng.normal(j, 1 + j % 3, n_rows)
        elif kind == 1:
            col = rng.lognormal(0, 0.7, n_rows)
        elif kind == 2:
            col = np.where(rng.random(n_rows) < 0.6, -2.0, 3.0) + rng.normal(0, 0.5, n_rows)
        else:
            col = rng.poisson(3 + j % 5, n_rows).astype(np.int64)
        if j % 5 == 4:
            col = np.where(rng.random(n_rows) < 0.1, np.nan, col)
        data[f"num{j:02d}"] = col
    for j in range(n_cat):
        labels = np.array([f"c{j}_{k}" for k in range(3 + j % 6)], dtype=object)
        data[f"cat{j:02d}"] = rng.choice(labels, n_rows)
    weights = np.array([0.5, 0.3, 0.2, 0.1, 0.1][:n_classes])
    y = rng.choice(n_classes, n_rows, p=weights / weights.sum())
    return pd.DataFrame(data), y


def make_images(n_rows: int | None = None, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """8x8 digit images as a (n, 64) float array, from scikit-learn (synthetic when missing)."""
    try:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
    except ImportError:  # pragma: no cover - sklearn is a ganaug dependency
        rng = np.random.default_rng(random_state)
        X = rng.integers(0, 17, (1797, 64)).astype(float)
        y = rng.integers(0, 10, 1797)
    if n_rows is not None:
        X, y = X[:n_rows], y[:n_rows]
    return X.astype(np.float64), y


def scenario_data(name: str, n_rows: int = 1000, random_state: int = 0) -> tuple[Any, np.ndarray]:
    """Training data of a scenario."""
    if name == "mixed30":
        return make_table(n_rows, 30, random_state=random_state)
    if name == "numeric30":
        return make_table(n_rows, 30, n_categorical=0, random_state=random_state)
    if name == "images64":
        return make_images(max(n_rows, 300))
    raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")


# --- measuring ------------------------------------------------------------------------------


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _malloc_trim() -> None:
    """Hand freed heap memory back to the OS (glibc), so that RSS growth is measured from a low
    base instead of being hidden by memory an earlier measurement freed but the heap kept."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakRSS:
    """``with PeakRSS() as peak: ...`` then ``peak.mb``: the largest RSS growth during the block.

    A helper thread reads the resident set size every ``interval`` seconds (Linux /proc); falls back
    to ``None`` where that is unavailable.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.mb: float | None = None
        self.absolute_mb: float | None = None

    def __enter__(self) -> Self:
        gc.collect(0)  # young garbage only: a full collection costs ~0.2 s once torch is loaded
        _malloc_trim()
        self._base = _rss_bytes()
        self._peak = self._base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        if self._base is not None:
            self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            rss = _rss_bytes()
            if rss is not None and rss > self._peak:
                self._peak = rss

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._base is None:
            return
        self._thread.join()
        rss = _rss_bytes()
        peak = max(self._peak, rss or 0)
        self.mb = (peak - self._base) / 2**20
        self.absolute_mb = peak / 2**20


def measure(fn: Callable[[], Any], n: int, repeats: int = 1) -> dict[str, Any]:
    """Run ``fn`` ``repeats`` times; best rows/s and the largest peak memory growth."""
    best, peak = float("inf"), 0.0
    absolute = 0.0
    for _ in range(repeats):
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            out = fn()
            seconds = time.perf_counter() - t0
            del out
        best = min(best, seconds)
        peak = max(peak, mem.mb or 0.0)
        absolute = max(absolute, mem.absolute_mb or 0.0)
    return {"seconds": best, "rows_per_s": n / best, "peak_mb": peak, "peak_rss_mb": absolute}


# --- models ---------------------------------------------------------------------------------


def fit_model(X: Any, y: np.ndarray, preset: str, random_state: int = 0) -> Any:
    """A ConditionalGAN with the preset's full architecture, trained one epoch (speed only)."""
    from ganaug.gan.synthesizer import ConditionalGAN

    return ConditionalGAN(preset, epochs=1, device="cpu", random_state=random_state).fit(X, y)


def export(model: Any, path: Path, exporter: str) -> tuple[Path, float]:
    from ganaug.gan.export import export_onnx

    t0 = time.perf_counter()
    export_onnx(model, path, exporter=exporter)
    return path, time.perf_counter() - t0


def sampling_methods(
    model: Any, onnx_path: Path, threads: int | None, batch_size: int, stream_dir: Path,
    stream_format: str, seed: int = 0,
) -> dict[str, Callable[[int], Any]]:
    """Callables ``n -> rows`` for each method (ONNX Runtime and torch with the same threads)."""
    import torch

    from ganaug.core.noise import conditions_from_counts, split_counts
    from ganaug.runtime import OnnxGenerator

    gen = OnnxGenerator(onnx_path, n_threads=threads, batch_size=batch_size)
    torch.set_num_threads(gen.n_threads)
    suffix = ".parquet" if stream_format == "parquet" else ".csv"

    def graph(n: int) -> Any:
        cond = conditions_from_counts(split_counts(n, gen.class_counts_))
        return gen.generate_arrays(cond, random_state=seed)

    def stream(n: int) -> Any:
        path = stream_dir / f"stream{suffix}"
        gen.write(path, n, random_state=seed)
        size = path.stat().st_size
        path.unlink()
        return size

    return {
        "onnx-graph": graph,
        "onnx": lambda n: gen.sample(n, random_state=seed),
        "onnx-stream": stream,
        "torch": lambda n: model.generate(
            conditions_from_counts(split_counts(n, model.class_counts_)), random_state=seed,
            batch_size=batch_size,
        ),
    }


def ctgan_method(X: pd.DataFrame, y: np.ndarray, epochs: int = 1) -> Callable[[int], Any] | None:
    """CTGAN's ``sample`` on the same table (trained ``epochs`` epochs), or None if not installed."""
    try:
        from ctgan import CTGAN
    except ImportError:
        return None
    data = X.assign(label=y.astype(str))
    discrete = [c for c in data.columns if data[c].dtype == object] + ["label"]
    model = CTGAN(epochs=epochs, verbose=False)
    model.fit(data.fillna(data.median(numeric_only=True)), discrete_columns=sorted(set(discrete)))
    return model.sample


def run_sampling(
    scenarios: Sequence[str], presets: Sequence[str], sizes: Sequence[int], *, threads: int | None,
    batch_size: int, exporter: str, stream_format: str, repeats: int, with_ctgan: bool = True,
    methods: Sequence[str] = METHODS, log: Callable[[str], None] = print, train_rows: int = 1000,
) -> dict[str, Any]:
    """Fit, export and time every (scenario, preset, method, n); the shared core of the benchmarks."""
    results: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ganaug-bench-") as tmp:
        tmpdir = Path(tmp)
        for scenario in scenarios:
            X, y = scenario_data(scenario, n_rows=train_rows)
            ctgan = None
            if with_ctgan and "ctgan" in methods and scenario == "mixed30":
                ctgan = ctgan_method(X, y)
            for preset in presets:
                t0 = time.perf_counter()
                model = fit_model(X, y, preset)
                fit_s = time.perf_counter() - t0
                path, export_s = export(model, tmpdir / f"{scenario}-{preset}.onnx", exporter)
                from ganaug.gan.export import read_metadata

                used = read_metadata(path)["exporter"]
                models.append({
                    "scenario": scenario, "preset": preset, "columns": int(X.shape[1]),
                    "onnx_bytes": path.stat().st_size, "exporter": used,
                    "export_seconds": export_s, "fit_seconds_1_epoch": fit_s,
                })
                fns = sampling_methods(model, path, threads, batch_size, tmpdir, stream_format)
                if ctgan is not None and preset == presets[0]:
                    fns["ctgan"] = ctgan
                for name, fn in fns.items():
                    if name not in methods:
                        continue
                    fn(min(sizes))  # warm-up (session start, first allocations)
                    method_sizes = list(sizes)
                    steady = steady_stream_rows(threads, batch_size)
                    if name == "onnx-stream" and min(sizes) < steady < max(sizes):
                        # the smallest run whose memory is at its steady state, to compare the
                        # largest with (see checks)
                        method_sizes = sorted({*sizes, steady})
                    for n in method_sizes:
                        reps = repeats if n <= 100_000 else 1
                        row = {"scenario": scenario, "preset": preset if name != "ctgan" else "ctgan",
                               "method": name, "n": int(n),
                               **measure(lambda fn=fn, n=n: fn(n), n, reps)}
                        results.append(row)
                        log(f"{scenario:10s} {row['preset']:8s} {name:12s} n={n:>9,d} "
                            f"{row['rows_per_s']:>12,.0f} rows/s  peak +{row['peak_mb']:.0f} MB")
    return {"results": results, "models": models}


def steady_stream_rows(threads: int | None, batch_size: int) -> int:
    """Rows after which streaming memory stops rising: every worker's chunk, the one queued and
    the one being written are all in flight (see ``ganaug.runtime.OnnxGenerator``)."""
    from ganaug.runtime import default_num_threads

    return ((threads or default_num_threads()) + 2) * batch_size


def checks(
    results: Sequence[dict[str, Any]], batch_size: int = 65536, threads: int | None = None
) -> dict[str, Any]:
    """The two targets: 500k rows/s (numeric30, ONNX) and flat streaming memory."""
    out: dict[str, Any] = {}
    # the target, for decoded values (graph outputs) and for DataFrames with the original dtypes;
    # per preset, so the default preset's figure is never hidden behind the classic one's
    for method, key in (("onnx-graph", "numeric30_rows_per_s"), ("onnx", "numeric30_frame_rows_per_s")):
        rows = [r for r in results if r["scenario"] == "numeric30" and r["method"] == method]
        if rows:
            best = max(rows, key=lambda r: r["rows_per_s"])
            per_preset = {}
            for r in rows:
                if r["rows_per_s"] > per_preset.get(r["preset"], {}).get("rows_per_s", 0):
                    per_preset[r["preset"]] = {"rows_per_s": r["rows_per_s"], "n": r["n"]}
            out[key] = {
                "method": method, "target": TARGET_ROWS_PER_S, "best": best["rows_per_s"],
                "preset": best["preset"], "n": best["n"],
                "met": best["rows_per_s"] >= TARGET_ROWS_PER_S, "per_preset": per_preset,
            }
    streams: dict[tuple[str, str], list[dict[str, Any]]] = {}
    in_memory: dict[tuple[str, str, int], float] = {}
    for r in results:
        if r["method"] == "onnx-stream":
            streams.setdefault((r["scenario"], r["preset"]), []).append(r)
        elif r["method"] == "onnx":
            in_memory[(r["scenario"], r["preset"], r["n"])] = r["peak_mb"]
    flat = []
    for (scenario, preset), rows in streams.items():
        rows = sorted(rows, key=lambda r: r["n"])
        # compare runs at the steady state: memory rises until every thread holds a chunk
        steady = steady_stream_rows(threads, batch_size)
        multi = [r for r in rows if r["n"] >= steady]
        if len(multi) < 2:
            multi = [r for r in rows if r["n"] > batch_size] or rows
        if len(rows) >= 2:
            small, big = (multi[0] if len(multi) >= 2 else rows[0]), rows[-1]
            held = in_memory.get((scenario, preset, big["n"]))
            growth = big["peak_mb"] - small["peak_mb"]
            flat.append({
                "scenario": scenario, "preset": preset, "n_small": small["n"], "n_big": big["n"],
                "peak_mb_small": small["peak_mb"], "peak_mb_big": big["peak_mb"],
                "in_memory_peak_mb_big": held,
                # flat: growing n adds less than a tenth of what holding the rows takes, and at
                # most 64 MB when that is unknown
                "flat": growth <= (0.1 * held if held else 64.0),
            })
    out["stream_memory"] = flat
    return out


# --- output ---------------------------------------------------------------------------------


def markdown(report: dict[str, Any], title: str = "Sampling speed") -> str:
    lines = [f"# {title}", "", common.machine_markdown(report["machine"]), ""]
    cfg = report["config"]
    lines += [f"- config: {', '.join(f'{k}={v}' for k, v in cfg.items())}", ""]
    lines += ["## Decoded rows per second", ""]
    rows = [
        [r["scenario"], r["preset"], r["method"], f"{r['n']:,}", f"{r['rows_per_s']:,.0f}",
         f"{r['seconds']:.3f}", f"{r['peak_mb']:.0f}"]
        for r in report["results"]
    ]
    lines.append(common.markdown_table(
        ["scenario", "preset", "method", "n", "rows/s", "seconds", "peak MB (+RSS)"], rows))
    lines += ["", "## Exported models", ""]
    lines.append(common.markdown_table(
        ["scenario", "preset", "columns", "exporter", "export s", "ONNX KB"],
        [[m["scenario"], m["preset"], m["columns"], m["exporter"], f"{m['export_seconds']:.2f}",
          f"{m['onnx_bytes'] / 1024:.0f}"] for m in report["models"]]))
    chk = report.get("checks", {})
    lines += ["", "## Targets", ""]
    for key, what in (("numeric30_rows_per_s", "decoded values (onnx-graph)"),
                      ("numeric30_frame_rows_per_s", "DataFrames with the original dtypes (onnx)")):
        target = chk.get(key)
        if target:
            others = ", ".join(
                f"{preset} {v['rows_per_s']:,.0f} (n={v['n']:,})"
                for preset, v in target["per_preset"].items()
            )
            lines.append(
                f"- 30 numeric columns, ONNX Runtime, {what}: best {target['best']:,.0f} rows/s "
                f"({target['preset']}, n={target['n']:,}); target {target['target']:,}: "
                f"{'met' if target['met'] else 'NOT met'}; best per preset: {others}"
            )
    for f in chk.get("stream_memory", []):
        held = f["in_memory_peak_mb_big"]
        lines.append(
            f"- streaming to file, {f['scenario']}/{f['preset']}: peak +{f['peak_mb_small']:.0f} MB "
            f"at n={f['n_small']:,} vs +{f['peak_mb_big']:.0f} MB at n={f['n_big']:,}"
            + (f" (in memory: +{held:.0f} MB)" if held is not None else "")
            + f": {'flat' if f['flat'] else 'GROWS'}"
        )
    if not any(r["method"] == "ctgan" for r in report["results"]):
        lines.append("- CTGAN: not installed, skipped")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out: Path, stem: str, md: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path = common.write_json(out / f"{stem}.json", report)
    md_path = out / f"{stem}.md"
    md_path.write_text(md, encoding="utf-8")
    return json_path, md_path


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reduced", action="store_true", help="smoke run in < 20 s")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=None)
    p.add_argument("--presets", nargs="+", choices=PRESET_NAMES, default=None)
    p.add_argument("--sizes", nargs="+", type=lambda s: int(float(s)), default=None)
    p.add_argument("--methods", nargs="+", choices=METHODS, default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="sampling threads: OnnxGenerator(n_threads=) and torch (default: CPUs, at most 8)")
    p.add_argument("--batch-size", type=int, default=65536)
    p.add_argument("--exporter", choices=("auto", "dynamo", "torchscript"), default=None,
                   help="default: auto (dynamo); torchscript in --reduced mode (faster export)")
    p.add_argument("--stream-format", choices=("parquet", "csv"), default=None)
    p.add_argument("--repeats", type=int, default=None)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    reduced = args.reduced
    try:
        import pyarrow  # noqa: F401

        default_format = "parquet"
    except ImportError:
        default_format = "csv"
    cfg = {
        "reduced": reduced,
        "scenarios": args.scenarios or (["mixed30", "numeric30", "images64"]),
        "presets": args.presets or (["classic"] if reduced else list(PRESET_NAMES)),
        "sizes": args.sizes or ([1_000, 5_000] if reduced else [10_000, 100_000, 1_000_000]),
        # CTGAN trains for tens of seconds even for one epoch: full runs only
        "methods": args.methods or [m for m in METHODS if not (reduced and m == "ctgan")],
        "threads": args.threads,
        "batch_size": args.batch_size,
        "exporter": args.exporter or ("torchscript" if reduced else "auto"),
        "stream_format": args.stream_format or default_format,
        "repeats": args.repeats or (1 if reduced else 3),
        "train_rows": 300 if reduced else 1000,
    }
    from ganaug.runtime import default_num_threads

    cfg["threads_used"] = args.threads or default_num_threads()
    t0 = time.perf_counter()
    run = run_sampling(
        cfg["scenarios"], cfg["presets"], cfg["sizes"], threads=args.threads,
        batch_size=args.batch_size, exporter=cfg["exporter"], stream_format=cfg["stream_format"],
        repeats=cfg["repeats"], methods=cfg["methods"], train_rows=cfg["train_rows"],
    )
    report = {
        "benchmark": "sampling",
        "machine": common.machine_info(),
        "config": cfg,
        **run,
        "checks": checks(run["results"], args.batch_size, args.threads),
        "total_seconds": time.perf_counter() - t0,
    }
    paths = write_report(report, args.out, "sampling", markdown(report))
    print(f"wrote {paths[0]} and {paths[1]}")
    return report


if __name__ == "__main__":
    main()
