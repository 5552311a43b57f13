"""Measured attempts at the semi-supervised GAN on MNIST-5k (or digits), one seed, one thread:
the networks of ``ganaug.gan.improved_gan`` trained as ``DiscriminatorClassifier(design="k+1")``
trains them, with one variant switched on. Prints test balanced accuracy and the mean losses
after every epoch::

    python benchmarks/semi_gan_attempts.py VARIANT SEED EPOCHS [mnist|digits]

``VARIANT`` joins flags with ``+``:

- ``sigmoid`` / ``softplus``: the generator's output activation (the paper's sigmoid; softplus);
- ``raw``: pixels divided by the largest pixel (255 on MNIST, as the paper), not the codec's
  per-column min-max (attempt 4);
- ``gretry``: a second generator step when the feature-matching loss is above 1 (as the
  PyTorch port Sleepychord/ImprovedGAN-pytorch does after its second epoch);
- ``labeled``: the same network on the labeled rows alone (no generator).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import balanced_accuracy_score

from ganaug.gan import improved_gan
from ganaug.gan.codec import TableCodec

FLAGS = {"sigmoid", "softplus", "raw", "gretry", "labeled"}


def main(variant: str, seed: int, epochs: int, dataset: str = "mnist") -> None:
    import semi_gan

    flags = set(variant.split("+"))
    if not flags <= FLAGS:
        raise SystemExit(f"unknown flags {sorted(flags - FLAGS)}; known: {sorted(FLAGS)}")
    torch.set_num_threads(1)
    d = semi_gan.split(dataset, *semi_gan.load(dataset), seed)
    if "raw" in flags:
        top = float(d["X_tr"].max())

        def enc(A: np.ndarray) -> torch.Tensor:
            return torch.from_numpy((A / top).astype(np.float32))
    else:
        codec = TableCodec(numeric_encoding="minmax").fit(pd.DataFrame(d["X_tr"]))

        def enc(A: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(codec.encode(pd.DataFrame(A)))

    rows, test = enc(d["X_tr"]), enc(d["X_te"])
    gen = torch.Generator().manual_seed(seed)
    output = "softplus" if "softplus" in flags else "sigmoid"
    trunk, head, G = improved_gan.build(
        rows.shape[1], 10, rows, gen, semi="labeled" not in flags, generator_output=output
    )
    if "gretry" in flags:
        once = improved_gan._generator_step

        def twice_when_lost(*args: object) -> float:
            loss = once(*args)
            return once(*args) if loss > 1.0 else loss

        improved_gan._generator_step = twice_when_lost
    schedule = improved_gan.Schedule(epochs=epochs, learning_rate=0.003, average=0.995)
    curve: list[float] = []
    t0, cpu0 = time.perf_counter(), time.process_time()

    def score(epoch: int) -> None:
        trunk.eval()
        head.eval()
        with torch.no_grad():
            pred = head(trunk(test)).argmax(1).numpy()
        curve.append(balanced_accuracy_score(d["y_te"], pred))
        h = schedule.history
        print(f"{variant} {seed} e{epoch} {curve[-1]:.3f} loss_unlabeled {h['loss_unlabeled'][-1]:.3f}"
              f" loss_generator {h['loss_generator'][-1]:.3f} {time.perf_counter() - t0:.0f} s wall"
              f" {time.process_time() - cpu0:.0f} s CPU", flush=True)

    improved_gan.train(trunk, head, G, rows, torch.from_numpy(d["labeled"]),
                       torch.from_numpy(d["y_semi"]), schedule, gen, callback=score)
    print("FINAL", variant, seed, round(curve[-1], 3), "best", round(max(curve), 3))


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
