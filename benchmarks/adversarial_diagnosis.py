"""Diagnosis: why the adversarial stage learns nothing on a table the copula cannot follow.

One table / regime / seed of ``quality.py`` (default: diamonds, 20,000 rows, imbalanced, seed
0). For each configuration (a ``GANConfig`` override of the default preset, run with the gate
and the hold-out selection off so the last generator is what is measured) it records during
training, every ``--every`` steps:

- the residual's size: RMS of the residual network's output against the RMS of the copula
  base around its component means, on fixed noise (the copula's own spread);
- the generator's gradient norm after its step, and the critic's loss (Wasserstein estimate);
- at a few steps, the detection AUC of the minority rows the model would add (the classes and
  counts ``quality.py`` oversamples, against the whole training split, as ``quality.py``).

It also says what the copula misses: detection AUC of the copula's rows on column subsets,
and on the majority class (thousands of rows) next to the minority classes (a few hundred).

    OMP_NUM_THREADS=1 python benchmarks/adversarial_diagnosis.py --steps 1500 \
        --out benchmarks/results/adv_diagnosis.json

Not a product feature: measured in benchmarks/README.md (issue 21, "Diagnosis").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))

import _common as common

#: configurations: name -> overrides of the default preset (the gate and selection are off)
CONFIGS: dict[str, dict[str, Any]] = {
    "residual": {},  # the default: copula + residual, generator lr 5e-5, critic lr 1e-3
    "residual-lr1e-3": {"lr_g": 1e-3},
    # without the auxiliary classifier's loss on generated rows (AC-GAN's pull towards rows
    # that are easy to classify), and without packing / with the critic's dropout off
    "residual-noaux": {"aux_weight": 0.0},
    "residual-noaux-lr1e-3": {"aux_weight": 0.0, "lr_g": 1e-3},
    "residual-noaux-pac1": {"aux_weight": 0.0, "pac": 1, "dropout": 0.0},
    # a stronger critic: five critic steps per generator step (WGAN-GP's n_critic)
    "residual-noaux-pac1-critic5": {"aux_weight": 0.0, "pac": 1, "dropout": 0.0, "critic_steps": 5},
    # attempt B4: the residual and the critic conditioned on the mixture component
    "local": {"aux_weight": 0.0, "pac": 1, "dropout": 0.0, "component_conditioning": True},
    "local-critic5": {"aux_weight": 0.0, "pac": 1, "dropout": 0.0, "component_conditioning": True,
                      "critic_steps": 5},
    "plain-lr2e-4": {  # no copula: a conditional WGAN-GP MLP as CTGAN's
        "copula": False, "generator_hidden": (256, 256), "discriminator_hidden": (256, 256),
        "lr_g": 2e-4, "lr_d": 2e-4,
    },
    "plain-lr1e-3": {
        "copula": False, "generator_hidden": (256, 256), "discriminator_hidden": (256, 256),
        "lr_g": 1e-3, "lr_d": 1e-3,
    },
}


def data(dataset: str, seed: int, max_rows: int, regime: str) -> dict[str, Any]:
    X, y = common.load_dataset(dataset, 0, max_rows)
    X_ref, y_ref, _, _ = common.split(X, y, seed)
    kept = common.regime_rows(y_ref, regime, seed)
    X_tr, y_tr = X_ref.iloc[kept].reset_index(drop=True), y_ref.iloc[kept].reset_index(drop=True)
    have = y_tr.value_counts()
    wanted = common.target_counts(y_tr)
    extra = {c: n - int(have[c]) for c, n in wanted.items() if n > int(have[c])}
    return {"X_tr": X_tr, "y_tr": y_tr, "X_ref": X_ref, "y_ref": y_ref, "extra": extra}


def synthetic(model: Any, extra: dict[Any, int], seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    labels = np.concatenate([np.full(n, c, dtype=object) for c, n in extra.items()])
    X, y = model.sample(len(labels), y=labels, random_state=seed)
    return X, np.asarray(y)


def detection(d: dict[str, Any], X_syn: pd.DataFrame, y_syn: np.ndarray, seed: int,
              columns: list[str] | None = None) -> float:
    from ganaug.evaluation import detection_auc

    X_ref, y_ref = d["X_ref"], d["y_ref"]
    if columns is not None:
        X_ref, X_syn = X_ref[columns], X_syn[columns]
    return float(detection_auc(X_ref, X_syn, y_real=y_ref, y_synthetic=y_syn, cv=3, random_state=seed))


class Probe:
    """A callback (``ganaug.gan.training.Callback``) recording the residual, gradients and losses."""

    def __init__(self, model: Any, d: dict[str, Any], every: int, detect_at: set[int], seed: int) -> None:
        self.model, self.d, self.every, self.detect_at, self.seed = model, d, every, detect_at, seed
        self.records: list[dict[str, Any]] = []
        self.d_losses: list[float] = []

    def _noise(self, G: Any) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(123)
        noise = torch.randn(2048, G.noise_dim, generator=gen)
        classes = len(self.model.classes_)
        return noise, torch.arange(2048) % classes

    def record(self, loop: Any, grad: float | None) -> None:
        from ganaug.gan.copula import copula_base
        from ganaug.gan.networks import one_hot

        G = loop.generator
        noise, cond = self._noise(G)
        with torch.no_grad():
            onehot = one_hot(cond, G.n_classes)
            if G.copula:
                base = copula_base(noise, onehot, G.base_factor, G.base_mean, G.logit_mask, G.component_cdf)
                residual = G(noise, cond) - base
            else:
                residual = G.net(torch.cat([noise, onehot], dim=1))
            rec: dict[str, Any] = {"step": loop.state.step, "residual_rms": float(residual.pow(2).mean().sqrt())}
            if G.copula:
                means = torch.cat([torch.zeros_like(noise[:, :-1]), noise[:, -1:]], dim=1)  # same components
                centred = base - copula_base(means, onehot, G.base_factor, G.base_mean, G.logit_mask, G.component_cdf)
                rec["copula_spread_rms"] = float(centred.pow(2).mean().sqrt())
        rec["generator_grad_norm"] = grad
        rec["critic_loss"] = self.d_losses[-1] if self.d_losses else None
        if loop.state.step in self.detect_at:
            X_syn, y_syn = synthetic(self.model, self.d["extra"], self.seed)
            rec["detection_auc"] = detection(self.d, X_syn, y_syn, self.seed)
            G.train()
        self.records.append(rec)
        print("   ", {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rec.items()}, flush=True)

    # hooks
    def on_train_begin(self, loop: Any) -> None:
        self.record(loop, None)

    def on_step_end(self, loop: Any) -> None:
        if loop.state.step % self.every == 0 or loop.state.step == loop.state.total_steps:
            grads = [p.grad.pow(2).sum() for p in loop.generator.parameters() if p.grad is not None]
            grad = float(torch.stack(grads).sum().sqrt()) if grads else 0.0
            self.record(loop, grad)

    def on_epoch_end(self, loop: Any) -> None:
        self.d_losses.append(loop.history["discriminator"][-1])

    def on_checkpoint(self, loop: Any, score: float) -> None:
        pass

    def on_train_end(self, loop: Any) -> None:
        pass

    def close(self) -> None:
        pass


def fit(name: str, overrides: dict[str, Any], d: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from ganaug.gan.presets import get_preset
    from ganaug.gan.synthesizer import ConditionalGAN

    cfg = get_preset("default").with_overrides(
        adversarial_gate=False, holdout_selection=False, target_steps=args.steps, max_steps=args.steps,
        target_passes=0.0, batch_size=args.batch, **overrides,
    )
    model = ConditionalGAN(cfg, random_state=args.seed)
    detect_at = {0, args.steps // 4, args.steps // 2, args.steps}
    probe = Probe(model, d, args.every, detect_at, args.seed)
    from ganaug.gan import synthesizer

    original = synthesizer.stage_callbacks  # the stage's callbacks, then the probe

    def callbacks(*a: Any, **k: Any) -> list[Any]:
        return [*original(*a, **k), probe]

    print(f"  {name}", flush=True)
    synthesizer.stage_callbacks = callbacks
    try:
        start = time.perf_counter()
        model.fit(d["X_tr"], d["y_tr"])
        seconds = time.perf_counter() - start
    finally:
        synthesizer.stage_callbacks = original
    return {"config": name, "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
            "seconds": seconds, "trajectory": probe.records, "model": model}


def what_the_model_misses(model: Any, d: dict[str, Any], seed: int, pairs: bool = False) -> dict[str, Any]:
    """Detection AUC of a model's rows on each column (and pairs of numeric columns), and per class."""
    X_syn, y_syn = synthetic(model, d["extra"], seed)
    numeric = [c for c in d["X_tr"].columns if pd.api.types.is_numeric_dtype(d["X_tr"][c])]
    subsets: dict[str, list[str]] = {c: [c] for c in d["X_tr"].columns}
    subsets["numeric columns"] = numeric
    for a in range(len(numeric) if pairs else 0):
        for b in range(a + 1, len(numeric)):
            subsets[f"{numeric[a]}+{numeric[b]}"] = [numeric[a], numeric[b]]
    out: dict[str, Any] = {"subsets": {}}
    for name, cols in subsets.items():
        out["subsets"][name] = detection(d, X_syn, y_syn, seed, cols)
    # the majority class, thousands of training rows, against the minority classes
    counts = d["y_tr"].value_counts()
    per_class = {}
    for c, n_have in counts.items():
        n = int(min(3000, (d["y_ref"] == c).sum()))
        X_c, y_c = model.sample(n, y=c, random_state=seed)
        per_class[str(c)] = {"training_rows": int(n_have), "detection_auc": detection(d, X_c, np.asarray(y_c), seed)}
    out["per_class"] = per_class
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="diamonds")
    p.add_argument("--max-rows", type=int, default=20000)
    p.add_argument("--regime", default="imbalanced")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names of CONFIGS")
    p.add_argument("--skip-copula", action="store_true", help="skip the column-subset analysis")
    p.add_argument("--out", default="benchmarks/results/adv_diagnosis.json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    d = data(args.dataset, args.seed, args.max_rows, args.regime)
    print(f"{args.dataset}: {len(d['X_tr'])} training rows {d['y_tr'].value_counts().to_dict()}, adds {d['extra']}",
          flush=True)
    results: dict[str, Any] = {"dataset": args.dataset, "regime": args.regime, "seed": args.seed,
                               "steps": args.steps, "batch": args.batch, "machine": common.machine_info(),
                               "fits": []}
    out = Path(args.out)
    for name in args.configs.split(","):
        res = fit(name, CONFIGS[name], d, args)
        model = res.pop("model")
        res["final"] = what_the_model_misses(model, d, args.seed)
        print("  final:", json.dumps(res["final"]), flush=True)
        if not args.skip_copula and name == next(iter(CONFIGS)):
            from ganaug.gan.presets import get_preset
            from ganaug.gan.synthesizer import ConditionalGAN

            copula = ConditionalGAN(
                get_preset("default").with_overrides(lr_g=0.0, target_steps=1, max_steps=1, adversarial_gate=False,
                                                     holdout_selection=False),
                random_state=args.seed,
            ).fit(d["X_tr"], d["y_tr"])
            results["copula"] = what_the_model_misses(copula, d, args.seed, pairs=True)
            print("  copula:", json.dumps(results["copula"], indent=None), flush=True)
        del model
        results["fits"].append(res)
        common.write_json(out, results)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
