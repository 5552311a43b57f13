"""An experiment, not a product feature: row-conditioned generation (DAGAN) for tables.

Antoniou, Storkey and Edwards (2017), "Data Augmentation Generative Adversarial Networks": the
generator takes a real row plus noise and returns a new row of the same class; the critic judges
*pairs* (anchor, row), real pairs being an anchor and another real row of its class. Shared over
every class, the generator learns class-preserving moves from the large classes and applies them
to the small ones, which SMOTE approximates with straight lines to a neighbour.

Here the pair's second row is one of the anchor's ``K_NEIGHBOURS`` nearest same-class rows in the
codec's space (with a dozen rows in a class, "any row of the class" is a class-conditional GAN
again, not a local move). The generator works in the codec's space of
:class:`ganaug.gan.codec.TableCodec`: numeric columns move by a residual from the anchor's normal
score, categorical and missing-indicator spans get logits biased toward the anchor's level; the
decode head samples them as ganaug does (never argmax). ``benchmarks/quality.py`` runs it as the
``dagan`` method; sampling needs real anchor rows, so a stored model would need the rows, which is
one reason it is an experiment.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

#: real pairs: an anchor and one of its nearest same-class rows
K_NEIGHBOURS = 5
STEPS = 1_000
BATCH = 256
HIDDEN = 256
NOISE = 32
GP_LAMBDA = 10.0
TAU = 0.2


class _PairGenerator(nn.Module):
    def __init__(self, dim: int, n_classes: int, numeric: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("numeric", numeric)  # 1.0 on numeric code columns
        self.net = nn.Sequential(
            nn.Linear(dim + NOISE + n_classes, HIDDEN), nn.LeakyReLU(0.2),
            nn.Linear(HIDDEN, HIDDEN), nn.LeakyReLU(0.2),
            nn.Linear(HIDDEN, dim),
        )
        # the residual starts small: a new row begins near its anchor (learned scale)
        self.step = nn.Parameter(torch.tensor(0.1))

    def forward(self, anchor: torch.Tensor, noise: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([anchor, noise, cond], dim=1))
        # numeric codes: anchor + residual; one-hot spans (levels, missingness) keep the
        # anchor's level, as large logits (what SMOTENC does with its neighbours' levels)
        return self.numeric * (anchor + self.step * out) + (1 - self.numeric) * 30.0 * (2 * anchor - 1)


def _neighbours(Z: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Per row, the indices of its nearest same-class rows (itself when alone)."""
    from sklearn.neighbors import NearestNeighbors

    out: list[np.ndarray] = [np.empty(0, np.int64)] * len(Z)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        k = min(K_NEIGHBOURS + 1, len(rows))
        _, idx = NearestNeighbors(n_neighbors=k).fit(Z[rows]).kneighbors(Z[rows])
        for i, r in enumerate(rows):
            near = rows[idx[i, 1:]] if k > 1 else rows[idx[i]]
            out[r] = near
    return out


def dagan_resample(
    X: pd.DataFrame, y: pd.Series, counts: dict[Any, int], seed: int, steps: int = STEPS
) -> tuple[pd.DataFrame, pd.Series]:
    """``X, y`` followed by ``counts[c]`` new rows of each class ``c``, anchored on its real rows."""
    with torch.random.fork_rng():  # the seed below must not leak into the caller's RNG
        return _resample(X, y, counts, seed, steps)


def _resample(
    X: pd.DataFrame, y: pd.Series, counts: dict[Any, int], seed: int, steps: int
) -> tuple[pd.DataFrame, pd.Series]:
    from ganaug.core.schema import assemble
    from ganaug.gan.codec import TableCodec
    from ganaug.gan.decode import DecodeHead
    from ganaug.gan.networks import activate

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    codec = TableCodec().fit(X)
    Z = codec.encode(X).astype(np.float32)
    classes, y_idx = np.unique(np.asarray(y), return_inverse=True)
    n_classes = len(classes)
    spans = codec.spans_
    numeric = torch.cat([
        torch.full((s.dim,), 1.0 if s.kind == "numeric" else 0.0) for s in spans
    ])
    near = _neighbours(Z, y_idx)
    # anchors and partners drawn class-uniformly: the small classes' moves get trained too
    by_class = [np.flatnonzero(y_idx == c) for c in range(n_classes)]
    Zt = torch.from_numpy(Z)
    eye = torch.eye(n_classes)
    G = _PairGenerator(Z.shape[1], n_classes, numeric)
    D = nn.Sequential(
        nn.Linear(2 * Z.shape[1] + n_classes, HIDDEN), nn.LeakyReLU(0.2),
        nn.Linear(HIDDEN, HIDDEN), nn.LeakyReLU(0.2), nn.Linear(HIDDEN, 1),
    )
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.9))

    def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = rng.integers(0, n_classes, BATCH)
        a = np.array([rng.choice(by_class[k]) for k in c])
        b = np.array([rng.choice(near[i]) for i in a])
        return Zt[a], Zt[b], eye[c]

    def fake(anchor: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return activate(G(anchor, torch.randn(len(anchor), NOISE), cond), spans, "linear", TAU)

    for _ in range(steps):
        anchor, partner, cond = batch()
        made = fake(anchor, cond).detach()
        real_in = torch.cat([anchor, partner, cond], 1)
        fake_in = torch.cat([anchor, made, cond], 1)
        alpha = torch.rand(BATCH, 1)
        mixed = (alpha * real_in + (1 - alpha) * fake_in).requires_grad_(True)
        grad = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)[0]
        d_loss = D(fake_in).mean() - D(real_in).mean() + GP_LAMBDA * ((grad.norm(dim=1) - 1) ** 2).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = -D(torch.cat([anchor, fake(anchor, cond), cond], 1)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    head = DecodeHead(codec).eval()
    G.eval()
    new_X, new_y = [], []
    with torch.no_grad():
        for label, n in counts.items():
            if n <= 0:
                continue
            c = int(np.flatnonzero(classes == label)[0])
            a = Zt[rng.choice(by_class[c], n)]
            raw = G(a, torch.randn(n, NOISE), eye[[c] * n])
            num, codes = head(raw, torch.randn(n, head.n_draws))
            new_X.append(assemble(codec.schema_, num.numpy(), codes.numpy()))
            new_y += [label] * n
    if not new_X:
        return X, y
    out_X = pd.concat([X, *new_X], ignore_index=True)
    return out_X, pd.concat([y, pd.Series(new_y, name=y.name)], ignore_index=True)
