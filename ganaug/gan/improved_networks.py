"""The networks of the semi-supervised GAN of Salimans et al. (2016): the weight-normalised
K+1-class discriminator (trunk + head) and the generator, as improved-gan's MNIST code has them;
:mod:`ganaug.gan.improved_gan` trains them.

- Discriminator: fully connected 1000-500-250-250-250 ReLU layers, weight-normalised (each unit's
  weight vector ``v * g / ||v||``; ``g`` fixed on hidden layers, trained on the output layer, set
  with ``b`` by the data-dependent initialisation), Gaussian noise on the input (sigma 0.3) and
  after every hidden layer (sigma 0.5), in training mode only.
- Generator: uniform noise (100) -> 500 -> 500 softplus layers with batch normalisation (no
  scale, a bias), then a weight-normalised sigmoid output layer (trained scale);
  ``generator_output="softplus"`` swaps the sigmoid for softplus, as ``DiscriminatorClassifier``
  does (with the sigmoid the discriminator wins the game within two epochs on a few thousand
  rows; benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ganaug.gan.rng import local_draws

#: the paper's discriminator hidden layers (MNIST)
HIDDEN: tuple[int, ...] = (1000, 500, 250, 250, 250)


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


def set_noise_generator(modules: Sequence[nn.Module], generator: torch.Generator | None) -> None:
    """Point every noise layer of ``modules`` at ``generator`` (None: torch's global RNG)."""
    for module in modules:
        for m in module.modules():
            if isinstance(m, GaussianNoise):
                m.generator = generator


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
    set_noise_generator((trunk, head), generator)
    trunk.train()
    head.train()
    pick = torch.randperm(len(rows), generator=generator)[:init_rows]
    head.initialise(trunk.initialise(rows[pick]))
    return trunk, head, G
