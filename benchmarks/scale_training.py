"""Scale-out training: DDP time per step (1 and 2 ranks, CPU), the out-of-core fit of a generated
1e7 x 30 Parquet table (time, peak RSS, data preparation against rows), the flights table
fitted by one process and by 2 ranks (time and detection AUC), and the training throughput of
one process per device and batch size (``throughput``: ``--devices cpu cuda`` on a GPU machine).

Every fit runs in a child process (``torchrun`` for ranks), so peak RSS is the child's own
(``resource.getrusage(RUSAGE_CHILDREN)``, the largest child since the script started: the
parts run in increasing order of size). Time per step is the difference of two runs with
different epoch counts divided by the difference of their steps, so start-up and data
preparation cancel out.

Usage::

    nice -n 10 python benchmarks/scale_training.py                 # everything (about an hour on 2 cores)
    nice -n 10 python benchmarks/scale_training.py --parts ddp     # one part: ddp, outofcore, flights, throughput
    python benchmarks/scale_training.py --reduced                  # smoke run (1e5 rows, a minute or two)

Writes ``scale_training.json`` and ``scale_training.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
PARTS = ("ddp", "outofcore", "flights", "throughput")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def _run(command: list[str]) -> float:
    """Run a child; its wall seconds (raises with its stderr on failure)."""
    t0 = time.perf_counter()
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


def _peak_child_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB on Linux


def pretrain_command(data: Path, out: Path, nproc: int, *extra: str) -> list[str]:
    """``python -m ganaug.distributed`` alone, or under torchrun with ``nproc`` ranks."""
    base = ["-m", "ganaug.distributed", str(data), "--target", "label", "-o", str(out),
            "--device", "cpu", "--seed", "0", *extra]
    if nproc == 1:
        return [sys.executable, *base]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc-per-node={nproc}", *base]


def _steps(artifact: Path) -> int:
    meta = json.loads((artifact / "ganaug.json").read_text())
    return int(meta["history"]["validation_steps"][-1])


def make_table(path: Path, n_rows: int, n_columns: int = 30, chunk: int = 1_000_000,
               row_group: int = 250_000) -> None:
    """A generated Parquet table of ``n_rows`` x ``n_columns`` features (one in six
    categorical, correlated numerics, some missing values) and a 3-class ``label``, written
    chunk by chunk (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    rng = np.random.default_rng(0)
    for lo in range(0, n_rows, chunk):
        n = min(chunk, n_rows - lo)
        base = rng.normal(size=(n, 1))
        cols: dict[str, Any] = {}
        for j in range(n_columns):
            if j % 6 == 5:
                cols[f"c{j}"] = rng.choice(np.array(["a", "b", "c", "d"], dtype=object), n)
            else:
                x = 0.6 * base[:, 0] + rng.normal(size=n) * (1 + j % 3)
                if j % 7 == 3:
                    x = np.exp(x / 3)
                if j % 10 == 9:
                    x[rng.random(n) < 0.05] = np.nan
                cols[f"x{j}"] = x
        logit = base[:, 0] + 0.5 * rng.normal(size=n)
        cols["label"] = np.where(logit > 1.0, "high", np.where(logit < -1.0, "low", "mid"))
        table = pa.Table.from_pandas(pd.DataFrame(cols), preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=row_group)
    assert writer is not None
    writer.close()


def part_ddp(work: Path, rows: int, epochs: tuple[int, int]) -> dict[str, Any]:
    """Seconds per optimiser step with 1 and 2 ranks (difference of two epoch counts)."""
    data = work / "ddp.parquet"
    make_table(data, rows, n_columns=10, row_group=max(rows // 8, 1))
    result: dict[str, Any] = {"rows": rows, "columns": 10, "epochs": list(epochs)}
    for nproc in (1, 2):
        times, steps = [], []
        for e in epochs:
            out = work / f"ddp-{nproc}-{e}"
            times.append(_run(pretrain_command(data, out, nproc, "--epochs", str(e), "--no-stream")))
            steps.append(_steps(out))
        per_step = (times[1] - times[0]) / (steps[1] - steps[0])
        result[f"ranks_{nproc}"] = {"seconds": times, "steps": steps, "s_per_step": per_step,
                                    "rows_per_s": nproc * 128 / per_step}
    return result


def part_outofcore(work: Path, sizes: list[int]) -> list[dict[str, Any]]:
    """Full streamed fit (default preset) per size: wall time, peak RSS, data preparation."""
    rows_out = []
    for n in sizes:
        data = work / f"table-{n}.parquet"
        t0 = time.perf_counter()
        make_table(data, n)
        gen_s = time.perf_counter() - t0
        prep_s = _run([sys.executable, str(Path(__file__).resolve()), "--prepare-only", str(data)])
        fit_s = _run(pretrain_command(data, work / f"stream-{n}", 1, "--stream"))
        rows_out.append({"rows": n, "columns": 30, "generate_s": gen_s, "prepare_s": prep_s,
                         "fit_s": fit_s, "steps": _steps(work / f"stream-{n}"),
                         "peak_rss_gib_so_far": _peak_child_rss_gib(),
                         "file_gib": data.stat().st_size / 2**30})
        print(json.dumps(rows_out[-1]), flush=True)
    return rows_out


def prepare_only(path: str) -> None:
    """Data preparation of a streamed fit alone: codec pass and statistics pass."""
    from ganaug.gan.stream import StreamRows, fit_codec
    from ganaug.gan.tables import TableSource

    source = TableSource.parquet(path, "label")
    codec, classes, counts = fit_codec(source)
    rows = StreamRows(source, codec, classes, counts)
    rows.hold_out(0.15, False, np.random.default_rng(0))


def part_flights(work: Path, max_rows: int | None) -> dict[str, Any]:
    """The flights table: one process vs 2 ranks, fit time and detection AUC at the default."""
    from ganaug.evaluation.detection import detection_auc
    from ganaug.learn.sampler import GANAugmenter

    X, y = common.load_real_table("flights")
    if max_rows:
        X, y = X.iloc[:max_rows], y.iloc[:max_rows]
    data = work / "flights.parquet"
    X.assign(label=y.to_numpy()).to_parquet(data, row_group_size=max(len(X) // 8, 1))
    result: dict[str, Any] = {"rows": len(X), "columns": X.shape[1]}
    rng = np.random.default_rng(0)
    pick = rng.choice(len(X), size=min(20_000, len(X)), replace=False)
    for nproc in (1, 2):
        out = work / f"flights-{nproc}"
        seconds = _run(pretrain_command(data, out, nproc))
        model = GANAugmenter.load(out).model_
        X_syn, y_syn = model.sample(len(pick), random_state=1)
        auc = detection_auc(X.iloc[pick], X_syn, y_real=y.iloc[pick], y_synthetic=y_syn, cv=3)
        result[f"ranks_{nproc}"] = {"fit_s": seconds, "detection_auc": auc, "steps": _steps(out)}
        print(nproc, result[f"ranks_{nproc}"], flush=True)
    return result


def part_throughput(work: Path, rows: int, devices: list[str], batches: list[int]) -> list[dict[str, Any]]:
    """Training throughput of one process per device and batch size (default preset, 10 columns).

    In-process fits of two lengths; seconds per step is the difference of their wall times over
    the difference of their steps, so data preparation, hold-out scoring (ten checkpoints in
    both) and CUDA start-up cancel out.
    """
    import torch

    from ganaug.gan.presets import get_preset
    from ganaug.gan.synthesizer import ConditionalGAN

    # the adversarial stage in full: the default's gate may skip or stop it, and this measures it
    preset = get_preset("default").with_overrides(adversarial_gate=False)
    path = work / "throughput.parquet"
    make_table(path, rows, n_columns=10)
    frame = pd.read_parquet(path)
    X, y = frame.drop(columns="label"), frame["label"].to_numpy()
    out = []
    for device in devices:
        ConditionalGAN(preset, epochs=1, device=device, random_state=0).fit(X.iloc[:2000], y[:2000])  # warm-up
        for batch in batches:
            per_epoch = -(-int(rows * 0.85) // batch)
            epochs = (1, 1 + max(1, -(-300 // per_epoch)))
            seconds, steps = [], []
            for e in epochs:
                t0 = time.perf_counter()
                model = ConditionalGAN(preset, epochs=e, batch_size=batch, device=device,
                                       random_state=0).fit(X, y)
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                seconds.append(time.perf_counter() - t0)
                steps.append(int(model.history_["validation_steps"][-1]))
            per_step = (seconds[1] - seconds[0]) / (steps[1] - steps[0])
            out.append({"device": device, "batch": batch, "rows": rows, "seconds": seconds,
                        "steps": steps, "s_per_step": per_step, "rows_per_s": batch / per_step,
                        "torch_threads": torch.get_num_threads()})
            print(json.dumps(out[-1]), flush=True)
    return out


def to_markdown(results: dict[str, Any]) -> str:
    lines = ["# Scale-out training", "", common.machine_markdown(results["machine"]), ""]
    if "ddp" in results:
        r = results["ddp"]
        title = (f"## DDP time per step (CPU, gloo; {r['rows']:,} x {r['columns']} table, "
                 "per-rank batch 128)")
        lines += [title, "", "| ranks | s/step | rows/s |", "|---|---|---|"]
        for k in (1, 2):
            v = r[f"ranks_{k}"]
            lines.append(f"| {k} | {v['s_per_step']:.4f} | {v['rows_per_s']:,.0f} |")
        lines.append("")
    if "outofcore" in results:
        lines += ["## Out-of-core fit (streamed Parquet, 30 columns, default preset)", "",
                  "| rows | file GiB | data preparation s | fit s | steps | peak RSS GiB (so far) |",
                  "|---|---|---|---|---|---|"]
        for v in results["outofcore"]:
            lines.append(f"| {v['rows']:,} | {v['file_gib']:.2f} | {v['prepare_s']:.1f} | "
                         f"{v['fit_s']:.1f} | {v['steps']} | {v['peak_rss_gib_so_far']:.2f} |")
        lines.append("")
    if "throughput" in results:
        lines += ["## Training throughput of one process (default preset, 10 columns)", "",
                  "| device | batch | s/step | rows/s |", "|---|---|---|---|"]
        for v in results["throughput"]:
            lines.append(f"| {v['device']} | {v['batch']:,} | {v['s_per_step']:.4f} | "
                         f"{v['rows_per_s']:,.0f} |")
        lines.append("")
    if "flights" in results:
        r = results["flights"]
        lines += [f"## nycflights13::flights ({r['rows']:,} x {r['columns']}), default preset", "",
                  "| ranks | fit s | steps | detection AUC |", "|---|---|---|---|"]
        for k in (1, 2):
            v = r[f"ranks_{k}"]
            lines.append(f"| {k} | {v['fit_s']:.1f} | {v['steps']} | {v['detection_auc']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="out-of-core table sizes")
    parser.add_argument("--ddp-rows", type=int, default=20_000)
    parser.add_argument("--flights-rows", type=int, help="cap the flights table")
    parser.add_argument("--devices", nargs="+", default=["cpu"],
                        help="throughput: devices to compare (e.g. cpu cuda)")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 1024, 8192],
                        help="throughput: batch sizes")
    parser.add_argument("--throughput-rows", type=int, default=200_000)
    parser.add_argument("--name", default="scale_training", help="output file stem")
    parser.add_argument("--reduced", action="store_true", help="smoke run")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ganaug-scale-training"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--prepare-only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare_only:
        return prepare_only(args.prepare_only)
    if args.reduced:
        args.rows, args.ddp_rows, args.flights_rows = [100_000], 4_000, 20_000
        args.throughput_rows, args.batches = 5_000, [128, 1024]
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": common.machine_info(), "argv": sys.argv[1:]}
    if "ddp" in args.parts:
        results["ddp"] = part_ddp(args.work, args.ddp_rows, (1, 3))
        print(json.dumps(results["ddp"]), flush=True)
    if "outofcore" in args.parts:
        results["outofcore"] = part_outofcore(args.work, sorted(args.rows))
    if "flights" in args.parts:
        results["flights"] = part_flights(args.work, args.flights_rows)
    if "throughput" in args.parts:
        results["throughput"] = part_throughput(args.work, args.throughput_rows, args.devices, args.batches)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.name + ("_reduced" if args.reduced else "")
    common.write_json(args.out / f"{stem}.json", results)
    (args.out / f"{stem}.md").write_text(to_markdown(results))
    print(to_markdown(results))


if __name__ == "__main__":
    main()
