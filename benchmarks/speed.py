"""Training cost: fit seconds and peak memory as rows and columns grow; sampling rows/s.

* Rows sweep: mixed tables of 1e3, 1e4, 1e5 and 1e6 rows x 30 columns (``--rows``).
* Columns sweep: 10, 30 and 100 mixed columns at 1e4 rows (``--columns``, ``--column-rows``).
* Sampling: decoded rows/s of ONNX Runtime and torch on the 30-column table (the code of
  ``benchmarks/sampling.py``).

Training length is set in optimiser steps (``--steps``, through the preset's ``target_steps``).
ganaug counts whole epochs, so a table larger than ``steps x batch_size`` rows still makes one full
pass (more steps); every row therefore reports the steps actually run, the data preparation time
(codec fit + encoding, measured separately), the seconds per step, and ``fit_s_at_steps``, the fit
time normalised to exactly ``--steps`` steps (preparation + steps x seconds per step), which is the
figure to compare across sizes. Peak memory is the largest resident-set growth during the fit.

Usage::

    python benchmarks/speed.py                  # full run (1e6 rows takes a few minutes on 2 cores)
    python benchmarks/speed.py --reduced        # < 20 s smoke run
    python benchmarks/speed.py --rows 1000 100000 --columns 30 --steps 100

Writes ``speed.json`` and ``speed.md`` (with machine info and date) to ``--out``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import sampling

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def steps_run(config: Any, n_rows: int, n_epochs: int) -> int:
    """Optimiser steps of a fit (the batch and epoch arithmetic of ConditionalGAN._train)."""
    pac = config.pac
    batch = max(pac, math.ceil(min(config.batch_size, max(n_rows, pac)) / pac) * pac)
    return n_epochs * max(1, math.ceil(n_rows / batch))


def fit_once(n_rows: int, n_columns: int, preset: str, steps: int, seed: int = 0) -> dict[str, Any]:
    """Fit a GAN on a fresh mixed table; time the data preparation and the whole fit."""
    import torch

    from ganaug.gan.codec import TableCodec
    from ganaug.gan.presets import get_preset
    from ganaug.gan.synthesizer import ConditionalGAN

    X, y = sampling.make_table(n_rows, n_columns, random_state=seed)
    # the adversarial stage in full (the default's gate may skip it): its step cost is measured
    config = get_preset(preset).with_overrides(target_steps=steps, max_epochs=10**6,
                                               adversarial_gate=False)
    with sampling.PeakRSS() as prep_mem:
        t0 = time.perf_counter()
        codec = TableCodec(numeric_encoding=config.numeric_encoding).fit(X)
        Z = codec.encode(X)
        prep_s = time.perf_counter() - t0
    encoded_width = int(Z.shape[1])
    del codec, Z
    with sampling.PeakRSS() as fit_mem:
        t0 = time.perf_counter()
        model = ConditionalGAN(config, device="cpu", random_state=seed).fit(X, y)
        fit_s = time.perf_counter() - t0
    n_steps = steps_run(model.config_, n_rows, model.n_epochs_)
    per_step = max(fit_s - prep_s, 0.0) / n_steps
    return {
        "rows": n_rows, "columns": n_columns, "encoded_width": encoded_width, "preset": preset,
        "steps": n_steps, "epochs": model.n_epochs_, "fit_s": fit_s, "prep_s": prep_s,
        "s_per_step": per_step, "fit_s_at_steps": prep_s + steps * per_step,
        "peak_mb": fit_mem.mb, "prep_peak_mb": prep_mem.mb, "torch_threads": torch.get_num_threads(),
    }


def markdown(report: dict[str, Any]) -> str:
    cfg = report["config"]
    lines = ["# Training and sampling speed", "", common.machine_markdown(report["machine"]), ""]
    lines += [f"- config: {', '.join(f'{k}={v}' for k, v in cfg.items())}", ""]
    headers = ["rows", "columns", "encoded width", "steps run", "prep s", "s/step",
               f"fit s @ {cfg['steps']} steps", "fit s (actual)", "peak MB"]

    def table(rows: Sequence[dict[str, Any]]) -> str:
        return common.markdown_table(headers, [
            [f"{r['rows']:,}", r["columns"], r["encoded_width"], r["steps"], f"{r['prep_s']:.2f}",
             f"{r['s_per_step'] * 1000:.1f} ms", f"{r['fit_s_at_steps']:.2f}", f"{r['fit_s']:.2f}",
             f"{r['peak_mb']:.0f}" if r["peak_mb"] is not None else "-"]
            for r in rows
        ])

    lines += [f"## Fit cost vs rows ({cfg['preset']} preset, 30 mixed columns)", "",
              table(report["fit_rows"]), ""]
    lines += [f"## Fit cost vs columns ({cfg['column_rows']:,} rows)", "",
              table(report["fit_columns"]), ""]
    lines += ["## Sampling (decoded rows/s, 30 mixed columns)", ""]
    lines.append(common.markdown_table(
        ["preset", "method", "n", "rows/s", "peak MB"],
        [[r["preset"], r["method"], f"{r['n']:,}", f"{r['rows_per_s']:,.0f}", f"{r['peak_mb']:.0f}"]
         for r in report["sampling"]["results"]]))
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    as_int = lambda s: int(float(s))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reduced", action="store_true", help="smoke run in < 20 s")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p.add_argument("--rows", nargs="+", type=as_int, default=None)
    p.add_argument("--columns", nargs="+", type=as_int, default=None)
    p.add_argument("--column-rows", type=as_int, default=None)
    p.add_argument("--steps", type=as_int, default=None, help="training steps (default 200)")
    p.add_argument("--preset", choices=sampling.PRESET_NAMES, default="default")
    p.add_argument("--sample-sizes", nargs="+", type=as_int, default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="torch and sampling threads (default: torch's, and the CPUs available, at most 8)")
    p.add_argument("--exporter", choices=("auto", "dynamo", "torchscript"), default=None)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    reduced = args.reduced
    cfg = {
        "reduced": reduced,
        "preset": args.preset,
        "steps": args.steps or (8 if reduced else 200),
        "rows": args.rows or ([500, 2_000] if reduced else [1_000, 10_000, 100_000, 1_000_000]),
        "columns": args.columns or ([10, 30] if reduced else [10, 30, 100]),
        "column_rows": args.column_rows or (500 if reduced else 10_000),
        "sample_sizes": args.sample_sizes or ([10_000] if reduced else [10_000, 100_000]),
        "threads": args.threads,
        "exporter": args.exporter or ("torchscript" if reduced else "auto"),
    }
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    fit_once(100, 5, cfg["preset"], 2)  # warm-up: first-call costs of torch are not the table's
    fit_rows, fit_columns = [], []
    for n in cfg["rows"]:
        row = fit_once(n, 30, cfg["preset"], cfg["steps"])
        fit_rows.append(row)
        print(f"rows={n:>9,d} cols=30  steps={row['steps']:>5d} fit {row['fit_s']:7.2f}s "
              f"(@{cfg['steps']} steps {row['fit_s_at_steps']:6.2f}s) peak +{row['peak_mb'] or 0:.0f} MB")
    for c in cfg["columns"]:
        row = fit_once(cfg["column_rows"], c, cfg["preset"], cfg["steps"])
        fit_columns.append(row)
        print(f"rows={cfg['column_rows']:>9,d} cols={c:<3d} steps={row['steps']:>5d} "
              f"fit {row['fit_s']:7.2f}s peak +{row['peak_mb'] or 0:.0f} MB")
    samp = sampling.run_sampling(
        ["mixed30"], [cfg["preset"]], cfg["sample_sizes"], threads=args.threads,
        batch_size=65536, exporter=cfg["exporter"], stream_format="csv", repeats=1,
        methods=["onnx", "torch"], with_ctgan=False, train_rows=500 if reduced else 1000,
    )
    report = {
        "benchmark": "speed",
        "machine": common.machine_info(),
        "config": cfg,
        "fit_rows": fit_rows,
        "fit_columns": fit_columns,
        "sampling": samp,
        "total_seconds": time.perf_counter() - t0,
    }
    paths = sampling.write_report(report, args.out, "speed", markdown(report))
    print(f"wrote {paths[0]} and {paths[1]}")
    return report


if __name__ == "__main__":
    main()
