"""Where the default preset's fit time goes, and whether the adversarial stage is kept.

For each table / regime / seed: the default preset is fitted (through ``GANAugmenter``, as
``quality.py`` does) with the hold-out score instrumented, recording

- ``stage0_s``: seconds from the start of the fit to the end of the copula stage (codec,
  encoding, copula and mixture fit, the step-0 hold-out score);
- ``fit_s``: the whole fit; ``copula_fit_s``: the fit of the same preset with ``max_steps=1``
  and ``lr_g=0`` (``quality.py``'s ``ganaug-copula``); each the fastest of ``--repeats`` plain
  fits (no instrumentation), the two alternating, so a load spike does not make a ratio;
- the hold-out scores at every checkpoint, the kept step, the stage the fit reports;
- ``floor``: the hold-out score of real training rows (the score of a generator that draws
  the data itself), against the copula's score on the same number of rows per class.

    python benchmarks/stage_profile.py --datasets default,hpc --regimes imbalanced --seeds 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _common as common


def _mmd_terms(a: Any, b: Any, bw: float) -> tuple[float, float]:
    """Biased and unbiased squared MMD (Gaussian kernel)."""
    import torch

    def k(x: Any, y: Any) -> Any:
        return torch.exp(-torch.cdist(x, y).pow(2) / (2 * bw**2))

    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    n, m = len(a), len(b)
    biased = float(kaa.mean() + kbb.mean() - 2 * kab.mean())
    ua = (kaa.sum() - kaa.diagonal().sum()) / max(n * (n - 1), 1)
    ub = (kbb.sum() - kbb.diagonal().sum()) / max(m * (m - 1), 1)
    return biased, float(ua + ub - 2 * kab.mean())


def floor_stats(h: Any, G: Any, spans: Any, cfg: Any, Z: Any, y: Any, seed: int) -> dict[str, float]:
    """The copula's and the real training rows' hold-out scores on matched row counts."""
    import torch

    from ganaug.gan.networks import activate

    G.eval()
    gen = torch.Generator().manual_seed(h.seed + 1)
    with torch.no_grad():
        noise = torch.randn(len(h.cond), cfg.noise_dim, generator=gen)
        gumbel = torch.Generator().manual_seed(h.seed + 2)
        fake = activate(G(noise, h.cond), spans, cfg.output, 1.0, hard=True, generator=gumbel)
    G.train()
    rng = np.random.default_rng(seed)
    out = {"cop_b": 0.0, "cop_u": 0.0, "floor_b": 0.0, "floor_u": 0.0, "cop_full_u": 0.0}
    for c in h.classes:
        f = fake[h.cond == c]
        real = h.real[h.labels == c]
        t = torch.from_numpy(Z[y == int(c)]).float()
        m = min(len(f), len(t))
        t = t[rng.choice(len(t), m, replace=False)]
        for key, a in (("cop", f[:m]), ("floor", t)):
            b_, u_ = _mmd_terms(a, real, h.bandwidth)
            out[key + "_b"] += b_ / len(h.classes)
            out[key + "_u"] += u_ / len(h.classes)
        out["cop_full_u"] += _mmd_terms(f, real, h.bandwidth)[1] / len(h.classes)
    # bootstrap over the held-out rows: the relative standard error of the copula's score
    boot = torch.Generator().manual_seed(seed)
    totals = torch.zeros(200, dtype=torch.float64)
    for c in h.classes:
        f = fake[h.cond == c]
        real = h.real[h.labels == c]
        k = lambda x, y: torch.exp(-torch.cdist(x, y).pow(2) / (2 * h.bandwidth**2)).double()
        kff, kfr, krr = k(f, f).mean(), k(f, real).mean(0), k(real, real)
        n = len(real)
        idx = torch.randint(n, (200, n), generator=boot)
        w = torch.zeros(200, n, dtype=torch.float64).scatter_add_(1, idx, torch.ones(200, n, dtype=torch.float64)) / n
        totals += (kff + ((w @ krr) * w).sum(1) - 2 * w @ kfr) / len(h.classes)
    out["boot_rel_se"] = float(totals.std() / totals.mean())
    out["n_val_min"] = int(min(int((h.labels == c).sum()) for c in h.classes))
    return out


def profile(
    dataset: str, regime: str, seed: int, max_rows: int | None, overrides: dict[str, Any], repeats: int = 3
) -> dict[str, Any]:
    import ganaug.gan.synthesizer as synth
    from ganaug.gan.presets import get_preset
    from ganaug.learn.sampler import GANAugmenter

    task = common.dataset_task(dataset)
    X, y = common.load_dataset(dataset, seed, max_rows=max_rows)
    X_tr, y_tr, _, _ = common.split(X, y, seed, task=task)
    X_r, y_r = common.apply_regime(X_tr, y_tr, regime, seed, task=task)
    calls: list[float] = []
    original = synth.Holdout.score
    original_hold_out = synth.MemoryRows.hold_out
    train: dict[str, Any] = {}
    stats: dict[str, float] = {}

    def hold_out(self: Any, *a: Any, **k: Any) -> Any:
        out = original_hold_out(self, *a, **k)
        train["Z"], train["y"] = self.Z[self.train_mask], self.y_idx[self.train_mask]
        return out

    def timed(self: Any, G: Any, spans: Any, cfg: Any) -> float:
        out = original(self, G, spans, cfg)
        calls.append(time.perf_counter())
        if len(calls) == 1:
            stats.update(floor_stats(self, G, spans, cfg, train["Z"], train["y"], seed))
            calls[0] = time.perf_counter()
        return out

    preset = get_preset("default").with_overrides(**overrides)
    synth.Holdout.score = timed  # type: ignore[method-assign]
    synth.MemoryRows.hold_out = hold_out  # type: ignore[method-assign]
    try:
        fit_start = time.perf_counter()
        aug = GANAugmenter(preset=preset, random_state=seed, task=task).fit(X_r, y_r)
    finally:
        synth.Holdout.score = original  # type: ignore[method-assign]
        synth.MemoryRows.hold_out = original_hold_out  # type: ignore[method-assign]
    copula = get_preset("default").with_overrides(lr_g=0.0, max_steps=1)
    best = {"default": float("inf"), "copula": float("inf")}
    for _ in range(repeats):
        for name, p in (("default", preset), ("copula", copula)):
            start = time.perf_counter()
            GANAugmenter(preset=p, random_state=seed, task=task).fit(X_r, y_r)
            best[name] = min(best[name], time.perf_counter() - start)
    fit_s, copula_s = best["default"], best["copula"]
    h = aug.model_.history_
    rec = {
        "dataset": dataset, "regime": regime, "seed": seed, "n_rows": len(X_r),
        "fit_s": fit_s, "copula_fit_s": copula_s, "ratio": fit_s / copula_s,
        "stage0_s": (calls[0] - fit_start) if calls else None,
        "n_steps": aug.model_.n_steps_,
        "validation": h.get("validation"), "validation_steps": h.get("validation_steps"),
        "selected_step": h.get("selected_step"), "stage": h.get("stage"), "reason": h.get("reason"),
        "attainable_gain": h.get("attainable_gain"), "stage_reason": h.get("stage_reason"), **stats,
    }
    return rec


def summary(records: list[dict[str, Any]]) -> str:
    """A markdown table per table and regime: fit seconds (median over seeds), the default's
    ratio to the copula stage (range over seeds) and where the rows came from."""
    lines = [
        "| table | regime | rows | default fit s | copula stage fit s | ratio (per seed) | stage | adversarial steps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["dataset"], r["regime"]), []).append(r)
    for (dataset, regime), rs in groups.items():
        stages = sorted({
            f"{r['stage']}, " + (r["stage_reason"] or "").removeprefix("adversarial stage ").split(":")[0] for r in rs
        })
        per_seed = " / ".join(f"{r['ratio']:.1f}" for r in rs)
        steps = " / ".join(str(r["n_steps"]) for r in rs)
        fit = np.median([r["fit_s"] for r in rs])
        copula = np.median([r["copula_fit_s"] for r in rs])
        lines.append(
            f"| {dataset} | {regime} | {rs[0]['n_rows']} | {fit:.2f} | {copula:.2f} | {per_seed} "
            f"| {'; '.join(stages)} | {steps} |"
        )
    ratios = [r["ratio"] for r in records]
    lines.append(f"\n{len(records)} fits: ratio {min(ratios):.1f}x-{max(ratios):.1f}x, median {np.median(ratios):.1f}x; "
                 f"adversarial rows kept in {sum(r['stage'] == 'adversarial' for r in records)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="default,attrition,hmda,caravan,hpc,flights,cps1985,housing,diabetes")
    p.add_argument("--regimes", default="imbalanced,lowdata")
    p.add_argument("--seeds", default="0")
    p.add_argument("--max-rows", type=int, default=20000)
    p.add_argument("--set", default="{}", help="GANConfig overrides of the default preset, as JSON")
    p.add_argument("--repeats", type=int, default=3, help="timed fits of each; the fastest counts")
    p.add_argument("--out", default="benchmarks/results/stage_profile.json")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    overrides = json.loads(args.set)
    # warm up torch (first-call costs) so that the first table's seconds are steady-state
    from sklearn.datasets import load_iris

    from ganaug.learn.sampler import GANAugmenter

    GANAugmenter(random_state=0).fit(*load_iris(return_X_y=True, as_frame=True))
    records = []
    for dataset in args.datasets.split(","):
        for regime in args.regimes.split(","):
            if common.dataset_task(dataset) == "regression" and regime != "lowdata":
                continue
            for seed in (int(s) for s in args.seeds.split(",")):
                rec = profile(dataset, regime, seed, args.max_rows, overrides, args.repeats)
                records.append(rec)
                v = rec["validation"] or [float("nan")]
                print(
                    f"{dataset:10s} {regime:10s} s{seed} fit {rec['fit_s']:6.2f}s copula {rec['copula_fit_s']:5.2f}s "
                    f"x{rec['ratio']:5.1f} steps {rec['n_steps']:5d} kept {rec['selected_step']} "
                    f"v0 {v[0]:.5f} best/v0 {min(v)/v[0]:.3f} | m-matched biased cop {rec['cop_b']:.5f} floor {rec['floor_b']:.5f} "
                    f"rel_se {rec['boot_rel_se']:.3f} n_val_min {rec['n_val_min']} | {rec['stage']}: {rec['stage_reason']}",
                    flush=True,
                )
    common.write_json(args.out, {"machine": common.machine_info(), "config": vars(args), "records": records})
    table = summary(records)
    Path(args.out).with_suffix(".md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
