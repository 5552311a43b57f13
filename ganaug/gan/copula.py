"""The Gaussian-copula base of the default generator, fitted in closed form (no gradient steps).

Each class is a Gaussian in the codec's code space (numeric codes), or a mixture of Gaussian
components found by k-means that share one covariance per class; one-hot blocks (categories,
missing indicators) enter as log-rates that move linearly with the numeric codes. The
generator (:class:`ganaug.gan.networks.Generator`) holds the fitted values as buffers and adds
:func:`copula_base` to its network's output; the decode head and the ONNX graph read the same
buffers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ganaug.gan.codec import Span

#: smallest probability the copula base gives a level (log 1e-4 = -9.2 as a logit)
PROBABILITY_FLOOR = 1e-4


def normal_cdf(x: torch.Tensor) -> torch.Tensor:
    """The standard normal CDF (noise columns to uniforms, quantile-normal codes to ranks)."""
    return 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def component_index(noise: torch.Tensor, cond: torch.Tensor, component_cdf: torch.Tensor) -> torch.Tensor:
    """Each row's mixture component as ``class * K + k``: ``k`` is drawn by inverse CDF of the
    class's component weights (``component_cdf``, ``(n_classes, K)``) with the uniform of the last
    noise column; ``cond`` holds one-hot classes."""
    n_components = component_cdf.shape[1]
    u = normal_cdf(noise[:, -1:])
    k = (cond @ component_cdf < u).sum(dim=1).clamp(max=n_components - 1)
    return cond.argmax(dim=1) * n_components + k


def nearest_component(rows: torch.Tensor, labels: torch.Tensor, mean: torch.Tensor,
                      component_cdf: torch.Tensor) -> torch.Tensor:
    """The component (``class * K + k``) of each encoded row: the nearest mean (squared
    distance in the code space) among its class's components of positive weight. What a critic
    conditioned on components reads, for real and generated rows alike."""
    n_classes, n_components = component_cdf.shape
    means = mean.reshape(n_classes, n_components, -1).index_select(0, labels)
    cdf = component_cdf.index_select(0, labels)
    weight = cdf - torch.nn.functional.pad(cdf[:, :-1], (1, 0))
    distance = (rows.unsqueeze(1) - means).pow(2).sum(dim=2).masked_fill(weight <= 0, float("inf"))
    return labels * n_components + distance.argmin(dim=1)


def copula_base(
    noise: torch.Tensor,
    cond: torch.Tensor,
    factor: torch.Tensor,
    mean: torch.Tensor,
    mask: torch.Tensor,
    component_cdf: torch.Tensor,
) -> torch.Tensor:
    """The copula base ``mean[c, k] + noise @ factor[c]`` for one-hot classes ``cond``.

    Each class is a mixture of ``K`` Gaussian components sharing the class's factor
    (``factor``: ``(noise_dim, n_classes * dim)``, one product for all classes, then each row
    keeps its class's block); a row's component ``k`` is drawn by inverse CDF of the class's
    component weights (``component_cdf``, ``(n_classes, K)``) with the uniform of the last noise
    column and gives the mean. Outputs under ``mask`` (probabilities of one-hot blocks) come out
    as log-probabilities.
    """
    dim = mean.shape[1]
    n_classes = component_cdf.shape[0]
    index = component_index(noise, cond, component_cdf)
    linear = (noise @ factor).reshape(-1, n_classes, dim)
    linear = (linear * cond.unsqueeze(2)).sum(dim=1) + mean.index_select(0, index)
    return torch.where(mask, torch.log(linear.clamp(min=PROBABILITY_FLOOR)), linear)


#: k-means fits its centres on at most this many rows (a fixed random subset), then assigns every
#: row: on the 336,776-row flights table the default fit took 122 s with every row in k-means
#: and 31 s without a mixture
KMEANS_MAX_ROWS = 10_000


def kmeans(x: torch.Tensor, k: int, seed: int, iterations: int = 15) -> torch.Tensor:
    """Component index of each row of ``x``: k-means++ seeding, then Lloyd iterations (on at
    most :data:`KMEANS_MAX_ROWS` rows), then every row to its nearest centre."""
    gen = torch.Generator().manual_seed(seed)
    rows = x
    if len(x) > KMEANS_MAX_ROWS:
        x = x[torch.randperm(len(x), generator=gen)[:KMEANS_MAX_ROWS]]
    centres = x[torch.randint(len(x), (1,), generator=gen)]
    for _ in range(1, k):
        d2 = torch.cdist(x, centres).min(dim=1).values.pow(2)
        if float(d2.sum()) <= 0:
            break
        centres = torch.cat([centres, x[torch.multinomial(d2, 1, generator=gen)]])
    for _ in range(iterations):
        assign = torch.cdist(x, centres).argmin(dim=1)
        centres = torch.stack(
            [x[assign == j].mean(0) if bool((assign == j).any()) else centres[j] for j in range(len(centres))]
        )
    return torch.cdist(rows, centres).argmin(dim=1)


@dataclass
class CopulaStatistics:
    """Per-class sufficient statistics of encoded rows: all the one-component copula needs.

    Sums of these over disjoint sets of rows (batches of a streamed table, shards of a
    distributed job) are the statistics of the union, so the fit is exact however the rows are
    split.

    Attributes
    ----------
    counts : Tensor of shape (n_classes,)
        Rows per class.
    sums : Tensor of shape (n_classes, dim)
        Sum of the codes per class.
    cross : Tensor of shape (n_classes, dim, dim)
        Sum of the outer products ``z z^T`` per class.
    """

    counts: torch.Tensor
    sums: torch.Tensor
    cross: torch.Tensor

    def __add__(self, other: CopulaStatistics) -> CopulaStatistics:
        return CopulaStatistics(
            self.counts + other.counts, self.sums + other.sums, self.cross + other.cross
        )

    @classmethod
    def zeros(cls, n_classes: int, dim: int) -> CopulaStatistics:
        """Statistics of no rows (float64)."""
        return cls(
            torch.zeros(n_classes, dtype=torch.float64),
            torch.zeros(n_classes, dim, dtype=torch.float64),
            torch.zeros(n_classes, dim, dim, dtype=torch.float64),
        )


def copula_statistics(Z: torch.Tensor, labels: torch.Tensor, n_classes: int) -> CopulaStatistics:
    """Class counts, sums and cross-products of encoded rows ``Z`` (float64)."""
    Z, labels = Z.double(), labels.long()
    stats = CopulaStatistics.zeros(n_classes, Z.shape[1])
    for c in torch.unique(labels).tolist():
        Z_c = Z[labels == c]
        stats.counts[c], stats.sums[c], stats.cross[c] = len(Z_c), Z_c.sum(0), Z_c.T @ Z_c
    return stats


def _scatter(
    counts: torch.Tensor, sums: torch.Tensor, cross: torch.Tensor, means: torch.Tensor
) -> torch.Tensor:
    """Each class's scatter about ``means`` from its counts, sums and cross-products."""
    return (
        cross
        - sums[:, :, None] * means[:, None, :]
        - means[:, :, None] * sums[:, None, :]
        + counts[:, None, None] * means[:, :, None] * means[:, None, :]
    )


@dataclass
class CopulaFit:
    """What a closed-form fit gives: the values of the generator's copula buffers."""

    mean: torch.Tensor  # (n_classes * K, dim): component means
    factor: torch.Tensor  # (noise_dim, n_classes * dim): one factor a class
    component_cdf: torch.Tensor  # (n_classes, K): cumulative component weights
    logit_mask: torch.Tensor  # (dim,): outputs that are probabilities (one-hot blocks)


def fit_copula(
    statistics: CopulaStatistics,
    Z: torch.Tensor | None,
    labels: torch.Tensor | None,
    spans: Sequence[Span] | None,
    *,
    noise_dim: int,
    n_components: int,
    max_components: int,
    component_rows: int,
    category_weight: float,
    shrinkage: float | None = None,
) -> CopulaFit:
    """Fit the Gaussian-copula base in closed form.

    Numeric codes get a class covariance: the class's scatter plus ``kappa`` pseudo-rows of
    the pooled within-class covariance of all rows (shrunk towards its diagonal; ``kappa`` =
    the number of numeric codes, at least 10), so a class with a dozen rows borrows a full
    correlation structure from the others while a large class keeps its own. With
    ``max_components > 1`` and the rows ``Z`` a class is a mixture (k-means in the code space,
    one component per ``component_rows * kappa`` rows at most, the one-hot codes scaled by
    ``category_weight`` in the distance) with one covariance per class, the pooled scatter about
    the component means plus ``kappa`` pseudo-rows of the class's (components then follow a
    curved class as local pieces of it, at the sampling cost of one component). One-hot blocks
    get their rates ``p`` (smoothed by one pseudo-row of the overall rates) shifted by their
    linear regression on the numeric codes, ``p + B (x - mean)``, and enter the logits as
    ``log`` of that: sampling then draws every level, rare ones included, at its rate given the
    row's numeric values, instead of collapsing to the mode. Without ``spans`` every code is
    treated as Gaussian (the format-1 base).

    ``statistics`` are the rows' per-class sums (:func:`copula_statistics`; summed over the
    ranks of a distributed job, or accumulated batch by batch): all a one-component fit needs.
    ``n_components`` is the size of the generator's buffers (a class's components at most).
    """
    counts, sums, cross = statistics.counts, statistics.sums, statistics.cross
    n_classes = len(counts)
    n_rows = float(counts.sum())
    dim = sums.shape[1]
    overall = sums.sum(0) / max(n_rows, 1.0)
    means = (sums + overall) / (counts[:, None] + 1.0)
    # each class's scatter about its (smoothed) mean, from the cross-products
    scatter = _scatter(counts, sums, cross, means)
    dof = max(n_rows - n_classes, 1.0)
    numeric = torch.ones(dim, dtype=torch.bool)
    if spans is not None:
        numeric = torch.cat([torch.full((s.dim,), s.kind == "numeric") for s in spans])
    x_idx, v_idx = torch.nonzero(numeric).flatten(), torch.nonzero(~numeric).flatten()
    s_xx = scatter[:, x_idx][:, :, x_idx]
    s_vx_rows = scatter[:, v_idx][:, :, x_idx]
    lam = shrinkage if shrinkage is not None else min(1.0, len(x_idx) / max(n_rows, 1.0))
    # what the classes share: the pooled scatter, of every row about its class's mean
    cov = scatter[:, x_idx][:, :, x_idx].sum(0) / dof
    cov = (1 - lam) * cov + lam * torch.diag(torch.diag(cov))
    s_vx = (1 - lam) * (scatter[:, v_idx][:, :, x_idx].sum(0) / dof)
    if Z is None or labels is None:
        max_components = 1  # statistics alone: no k-means
    else:
        Z, labels = Z.double(), labels.long()
    kappa = max(len(x_idx), 10)
    blocks = torch.zeros(n_classes, n_components, dim, dtype=torch.float64)
    factor = torch.zeros(noise_dim, n_classes, 1, dim, dtype=torch.float64)  # a factor per class
    cdf = torch.ones(n_classes, n_components, dtype=torch.float64)
    for c in range(n_classes):
        n_c = int(counts[c])
        # the class's scatter plus kappa pseudo-rows of the pooled estimate
        cov_c = (s_xx[c] + kappa * cov) / (n_c + kappa)
        s_vx_c = (s_vx_rows[c] + kappa * s_vx) / (n_c + kappa)
        # components: k-means in the code space, one per component_rows * kappa rows at most
        k_c = int(max(1, min(max_components, n_c // (component_rows * kappa)))) if len(x_idx) else 1
        blocks[c] = means[c]  # unused components (never drawn) keep the class mean
        if k_c == 1:  # the class itself (the cdf of one component is 1 whatever its count)
            pieces = [(cov_c, s_vx_c)]
        else:
            assert Z is not None and labels is not None
            Z_c = Z[labels == c]
            # one-hot codes scaled: components then split by combinations of levels, which
            # the per-level rates of one component (linear in the numeric codes) miss
            Z_k = Z_c
            if category_weight != 1.0:  # a copy: Z_c gives the component means below
                Z_k = Z_c.clone()
                Z_k[:, v_idx] *= category_weight
            assign = kmeans(Z_k, k_c, seed=c)
            k_c = int(assign.max()) + 1
            shares = torch.bincount(assign, minlength=k_c)[:k_c].double() / max(n_c, 1)
            cdf[c, :k_c] = torch.cumsum(shares, 0)
            cdf[c, k_c - 1 :] = 1.0
            scatter_xx, scatter_vx = torch.zeros_like(cov_c), torch.zeros_like(s_vx_c)
            for j in range(k_c):  # each component: one pseudo-row of the class mean
                Z_j = Z_c[assign == j]
                mean_j = (Z_j.sum(0) + means[c]) / (len(Z_j) + 1.0)
                dx_j, dv_j = Z_j[:, x_idx] - mean_j[x_idx], Z_j[:, v_idx] - mean_j[v_idx]
                blocks[c, j] = mean_j
                scatter_xx, scatter_vx = scatter_xx + dx_j.T @ dx_j, scatter_vx + dv_j.T @ dx_j
            # the pooled scatter about the component means, kappa pseudo-rows of the class's
            dof_c = max(n_c - k_c, 0) + kappa
            pieces = [((scatter_xx + kappa * cov_c) / dof_c, (scatter_vx + kappa * s_vx_c) / dof_c)]
        for j, (cov_j, s_vx_j) in enumerate(pieces):
            if not len(x_idx):
                continue
            cov_j = cov_j + 1e-4 * torch.eye(len(x_idx), dtype=cov.dtype)
            chol = torch.linalg.cholesky(cov_j)
            factor[: len(x_idx), c, j, x_idx] = chol.T  # noise[:, :k] @ chol.T ~ N(0, cov_j)
            if len(v_idx):
                # E[v | x] - mean_v = B (x - mean_x), B = S_vx S_xx^-1, x - mean_x = chol n
                regression = torch.linalg.solve(cov_j, s_vx_j.T).T
                factor[: len(x_idx), c, j, v_idx] = (regression @ chol).T
    return CopulaFit(
        blocks.reshape(-1, dim).float(), factor.reshape(noise_dim, -1).float(), cdf.float(), ~numeric
    )


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, scale_tril: torch.Tensor) -> torch.Tensor:
    """Log-density of each row of ``x`` under ``N(mean, L L^T)``, ``L = scale_tril``.

    What ``torch.distributions.MultivariateNormal(mean, scale_tril=L).log_prob(x)`` computes,
    in the same operations (the same values), without its import of sympy (about 0.4 s at a
    process's first fit).
    """
    white = torch.linalg.solve_triangular(scale_tril, (x - mean).T, upper=False)
    half_log_det = scale_tril.diagonal().log().sum()
    return -0.5 * (x.shape[1] * math.log(2 * math.pi) + white.pow(2).sum(0)) - half_log_det


def copula_log_likelihood(
    Z: torch.Tensor,
    labels: torch.Tensor,
    mean: torch.Tensor,
    factor: torch.Tensor,
    component_cdf: torch.Tensor,
    logit_mask: torch.Tensor,
) -> torch.Tensor:
    """Log-density of the numeric codes of each row of ``Z`` under the copula base of its class
    (a Gaussian, or a mixture of Gaussians sharing its factor), from a generator's copula
    buffers; float64, on the CPU.

    What the held-out choice between the plain copula and a mixture compares: unlike a
    two-sample distance of sampled rows, it has no sampling noise, and a mixture that fits
    noise in the training rows predicts held-out rows worse.
    """
    x_idx = torch.nonzero(~logit_mask.cpu()).flatten()
    nx = len(x_idx)
    out = torch.zeros(len(labels), dtype=torch.float64)
    if nx == 0 or len(labels) == 0:
        return out
    Z, labels = Z.double().cpu()[:, x_idx], labels.long().cpu()
    n_classes, n_components = component_cdf.shape
    dim = mean.shape[1]
    factor = factor.double().cpu().reshape(factor.shape[0], -1, dim)[:nx][:, :, x_idx]
    means = mean.double().cpu()[:, x_idx].reshape(n_classes, n_components, nx)
    cdf = component_cdf.double().cpu()
    weights = torch.diff(cdf, dim=1, prepend=torch.zeros(n_classes, 1, dtype=cdf.dtype))
    for c in torch.unique(labels).tolist():
        rows = Z[labels == c]
        terms = []
        for k in range(n_components):
            if float(weights[c, k]) <= 0:
                continue
            scale_tril = factor[:, c, :].T  # the Cholesky factor fit_copula wrote
            terms.append(gaussian_log_density(rows, means[c, k], scale_tril) + torch.log(weights[c, k]))
        out[labels == c] = torch.logsumexp(torch.stack(terms), dim=0)
    return out
