"""Fit cost of both presets on scikit-learn's breast_cancer and digits tables.

For each preset and dataset: seconds to fit (after a warm-up fit, so torch's one-time start-up is
not counted), optimiser steps, training rows processed per second (steps x batch size / seconds),
data rows per second (table rows / seconds) and peak resident-memory growth during the fit.

    python benchmarks/fit.py              # both presets, both datasets, 3 repeats (about 1 minute)
    python benchmarks/fit.py --reduced    # one repeat, 5 epochs (smoke run)

Writes ``fit.json`` and ``fit.md`` (with machine info and date) to ``--out``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
from sampling import PeakRSS

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def _data(name: str) -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer, load_digits

    loader = {"breast_cancer": load_breast_cancer, "digits": load_digits}[name]
    return loader(return_X_y=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reduced", action="store_true", help="one repeat, 5 epochs")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)

    from ganaug.gan.presets import get_preset
    from ganaug.gan.synthesizer import ConditionalGAN

    repeats = 1 if args.reduced else args.repeats
    epochs = 5 if args.reduced else None
    X0, y0 = _data("breast_cancer")
    ConditionalGAN("default", epochs=1, random_state=0).fit(X0[:64], y0[:64])  # warm-up
    rows = []
    for preset in ("classic", "default"):
        for name in ("breast_cancer", "digits"):
            X, y = _data(name)
            times, peaks = [], []
            for r in range(repeats):
                # the adversarial stage in full (the default's gate may skip it): its cost is
                # what this measures
                config = get_preset(preset).with_overrides(adversarial_gate=False)
                model = ConditionalGAN(config, epochs=epochs, random_state=r)
                with PeakRSS() as peak:
                    start = time.perf_counter()
                    model.fit(X, y)
                    times.append(time.perf_counter() - start)
                peaks.append(peak.mb)
            cfg = model.config_
            batch = math.ceil(min(cfg.batch_size, len(X)) / cfg.pac) * cfg.pac
            steps = model.n_epochs_ * max(1, math.ceil(len(X) / batch))
            seconds = float(np.median(times))
            rows.append({
                "preset": preset, "dataset": name, "rows": len(X), "columns": X.shape[1],
                "epochs": model.n_epochs_, "steps": steps, "fit_s": seconds,
                "train_rows_per_s": steps * batch / seconds, "data_rows_per_s": len(X) / seconds,
                "peak_mb": max((m for m in peaks if m is not None), default=None),
            })
            print(rows[-1], flush=True)
    info = common.machine_info()
    report = {"benchmark": "fit", "machine": info, "config": vars(args) | {"out": str(args.out)},
              "results": rows}
    common.write_json(args.out / "fit.json", report)
    table = common.markdown_table(
        ["preset", "dataset", "rows x cols", "steps", "fit s", "train rows/s", "peak MB"],
        [[r["preset"], r["dataset"], f"{r['rows']} x {r['columns']}", r["steps"],
          f"{r['fit_s']:.2f}", f"{r['train_rows_per_s']:,.0f}",
          "-" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"] for r in rows],
    )
    md = (f"# Fit cost per preset (median of {repeats})\n\n{table}\n\n"
          f"## Machine\n\n{common.machine_markdown(info)}\n")
    (args.out / "fit.md").write_text(md, encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
