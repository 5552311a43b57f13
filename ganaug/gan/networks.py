"""The networks: generators, discriminators and their output activations (torch only, no training
loop). The decode head, :mod:`ganaug.gan.decode`, runs after them.

The decode head turns raw generator outputs into ready-to-use values inside the graph (numeric
columns on their original scale, integers rounded, missing values as NaN, categorical columns as
integer codes). The same :class:`~ganaug.gan.decode.SamplingModule` serves torch sampling and ONNX
export, so both paths compute the same thing by construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ganaug.gan.codec import Span
from ganaug.gan.rng import LocalDropout, gumbel_softmax

#: smallest probability the copula base gives a level (log 1e-4 = -9.2 as a logit)
PROBABILITY_FLOOR = 1e-4


def normal_cdf(x: torch.Tensor) -> torch.Tensor:
    """The standard normal CDF (noise columns to uniforms, quantile-normal codes to ranks)."""
    return 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def copula_base(
    noise: torch.Tensor,
    cond: torch.Tensor,
    factor: torch.Tensor,
    mean: torch.Tensor,
    mask: torch.Tensor,
    component_cdf: torch.Tensor,
    tied: bool = False,
) -> torch.Tensor:
    """The copula base ``mean[c, k] + noise @ factor[c, k]`` for one-hot classes ``cond``.

    Each class is a mixture of ``K`` Gaussian components; a row's component ``k`` is drawn by
    inverse CDF of the class's component weights (``component_cdf``, ``(n_classes, K)``) with the
    uniform of the last noise column. ``factor`` holds the factors side by side: one per
    component, ``(noise_dim, n_classes * K * dim)``, or with ``tied`` one per class shared by its
    components, ``(noise_dim, n_classes * dim)``, which costs what one component costs (a Python
    flag, not read from the shapes, so the traced ONNX graph has no data-dependent branch).
    One product for all, then each row keeps its block. Outputs under ``mask`` (probabilities of
    one-hot blocks) come out as log-probabilities.
    """
    n_blocks, dim = mean.shape
    n_classes, n_components = component_cdf.shape
    u = normal_cdf(noise[:, -1:])
    k = (cond @ component_cdf < u).sum(dim=1).clamp(max=n_components - 1)
    index = cond.argmax(dim=1) * n_components + k
    if tied:  # a factor per class
        linear = (noise @ factor).reshape(-1, n_classes, dim)
        linear = (linear * cond.unsqueeze(2)).sum(dim=1) + mean.index_select(0, index)
    else:
        block = one_hot(index, n_blocks)
        linear = (noise @ factor).reshape(-1, n_blocks, dim)
        linear = (linear * block.unsqueeze(2)).sum(dim=1) + block @ mean
    return torch.where(mask, torch.log(linear.clamp(min=PROBABILITY_FLOOR)), linear)


#: k-means fits its centres on at most this many rows (a fixed random subset), then assigns every
#: row: on the 336,776-row flights table the default fit took 122 s with every row in k-means
#: and 31 s without a mixture
KMEANS_MAX_ROWS = 10_000


def _kmeans(
    x: torch.Tensor, k: int, seed: int, iterations: int = 15, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Component index of each row of ``x``: k-means++ seeding, then Lloyd iterations (on at
    most :data:`KMEANS_MAX_ROWS` rows), then every row to its nearest centre. ``weights``
    (optional, one per row): weighted seeding and centres (rows of weight 0 do not count)."""
    gen = torch.Generator().manual_seed(seed)
    rows = x
    if len(x) > KMEANS_MAX_ROWS:
        pick = torch.randperm(len(x), generator=gen)[:KMEANS_MAX_ROWS]
        x = x[pick]
        weights = None if weights is None else weights[pick]
    if weights is None:
        centres = x[torch.randint(len(x), (1,), generator=gen)]
    else:  # the first centre a row of positive weight (all weights 1: the unweighted draw)
        positive = torch.nonzero(weights > 0).flatten()
        centres = x[positive[torch.randint(len(positive), (1,), generator=gen)]]
    for _ in range(1, k):
        d2 = torch.cdist(x, centres).min(dim=1).values.pow(2)
        if weights is not None:
            d2 = d2 * weights
        if float(d2.sum()) <= 0:
            break
        centres = torch.cat([centres, x[torch.multinomial(d2, 1, generator=gen)]])
    for _ in range(iterations):
        assign = torch.cdist(x, centres).argmin(dim=1)
        if weights is None:
            centres = torch.stack(
                [x[assign == j].mean(0) if bool((assign == j).any()) else centres[j] for j in range(len(centres))]
            )
        else:
            centres = torch.stack([
                (weights[assign == j, None] * x[assign == j]).sum(0) / weights[assign == j].sum()
                if float(weights[assign == j].sum()) > 0 else centres[j]
                for j in range(len(centres))
            ])
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


def copula_statistics(
    Z: torch.Tensor, labels: torch.Tensor, n_classes: int, weights: torch.Tensor | None = None
) -> CopulaStatistics:
    """Class counts, sums and cross-products of encoded rows ``Z`` (float64).

    ``weights`` (one per row, optional) makes them weighted sums: a row of weight ``w`` counts
    as ``w`` rows (semi-supervised fitting puts an unlabeled row in every class with its
    posterior as weight).
    """
    Z, labels = Z.double(), labels.long()
    stats = CopulaStatistics.zeros(n_classes, Z.shape[1])
    for c in torch.unique(labels).tolist():
        Z_c = Z[labels == c]
        if weights is None:
            stats.counts[c], stats.sums[c], stats.cross[c] = len(Z_c), Z_c.sum(0), Z_c.T @ Z_c
        else:
            w = weights[labels == c].double()[:, None]
            stats.counts[c], stats.sums[c], stats.cross[c] = w.sum(), (w * Z_c).sum(0), (w * Z_c).T @ Z_c
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


class ResidualBlock(nn.Module):
    """``x + W2 act(W1 act(x))``: keeps gradients healthy in deeper generators."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.act(self.fc1(self.act(x))))


def one_hot(condition: torch.Tensor, n_classes: int) -> torch.Tensor:
    """One-hot encode class indices with a gather on an identity matrix (exports cleanly to ONNX)."""
    eye = torch.eye(n_classes, dtype=torch.float32, device=condition.device)
    return eye.index_select(0, condition.reshape(-1).long())


class Generator(nn.Module):
    """Conditional generator: noise and class one-hot in, raw (pre-activation) outputs out.

    Parameters
    ----------
    noise_dim, n_classes, output_dim : int
        Input and output sizes.
    hidden : sequence of int
        ``architecture="classic"``: one hidden layer per entry (Linear-ReLU). ``"residual"``: a
        projection to ``hidden[0]`` followed by ``len(hidden)`` residual blocks.
    architecture : {"classic", "residual"}
        Layer layout.
    copula : bool
        Add a Gaussian-copula base, ``mean[c, k] + noise @ factor[c, k]`` (see
        :func:`copula_base`), to the network's output. Its buffers are set by :meth:`set_copula`
        from the encoded training data (the closed-form pretraining step); the network then
        learns only a residual, starting from zero.
    copula_components : int
        Gaussian components per class at most (a mixture copula); 1 is a plain copula.
    copula_covariance : {"component", "tied"}
        A covariance per component, or one per class shared by its components (the pooled
        scatter about the component means; sampling costs what a plain copula costs).
    copula_component_rows : int
        A class gets one component per ``copula_component_rows * kappa`` rows at most (``kappa``
        as in :meth:`set_copula`).
    copula_category_weight : float
        Scale of the one-hot codes (categories, missing indicators) in the k-means distance
        that forms the components (a fit-time setting; sampling does not read it).
    """

    def __init__(
        self,
        noise_dim: int,
        n_classes: int,
        output_dim: int,
        hidden: Sequence[int],
        architecture: str = "residual",
        copula: bool = False,
        copula_components: int = 1,
        copula_covariance: str = "component",
        copula_component_rows: int = 4,
        copula_category_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.n_classes = n_classes
        self.tied = copula_covariance == "tied" and copula_components > 1
        self.component_rows = copula_component_rows
        self.category_weight = float(copula_category_weight)
        #: components per class the next :meth:`set_copula` may use (hold-out selection sets 1
        #: to score the plain copula against the mixture)
        self.max_components = copula_components
        in_dim = noise_dim + n_classes
        layers: list[nn.Module] = []
        if architecture == "classic":
            for width in hidden:
                layers += [nn.Linear(in_dim, width), nn.ReLU()]
                in_dim = width
        else:
            layers.append(nn.Linear(in_dim, hidden[0]))
            layers += [ResidualBlock(hidden[0]) for _ in hidden]
            layers.append(nn.LeakyReLU(0.2))
            in_dim = hidden[0]
        layers.append(nn.Linear(in_dim, output_dim))
        self.net = nn.Sequential(*layers)
        self.copula = copula
        if copula:
            blocks = n_classes * copula_components
            self.register_buffer("base_mean", torch.zeros(blocks, output_dim))
            factors = n_classes if self.tied else blocks
            self.register_buffer("base_factor", torch.zeros(noise_dim, factors * output_dim))
            # cumulative component weights per class (padding components have weight 0)
            self.register_buffer("component_cdf", torch.ones(n_classes, copula_components))
            # outputs whose copula base is a probability (one-hot and missing-indicator blocks):
            # the base enters those logits as log(p), so sampling draws each level at its rate
            self.register_buffer("logit_mask", torch.zeros(output_dim, dtype=torch.bool))
            # the residual starts at zero: the untrained generator *is* the copula
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)

    def set_copula(
        self,
        Z: torch.Tensor | None,
        labels: torch.Tensor | None,
        spans: Sequence[Span] | None = None,
        shrinkage: float | None = None,
        statistics: CopulaStatistics | None = None,
        weights: torch.Tensor | None = None,
        pooled: CopulaStatistics | None = None,
    ) -> None:
        """Fit the Gaussian-copula base in closed form on encoded rows ``Z`` with class ``labels``.

        Numeric codes get a class covariance: the class's scatter plus ``kappa`` pseudo-rows of
        the pooled within-class covariance of all rows (shrunk towards its diagonal; ``kappa`` =
        the number of numeric codes, at least 10), so a class with a dozen rows borrows a full
        correlation structure from the others while a large class keeps its own. With
        ``copula_components > 1`` a class is a mixture (k-means in the code space, one component
        per ``copula_component_rows * kappa`` rows at most), each component's covariance its
        scatter plus ``kappa`` pseudo-rows of its class's, or with ``copula_covariance="tied"``
        one covariance per class, the pooled scatter about the component means plus ``kappa``
        pseudo-rows of the class's (components then follow a curved class as local pieces of
        it, at the sampling cost of one component). One-hot blocks (categories, missing
        indicators) get their rates ``p`` (smoothed by one pseudo-row of the overall rates)
        shifted by their linear regression on the numeric codes, ``p + B (x - mean)``, and enter
        the logits as ``log`` of that: sampling then draws every level, rare ones included, at
        its rate given the row's numeric values, instead of collapsing to the mode. Without ``spans`` every code is
        treated as Gaussian (the format-1 base).

        With one component the fit needs only the per-class sufficient statistics (row counts,
        sums and cross-products, :func:`copula_statistics`): pass ``statistics`` (for instance
        summed over the ranks of a distributed job, or accumulated batch by batch) instead of
        ``Z`` and ``labels``, and the base is the same as from the rows themselves. A mixture
        needs the rows (k-means): from statistics alone every class gets one component.

        ``weights`` (one per row of ``Z``, optional): a row of weight ``w`` counts as ``w``
        rows in the statistics, the k-means and the components (semi-supervised soft rows).
        ``pooled`` (optional): statistics of more rows (unlabeled ones, in each class by their
        posterior) that join only what every class shares, the overall mean and the pooled
        within-class covariance (the correlation structure); the class means, the class
        scatters and the mixture components stay those of ``Z`` / ``statistics``.
        """
        if statistics is None:
            if Z is None or labels is None:
                raise ValueError("set_copula needs the rows (Z, labels) or their statistics")
            statistics = copula_statistics(Z, labels, self.n_classes, weights)
        max_components = self.max_components if Z is not None else 1
        counts, sums, cross = statistics.counts, statistics.sums, statistics.cross
        every = statistics if pooled is None else statistics + pooled
        n_rows = float(every.counts.sum())
        dim = sums.shape[1]
        overall = every.sums.sum(0) / max(n_rows, 1.0)
        means = (sums + overall) / (counts[:, None] + 1.0)
        # each class's scatter about its (smoothed) mean, from the cross-products
        scatter = _scatter(counts, sums, cross, means)
        # what the classes share: the pooled scatter, of every row about its class's mean
        shared = scatter if pooled is None else _scatter(
            every.counts, every.sums, every.cross, (every.sums + overall) / (every.counts[:, None] + 1.0)
        )
        dof = max(n_rows - self.n_classes, 1.0)
        numeric = torch.ones(dim, dtype=torch.bool)
        if spans is not None:
            numeric = torch.cat([torch.full((s.dim,), s.kind == "numeric") for s in spans])
        x_idx, v_idx = torch.nonzero(numeric).flatten(), torch.nonzero(~numeric).flatten()
        s_xx = scatter[:, x_idx][:, :, x_idx]
        s_vx_rows = scatter[:, v_idx][:, :, x_idx]
        lam = shrinkage if shrinkage is not None else min(1.0, len(x_idx) / max(n_rows, 1.0))
        cov = shared[:, x_idx][:, :, x_idx].sum(0) / dof
        cov = (1 - lam) * cov + lam * torch.diag(torch.diag(cov))
        s_vx = (1 - lam) * (shared[:, v_idx][:, :, x_idx].sum(0) / dof)
        if Z is not None and labels is not None:
            Z, labels = Z.double(), labels.long()
        kappa = max(len(x_idx), 10)
        n_components = self.component_cdf.shape[1]
        blocks = torch.zeros(self.n_classes, n_components, dim, dtype=torch.float64)
        n_factors = 1 if self.tied else n_components
        factor = torch.zeros(self.noise_dim, self.n_classes, n_factors, dim, dtype=torch.float64)
        cdf = torch.ones(self.n_classes, n_components, dtype=torch.float64)
        for c in range(self.n_classes):
            n_c = int(counts[c]) if weights is None else float(counts[c])
            # the class's scatter plus kappa pseudo-rows of the pooled estimate
            cov_c = (s_xx[c] + kappa * cov) / (n_c + kappa)
            s_vx_c = (s_vx_rows[c] + kappa * s_vx) / (n_c + kappa)
            # components: k-means in the code space, one per component_rows * kappa rows at most
            k_c = int(max(1, min(max_components, n_c // (self.component_rows * kappa)))) if len(x_idx) else 1
            Z_c = Z[labels == c] if k_c > 1 else None
            w_c = weights[labels == c].double() if weights is not None and k_c > 1 else None
            if k_c > 1:
                # one-hot codes scaled: components then split by combinations of levels, which
                # the per-level rates of one component (linear in the numeric codes) miss
                Z_k = Z_c
                if self.category_weight != 1.0:  # a copy: Z_c gives the component means below
                    Z_k = Z_c.clone()
                    Z_k[:, v_idx] *= self.category_weight
                assign = _kmeans(Z_k, k_c, seed=c, weights=w_c)
                k_c = int(assign.max()) + 1
                mass = torch.bincount(assign, weights=w_c, minlength=k_c)[:k_c].double()
                shares = mass / max(n_c, 1)
            else:  # the class itself (the cdf of one component is 1 whatever its count)
                shares = torch.ones(1, dtype=torch.float64)
            cdf[c, :k_c] = torch.cumsum(shares, 0)
            cdf[c, k_c - 1 :] = 1.0
            blocks[c] = means[c]  # unused components (never drawn) keep the class mean
            pieces = []  # (component, covariance, S_vx) of each factor to build
            if k_c == 1:  # the class itself
                pieces.append((0, cov_c, s_vx_c))
            else:  # each component: one pseudo-row of the class mean
                scatter_xx = torch.zeros_like(cov_c)
                scatter_vx = torch.zeros_like(s_vx_c)
                for j in range(k_c):
                    Z_j = Z_c[assign == j]
                    # unweighted: w_j = 1 (the same floats as without weights)
                    w_j = torch.ones(len(Z_j), 1, dtype=Z_j.dtype) if w_c is None else w_c[assign == j, None]
                    n_j = len(Z_j) if w_c is None else float(w_j.sum())
                    mean_j = ((w_j * Z_j).sum(0) + means[c]) / (n_j + 1.0)
                    dx_j, dv_j = Z_j[:, x_idx] - mean_j[x_idx], Z_j[:, v_idx] - mean_j[v_idx]
                    wx_j = w_j * dx_j
                    blocks[c, j] = mean_j
                    if self.tied:
                        scatter_xx, scatter_vx = scatter_xx + dx_j.T @ wx_j, scatter_vx + dv_j.T @ wx_j
                    else:  # its own scatter plus kappa pseudo-rows of the class covariance
                        pieces.append((j, (dx_j.T @ wx_j + kappa * cov_c) / (n_j + kappa),
                                       (dv_j.T @ wx_j + kappa * s_vx_c) / (n_j + kappa)))
                if self.tied:  # the pooled scatter about the component means, kappa pseudo-rows
                    dof_c = max(n_c - k_c, 0) + kappa
                    pieces.append((0, (scatter_xx + kappa * cov_c) / dof_c,
                                   (scatter_vx + kappa * s_vx_c) / dof_c))
            for j, cov_j, s_vx_j in pieces:
                if not len(x_idx):
                    continue
                cov_j = cov_j + 1e-4 * torch.eye(len(x_idx), dtype=cov.dtype)
                chol = torch.linalg.cholesky(cov_j)
                factor[: len(x_idx), c, j, x_idx] = chol.T  # noise[:, :k] @ chol.T ~ N(0, cov_j)
                if len(v_idx):
                    # E[v | x] - mean_v = B (x - mean_x), B = S_vx S_xx^-1, x - mean_x = chol n
                    regression = torch.linalg.solve(cov_j, s_vx_j.T).T
                    factor[: len(x_idx), c, j, v_idx] = (regression @ chol).T
        self.base_mean.copy_(blocks.reshape(-1, dim).float())
        self.base_factor.copy_(factor.reshape(self.noise_dim, -1).float())
        self.component_cdf.copy_(cdf.float())
        self.logit_mask.copy_(~numeric)

    def copula_log_likelihood(self, Z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Log-density of the numeric codes of each row of ``Z`` under the copula base of its
        class (a Gaussian, or a mixture of Gaussians); float64, on the CPU.

        What the held-out choice between the plain copula and a mixture compares: unlike a
        two-sample distance of sampled rows, it has no sampling noise, and a mixture that fits
        noise in the training rows predicts held-out rows worse.
        """
        numeric = ~self.logit_mask.cpu()
        x_idx = torch.nonzero(numeric).flatten()
        nx = len(x_idx)
        out = torch.zeros(len(labels), dtype=torch.float64)
        if nx == 0 or len(labels) == 0:
            return out
        Z, labels = Z.double().cpu()[:, x_idx], labels.long().cpu()
        n_components = self.component_cdf.shape[1]
        dim = self.base_mean.shape[1]
        factor = self.base_factor.double().cpu().reshape(self.noise_dim, -1, dim)[:nx][:, :, x_idx]
        means = self.base_mean.double().cpu()[:, x_idx].reshape(self.n_classes, n_components, nx)
        cdf = self.component_cdf.double().cpu()
        weights = torch.diff(cdf, dim=1, prepend=torch.zeros(self.n_classes, 1, dtype=cdf.dtype))
        for c in torch.unique(labels).tolist():
            rows = Z[labels == c]
            terms = []
            for k in range(n_components):
                if float(weights[c, k]) <= 0:
                    continue
                block = c if self.tied else c * n_components + k
                scale_tril = factor[:, block, :].T  # the Cholesky factor set_copula wrote
                dist = torch.distributions.MultivariateNormal(means[c, k], scale_tril=scale_tril)
                terms.append(dist.log_prob(rows) + torch.log(weights[c, k]))
            out[labels == c] = torch.logsumexp(torch.stack(terms), dim=0)
        return out

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        cond = one_hot(condition, self.n_classes)
        out = self.net(torch.cat([noise, cond], dim=1))
        if self.copula:
            out = out + copula_base(
                noise, cond, self.base_factor, self.base_mean, self.logit_mask, self.component_cdf,
                self.tied,
            )
        return out


class Discriminator(nn.Module):
    """Conditional critic over packs of ``pac`` rows (PacGAN), returns one score per pack.

    Parameters
    ----------
    input_dim, n_classes : int
        Encoded row width and number of classes.
    hidden : sequence of int
        Hidden widths.
    pac : int
        Rows judged jointly; packing makes mode collapse visible to the critic.
    dropout : float
        Dropout after each hidden layer.
    activation : {"leaky_relu", "relu"}
        Hidden activation.
    sigmoid : bool
        Append a sigmoid (classic BCE GAN); otherwise return raw scores.
    """

    def __init__(
        self,
        input_dim: int,
        n_classes: int,
        hidden: Sequence[int],
        pac: int = 1,
        dropout: float = 0.0,
        activation: str = "leaky_relu",
        sigmoid: bool = False,
    ) -> None:
        super().__init__()
        self.pac = pac
        self.n_classes = n_classes
        in_dim = (input_dim + n_classes) * pac
        layers: list[nn.Module] = []
        for width in hidden:
            layers.append(nn.Linear(in_dim, width))
            layers.append(nn.LeakyReLU(0.2) if activation == "leaky_relu" else nn.ReLU())
            if dropout > 0:
                layers.append(LocalDropout(dropout))  # masks from the fit's own generator
            in_dim = width
        layers.append(nn.Linear(in_dim, 1))
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, rows: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Scores of the packs of ``rows`` under ``condition``.

        Parameters
        ----------
        rows : Tensor of shape (n, input_dim)
            Encoded rows, ``n`` a multiple of ``pac``.
        condition : Tensor of shape (n,) or (n, n_classes)
            Class indices, or a float condition matrix: an all-zero row means "no class" (the
            unconditional stage of semi-supervised pretraining judges every row so).
        """
        return self.net(_with_condition(rows, condition, self.n_classes, self.pac))


def condition_matrix(condition: torch.Tensor, n_classes: int) -> torch.Tensor:
    """One-hot rows for class indices; a 2-D float condition matrix is returned as it is.

    The branch is on the number of dimensions (static when traced), so the ONNX graph of a
    critic called with indices is the one it always was.
    """
    if condition.dim() == 2:
        return condition.to(torch.float32)
    return one_hot(condition, n_classes)


def _with_condition(rows: torch.Tensor, condition: torch.Tensor, n_classes: int, pac: int) -> torch.Tensor:
    x = torch.cat([rows, condition_matrix(condition, n_classes)], dim=1)
    return x.reshape(-1, x.shape[1] * pac)


def activate(
    raw: torch.Tensor,
    spans: Sequence[Span],
    output: str,
    tau: float | None,
    hard: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Apply each span's output activation to raw generator outputs.

    Parameters
    ----------
    raw : Tensor
        Generator outputs.
    spans : sequence of Span
        Output layout.
    output : {"linear", "sigmoid"}
        Activation for numeric spans (``sigmoid`` for the classic preset's [0, 1] data).
    tau : float or None
        Gumbel-softmax temperature for one-hot spans during training; ``None`` uses a plain
        softmax (sigmoid for the classic preset).
    hard : bool
        One-hot samples (Gumbel-max) instead of relaxed ones, as the decode head draws them.
    generator : torch.Generator, optional
        Source of the Gumbel noise (training passes its own; None is torch's global RNG).
    """
    if output == "sigmoid":
        return torch.sigmoid(raw)
    parts = []
    start = 0
    for span in spans:
        block = raw[:, start : start + span.dim]
        start += span.dim
        if span.kind == "numeric":
            parts.append(block)
        elif tau is None:
            parts.append(torch.softmax(block, dim=1))
        else:
            parts.append(gumbel_softmax(block, tau=tau, hard=hard, generator=generator))
    return torch.cat(parts, dim=1)
