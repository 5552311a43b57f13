"""The networks: generators, discriminators and their output activations (torch only, no training
loop; the copula base the default generator adds is fitted in :mod:`ganaug.gan.copula`). The
decode head, :mod:`ganaug.gan.decode`, runs after them.

The decode head turns raw generator outputs into ready-to-use values inside the graph (numeric
columns on their original scale, integers rounded, missing values as NaN, categorical columns as
integer codes). The same :class:`~ganaug.gan.decode.SamplingModule` serves torch sampling and ONNX
export, so both paths compute the same thing by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ganaug.gan.codec import Span
from ganaug.gan.copula import (
    CopulaStatistics,
    component_index,
    copula_base,
    copula_log_likelihood,
    copula_statistics,
    fit_copula,
)
from ganaug.gan.rng import LocalDropout, gumbel_softmax


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
    copula_component_rows : int
        A class gets one component per ``copula_component_rows * kappa`` rows at most (``kappa``
        as in :meth:`set_copula`).
    copula_category_weight : float
        Scale of the one-hot codes (categories, missing indicators) in the k-means distance
        that forms the components (a fit-time setting; sampling does not read it).
    component_input : bool
        Give the residual network each row's mixture component (one-hot of ``class * K + k``,
        the component the copula base draws) besides the class, so the residual can differ
        from one component to the next (needs ``copula``).
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
        copula_component_rows: int = 4,
        copula_category_weight: float = 1.0,
        component_input: bool = False,
    ) -> None:
        super().__init__()
        if component_input and not copula:
            raise ValueError("component_input needs the copula base (copula=True)")
        self.component_input = component_input
        self.noise_dim = noise_dim
        self.n_classes = n_classes
        self.component_rows = copula_component_rows
        self.category_weight = float(copula_category_weight)
        #: components per class the next :meth:`set_copula` may use (hold-out selection sets 1
        #: to score the plain copula against the mixture)
        self.max_components = copula_components
        in_dim = noise_dim + n_classes + (n_classes * copula_components if component_input else 0)
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
            # one factor per class, shared by its components
            self.register_buffer("base_factor", torch.zeros(noise_dim, n_classes * output_dim))
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
    ) -> None:
        """Fit the copula base in closed form (:func:`ganaug.gan.copula.fit_copula`) on encoded
        rows ``Z`` with class ``labels``, or on their ``statistics`` alone (one component)."""
        if statistics is None:
            if Z is None or labels is None:
                raise ValueError("set_copula needs the rows (Z, labels) or their statistics")
            statistics = copula_statistics(Z, labels, self.n_classes)
        fit = fit_copula(
            statistics, Z, labels, spans,
            noise_dim=self.noise_dim,
            n_components=self.component_cdf.shape[1],
            max_components=self.max_components,
            component_rows=self.component_rows,
            category_weight=self.category_weight,
            shrinkage=shrinkage,
        )
        self.base_mean.copy_(fit.mean)
        self.base_factor.copy_(fit.factor)
        self.component_cdf.copy_(fit.component_cdf)
        self.logit_mask.copy_(fit.logit_mask)

    def copula_log_likelihood(self, Z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Log-density of each row's numeric codes under its class's copula base (float64, CPU;
        :func:`ganaug.gan.copula.copula_log_likelihood`)."""
        return copula_log_likelihood(
            Z, labels, self.base_mean, self.base_factor, self.component_cdf, self.logit_mask
        )

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        cond = one_hot(condition, self.n_classes)
        inputs = [noise, cond]
        if self.component_input:
            index = component_index(noise, cond, self.component_cdf)
            inputs.append(one_hot(index, self.component_cdf.numel()))
        out = self.net(torch.cat(inputs, dim=1))
        if self.copula:
            out = out + copula_base(
                noise, cond, self.base_factor, self.base_mean, self.logit_mask, self.component_cdf
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
            Class indices, or a float condition matrix (an all-zero row means "no class").
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
