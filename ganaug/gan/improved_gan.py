"""The semi-supervised GAN of Salimans et al. (2016, *Improved Techniques for Training GANs*),
as its MNIST code has it (openai/improved-gan, ``mnist_svhn_cifar10/train_mnist_feature_matching.py``
and ``nn.py``), in torch.

The classifier is a ``K+1``-class discriminator: ``K`` logits ``l_1..l_K`` for the real classes,
the "generated" class's logit fixed at 0, so the probability that a row is real is
``D(x) = Z(x) / (Z(x) + 1)`` with ``Z = sum_k exp(l_k)``. It minimises the cross-entropy of the
labeled rows plus ``-log D(x)`` on unlabeled rows and ``-log(1 - D(G(z)))`` on generated rows
(each weighted 1/2, as the code does); the generator matches the mean of the discriminator's
last hidden layer on real rows (feature matching).

- Discriminator: fully connected 1000-500-250-250-250 ReLU layers, weight-normalised (each unit's
  weight vector ``v * g / ||v||``; ``g`` fixed on hidden layers, trained on the output layer, set
  with ``b`` by the data-dependent initialisation), Gaussian noise on the input (sigma 0.3) and
  after every hidden layer (sigma 0.5), in training mode only.
- Generator: uniform noise (100) -> 500 -> 500 softplus layers with batch normalisation (no
  scale, a bias), then a weight-normalised sigmoid output layer (trained scale);
  ``generator_output="softplus"`` swaps the sigmoid for softplus, as ``DiscriminatorClassifier``
  does (with the sigmoid the discriminator wins the game within two epochs on a few thousand
  rows; benchmarks/README.md).
- Adam (``beta1 = 0.5``), batches of 100 labeled (the labeled rows cycled in fresh
  permutations), 100 unlabeled and 100 generated rows, one discriminator step then one generator
  step on another permutation of the unlabeled rows.

Every random draw (weights, noise layers, batches, generator input) comes from local
``torch.Generator`` objects: torch's global RNG is neither read nor changed.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from ganaug.gan.rng import local_draws

#: the paper's discriminator hidden layers (MNIST)
HIDDEN: tuple[int, ...] = (1000, 500, 250, 250, 250)
#: improved-gan's Adam divides by ``sqrt(v + 1e-8)``, about torch's ``sqrt(v) + 1e-4``
ADAM_EPS = 1e-4


class WeightNormLinear(nn.Module):
    """A dense layer with weight normalisation, as improved-gan's ``nn.DenseLayer``.

    ``W[:, j] = v[:, j] * g[j] / ||v[:, j]||``; ``v`` starts ~ N(0, 0.1^2), ``g`` at 1, ``b`` at
    0. ``train_scale=False`` keeps ``g`` a buffer (only :meth:`initialise` sets it).
    """

    def __init__(
        self, n_in: int, n_out: int, *, train_scale: bool, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.v = nn.Parameter(torch.randn(n_in, n_out, generator=generator) * 0.1)
        self.b = nn.Parameter(torch.zeros(n_out))
        if train_scale:
            self.g = nn.Parameter(torch.ones(n_out))
        else:
            self.register_buffer("g", torch.ones(n_out))

    @property
    def out_features(self) -> int:
        return self.v.shape[1]

    def weight(self) -> torch.Tensor:
        """The effective weight matrix, of shape (n_in, n_out)."""
        return self.v * (self.g / self.v.pow(2).sum(dim=0).sqrt())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight() + self.b

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-dependent initialisation: scale and shift so that this layer's pre-activations
        on ``x`` have mean 0 and standard deviation 1 per unit; returns them."""
        out = x @ self.weight()
        mean = out.mean(dim=0)
        std = (out - mean).pow(2).mean(dim=0).sqrt().clamp_min(1e-8)
        self.g.div_(std)
        self.b.copy_(-mean / std)
        return (out - mean) / std


class GaussianNoise(nn.Module):
    """Adds N(0, sigma^2) noise in training mode (draws from :attr:`generator` when set)."""

    generator: torch.Generator | None = None

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.sigma == 0.0:
            return x
        noise = torch.randn(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        return x + self.sigma * noise


class Trunk(nn.Module):
    """The discriminator's hidden layers: noise, then (weight-normed dense, ReLU, noise) per
    layer except after the last, whose activations are the features feature matching matches."""

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        input_noise: float,
        hidden_noise: float,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        widths = [n_in, *hidden]
        self.noises = nn.ModuleList(
            [GaussianNoise(input_noise)] + [GaussianNoise(hidden_noise) for _ in hidden[:-1]]
        )
        self.layers = nn.ModuleList(
            [
                WeightNormLinear(a, b, train_scale=False, generator=generator)
                for a, b in itertools.pairwise(widths)
            ]
        )
        self.n_features = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for noise, layer in zip(self.noises, self.layers):
            x = F.relu(layer(noise(x)))
        return x

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-dependent initialisation of every layer in turn (noise on, as in the paper)."""
        for noise, layer in zip(self.noises, self.layers):
            x = F.relu(layer.initialise(noise(x)))
        return x


class Head(nn.Module):
    """Noise (sigma 0.5), then a weight-normed dense layer with a trained scale: ``K`` logits."""

    def __init__(
        self, n_in: int, n_classes: int, noise: float, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.noise = GaussianNoise(noise)
        self.layer = WeightNormLinear(n_in, n_classes, train_scale=True, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(self.noise(x))

    @torch.no_grad()
    def initialise(self, x: torch.Tensor) -> None:
        self.layer.initialise(self.noise(x))


#: the generator's output activations: the paper's sigmoid, or softplus (see ImprovedGenerator)
OUTPUTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
}


class ImprovedGenerator(nn.Module):
    """Uniform noise -> (dense, batch norm without scale, bias, softplus) x 2 -> weight-normed
    dense -> ``output``.

    ``output="sigmoid"`` is the paper's (rows in [0, 1]); ``"softplus"`` (rows >= 0, as the
    PyTorch port Sleepychord/ImprovedGAN-pytorch has it) keeps the game balanced on a few
    thousand rows, where the sigmoid generator loses it within two epochs (benchmarks/README.md).
    """

    def __init__(
        self,
        n_out: int,
        noise_dim: int = 100,
        hidden: Sequence[int] = (500, 500),
        generator: torch.Generator | None = None,
        output: str = "sigmoid",
    ) -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {sorted(OUTPUTS)}, got {output!r}")
        self.noise_dim = noise_dim
        self.output = output
        blocks: list[nn.Module] = []
        width = noise_dim
        for h in hidden:
            linear = nn.Linear(width, h, bias=False)
            bound = math.sqrt(6.0 / (width + h))  # Glorot uniform, lasagne's default
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound, generator=generator)
            blocks += [linear, nn.BatchNorm1d(h, eps=1e-6, affine=False), _Bias(h), nn.Softplus()]
            width = h
        self.hidden = nn.Sequential(*blocks)
        self.out = WeightNormLinear(width, n_out, train_scale=True)
        bound = math.sqrt(6.0 / (width + n_out))
        with torch.no_grad():
            self.out.v.uniform_(-bound, bound, generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return OUTPUTS[self.output](self.out(self.hidden(z)))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` generated rows from uniform noise drawn from ``generator``."""
        return self(torch.rand(n, self.noise_dim, generator=generator))


class _Bias(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.b = nn.Parameter(torch.zeros(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b


def real_probability(logits: torch.Tensor) -> torch.Tensor:
    """``D(x) = Z / (Z + 1)``, ``Z = sum_k exp(l_k)``: the K+1-th logit fixed at 0."""
    return torch.sigmoid(torch.logsumexp(logits, dim=1))


@dataclass
class Schedule:
    """How long and how fast to train.

    ``epochs`` passes over the rows (``len(rows) // batch_size`` steps each); the learning rate
    stays at ``learning_rate`` for the first ``1 - decay`` of them, then falls linearly to 0
    (the paper's CIFAR-10 code decays over its last third; its MNIST code keeps it constant:
    ``decay=0``). ``average``: the discriminator that predicts is an exponential moving
    average of its weights with this decay per step (bias-corrected; 0: the last weights; the
    paper tests a running average too). ``time_budget``: stop after the epoch that passes it
    (seconds).
    """

    epochs: int = 30
    batch_size: int = 100
    learning_rate: float = 0.003
    beta1: float = 0.5
    decay: float = 1.0 / 3.0
    unlabeled_weight: float = 1.0
    average: float = 0.0
    time_budget: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)


def _cycled(n: int, size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Batches of ``size`` indices into ``range(n)``: fresh permutations, concatenated."""
    pool = torch.empty(0, dtype=torch.long)
    while True:
        while len(pool) < size:
            pool = torch.cat([pool, torch.randperm(n, generator=generator)])
        yield pool[:size]
        pool = pool[size:]


def train(
    trunk: Trunk,
    head: Head,
    G: ImprovedGenerator | None,
    rows: torch.Tensor,
    labeled: torch.Tensor,
    labels: torch.Tensor,
    schedule: Schedule,
    generator: torch.Generator,
    callback: Callable[[int], None] | None = None,
) -> None:
    """Train ``trunk`` + ``head`` (and ``G``) in place.

    Parameters
    ----------
    trunk, head : Trunk, Head
        The discriminator, already initialised (:func:`initialise`).
    G : ImprovedGenerator or None
        The generator; None (or ``schedule.unlabeled_weight == 0``) trains the discriminator on
        the labeled rows alone, for the same number of steps (the supervised baseline).
    rows : Tensor of shape (n, d)
        Every row, labeled or not (the paper's unlabeled set holds the labeled rows too).
    labeled : Tensor of int64
        Positions of the labeled rows in ``rows``.
    labels : Tensor of int64
        Their classes, ``0..K-1``.
    schedule : Schedule
        Length, rates, budget; its ``history`` gets per-epoch losses and seconds.
    generator : torch.Generator
        Source of every draw (batches, noise layers, generator input).
    callback : callable, optional
        Called as ``callback(epoch)`` after each epoch (1-based), networks in training mode.
    """
    semi = G is not None and schedule.unlabeled_weight > 0
    batch = max(1, min(schedule.batch_size, len(rows)))
    steps_per_epoch = max(1, len(rows) // batch)
    total = steps_per_epoch * schedule.epochs
    d_params = [*trunk.parameters(), *head.parameters()]
    betas = (schedule.beta1, 0.999)
    # improved-gan's Adam divides by sqrt(v + 1e-8): about torch's eps=1e-4
    opt_d = torch.optim.Adam(d_params, lr=schedule.learning_rate, betas=betas, eps=ADAM_EPS)
    opt_g = (
        torch.optim.Adam(G.parameters(), lr=schedule.learning_rate, betas=betas, eps=ADAM_EPS)
        if semi
        else None
    )
    ema = _Average(d_params, schedule.average)
    _set_noise_generator((trunk, head), generator)
    trunk.train()
    head.train()
    if G is not None:
        G.train()
    lab_batches = _cycled(len(labeled), batch, generator)
    history = schedule.history
    for key in ("loss_labeled", "loss_unlabeled", "loss_generator", "seconds"):
        history.setdefault(key, [])
    start = time.perf_counter()
    step = 0
    for epoch in range(1, schedule.epochs + 1):
        unl = torch.randperm(len(rows), generator=generator)
        unl2 = torch.randperm(len(rows), generator=generator)
        sums = [0.0, 0.0, 0.0]
        for t in range(steps_per_epoch):
            lr = schedule.learning_rate * _rate(step / total, schedule.decay)
            step += 1
            for opt in (opt_d, opt_g):
                if opt is not None:
                    for group in opt.param_groups:
                        group["lr"] = lr
            pick = labeled[next(lab_batches)]
            loss_lab = F.cross_entropy(head(trunk(rows[pick])), labels[pick])
            loss = loss_lab
            if semi:
                real = rows[unl[t * batch : (t + 1) * batch]]
                with torch.no_grad():
                    fake = G.sample(batch, generator)
                lse_real = torch.logsumexp(head(trunk(real)), dim=1)
                lse_fake = torch.logsumexp(head(trunk(fake)), dim=1)
                # -log D(x) = softplus(lse) - lse; -log(1 - D(G(z))) = softplus(lse)
                loss_unl = 0.5 * (
                    (F.softplus(lse_real) - lse_real).mean() + F.softplus(lse_fake).mean()
                )
                loss = loss_lab + schedule.unlabeled_weight * loss_unl
                sums[1] += float(loss_unl.detach())
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
            ema.update()
            sums[0] += float(loss_lab.detach())
            if semi:
                sums[2] += _generator_step(trunk, G, opt_g, rows[unl2[t * batch : (t + 1) * batch]],
                                           batch, generator, d_params)
        history["loss_labeled"].append(sums[0] / steps_per_epoch)
        history["loss_unlabeled"].append(sums[1] / steps_per_epoch)
        history["loss_generator"].append(sums[2] / steps_per_epoch)
        history["seconds"].append(time.perf_counter() - start)
        if callback is not None:
            with ema.swapped():
                callback(epoch)
            trunk.train()
            head.train()
        if schedule.time_budget is not None and history["seconds"][-1] >= schedule.time_budget:
            break
    ema.swap()  # the averaged weights predict
    _set_noise_generator((trunk, head), None)  # a fitted network holds no generator (pickling)


def _set_noise_generator(modules: Sequence[nn.Module], generator: torch.Generator | None) -> None:
    for module in modules:
        for m in module.modules():
            if isinstance(m, GaussianNoise):
                m.generator = generator


class _Average:
    """A bias-corrected exponential moving average of parameters (``decay=0``: none)."""

    def __init__(self, params: list[nn.Parameter], decay: float) -> None:
        self.params, self.decay, self.weight = params, decay, 0.0
        self.shadow = [torch.zeros_like(p) for p in params] if decay > 0 else []

    @torch.no_grad()
    def update(self) -> None:
        if not self.shadow:
            return
        self.weight = self.decay * self.weight + (1.0 - self.decay)
        for s, p in zip(self.shadow, self.params):
            s.mul_(self.decay).add_(p.detach(), alpha=1.0 - self.decay)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the parameters with their (bias-corrected) averages."""
        if not self.shadow or self.weight == 0.0:
            return
        for s, p in zip(self.shadow, self.params):
            current = p.detach().clone()
            p.copy_(s / self.weight)
            s.copy_(current * self.weight)

    @contextmanager
    def swapped(self) -> Iterator[None]:
        self.swap()
        try:
            yield
        finally:
            self.swap()


def _rate(progress: float, decay: float) -> float:
    """Constant, then linear to 0 over the last ``decay`` of training."""
    if decay <= 0.0 or progress < 1.0 - decay:
        return 1.0
    return max(0.0, (1.0 - progress) / decay)


def _generator_step(
    trunk: Trunk,
    G: ImprovedGenerator,
    opt_g: torch.optim.Optimizer,
    real: torch.Tensor,
    batch: int,
    generator: torch.Generator,
    d_params: list[nn.Parameter],
) -> float:
    """One feature-matching step of ``G`` (the discriminator's weights get no gradient)."""
    for p in d_params:
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            target = trunk(real).mean(dim=0)
        loss = (trunk(G.sample(batch, generator)).mean(dim=0) - target).pow(2).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
    finally:
        for p in d_params:
            p.requires_grad_(True)
    return float(loss.detach())


def build(
    n_in: int,
    n_classes: int,
    rows: torch.Tensor,
    generator: torch.Generator,
    *,
    hidden: Sequence[int] = HIDDEN,
    input_noise: float = 0.3,
    hidden_noise: float = 0.5,
    semi: bool = True,
    init_rows: int = 500,
    generator_output: str = "sigmoid",
) -> tuple[Trunk, Head, ImprovedGenerator | None]:
    """The discriminator (trunk + head), initialised on ``init_rows`` random rows of ``rows``
    (the paper: 500), and the generator (None when ``semi`` is False; ``generator_output``:
    its output activation, see :class:`ImprovedGenerator`)."""
    with local_draws(generator):  # nn.Linear's own initialisation would read the global RNG
        trunk = Trunk(n_in, hidden, input_noise, hidden_noise, generator=generator)
        head = Head(trunk.n_features, n_classes, hidden_noise, generator=generator)
        G = ImprovedGenerator(n_in, generator=generator, output=generator_output) if semi else None
    _set_noise_generator((trunk, head), generator)
    trunk.train()
    head.train()
    pick = torch.randperm(len(rows), generator=generator)[:init_rows]
    head.initialise(trunk.initialise(rows[pick]))
    return trunk, head, G
