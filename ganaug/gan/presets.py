"""Named hyperparameter presets for the conditional GAN (plain data, no torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ganaug.core.limits import positive_int

#: the allowed values of GANConfig's string fields (anything else is refused, not guessed)
CHOICES: dict[str, frozenset[str]] = {
    "architecture": frozenset({"classic", "residual", "conv"}),
    "d_activation": frozenset({"leaky_relu", "relu"}),
    "loss": frozenset({"bce", "wgan-gp"}),
    "numeric_encoding": frozenset({"quantile", "minmax"}),
    "output": frozenset({"linear", "sigmoid"}),
    "class_sampling": frozenset({"uniform", "empirical"}),
}

#: fields of earlier versions, read from stored configs: the value each had to leave the model
#: as this version builds it (the others were training-only options, dropped on reading)
REMOVED_FIELDS: dict[str, Any] = {
    "copula_covariance": "tied",  # "component" covariances per mixture component
    "unconditional_weight": None,  # the unconditional stage of semi-supervised fitting
    "unlabeled_copula": None,  # pseudo-labeled, soft or pooled unlabeled rows in the copula
}


@dataclass(frozen=True)
class GANConfig:
    """Every hyperparameter of a :class:`ganaug.gan.synthesizer.ConditionalGAN`.

    Training length is counted in optimiser steps: ``epochs`` passes over the data of
    ``ceil(n / batch_size)`` steps each; when ``epochs`` is None it scales with the data:
    ``target_passes`` passes, but at least ``target_steps`` steps (tiny tables still get enough
    updates) and at most ``max_steps`` (and ``max_epochs`` passes). ``time_budget`` (seconds) stops
    training early whatever the step count.

    ``holdout_selection`` holds out 15% of each class's rows and scores the generator on them
    (kernel two-sample distance of sampled rows to the held-out rows) before fine-tuning and at
    ten checkpoints; the best is kept, so fine-tuning never makes the held-out score worse than the
    closed-form copula (candidate zero). The copula is then refitted on all rows.

    ``architecture="conv"`` is for images stored as tables, one numeric column per pixel in
    row-major order (:mod:`ganaug.gan.conv`): ``generator_hidden`` lists the channels of the
    generator's upsampling stages (each doubles the side), ``discriminator_hidden`` those of the
    critic's downsampling stages, and ``image_shape`` the (height, width).
    """

    noise_dim: int = 64
    architecture: str = "residual"  # "classic", "residual" or "conv" (images, see image_shape)
    generator_hidden: tuple[int, ...] = (256, 256)
    discriminator_hidden: tuple[int, ...] = (256, 256)
    d_activation: str = "leaky_relu"
    dropout: float = 0.25
    pac: int = 4
    loss: str = "wgan-gp"  # "bce" or "wgan-gp"
    gp_lambda: float = 10.0
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.9)
    weight_decay: float = 1e-6
    batch_size: int = 256
    epochs: int | None = None
    target_steps: int = 1500
    target_passes: float = 0.0
    max_steps: int = 20000
    max_epochs: int = 300
    time_budget: float | None = None
    holdout_selection: bool = False
    # with holdout_selection and a copula: skip the adversarial stage where the held-out rows
    # cannot validate it (the data itself would not beat the copula's held-out score by the
    # selection margin), and stop it at the first checkpoint that scores no better than the
    # copula (gan/selection.py, adversarial_gate); False runs it in full whatever the scores
    adversarial_gate: bool = True
    numeric_encoding: str = "quantile"  # "quantile" or "minmax"
    output: str = "linear"  # "linear" or "sigmoid"
    tau: float = 0.2
    class_sampling: str = "uniform"  # "uniform" (training-by-sampling) or "empirical"
    aux_weight: float = 0.0  # weight of an auxiliary classifier's loss on generated rows
    copula: bool = False  # Gaussian-copula base fitted in closed form; the GAN learns a residual
    # Gaussian components per class in the copula base at most (1: a plain copula). Components
    # share one covariance per class, the scatter about the component means (sampling costs what
    # one component costs); with holdout_selection a mixture is kept only when it predicts the
    # held-out rows better.
    copula_components: int = 1
    copula_component_rows: int = 4  # one component per this many kappa rows of a class at most
    # weight of the one-hot codes (categories, missing indicators) in the k-means distance that
    # forms the components: a changed level then costs 2 * weight**2, against about one per
    # standard deviation of a numeric code, so components follow combinations of levels, which
    # the copula's per-level rates (linear in the numeric codes) cannot
    copula_category_weight: float = 1.0
    # condition the residual generator and the critic on the mixture component (the generator:
    # the component its copula base draws; the critic: each row's nearest component mean), so
    # fine-tuning can correct each component locally (needs copula; an experiment of
    # benchmarks/README.md, off in every preset)
    component_conditioning: bool = False
    critic_steps: int = 1  # critic updates per generator update (WGAN-GP's n_critic)
    # architecture="conv": (height, width) of the image whose pixels are the numeric columns in
    # row-major order; None infers a square side from the number of columns at fit time
    image_shape: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"GANConfig.{name} must be one of {sorted(allowed)}; got {value!r}")
        for name in ("copula_components", "copula_component_rows", "critic_steps"):
            positive_int(getattr(self, name), f"GANConfig.{name}")
        if not (
            isinstance(self.copula_category_weight, (int, float))
            and not isinstance(self.copula_category_weight, bool)
            and self.copula_category_weight > 0
        ):
            raise ValueError(
                f"GANConfig.copula_category_weight must be a number > 0; got {self.copula_category_weight!r}"
            )
        shape = self.image_shape
        if isinstance(shape, list):  # from JSON or a user's list: store the tuple
            shape = tuple(shape)
            object.__setattr__(self, "image_shape", shape)
        if shape is not None and not (
            isinstance(shape, tuple)
            and len(shape) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
        ):
            raise ValueError(f"GANConfig.image_shape must be (height, width), two positive integers; got {shape!r}")
        if self.architecture == "conv" and self.copula:
            raise ValueError("GANConfig.copula is not available with architecture='conv'")
        if self.component_conditioning and not self.copula:
            raise ValueError("GANConfig.component_conditioning needs copula=True (the components are the copula's)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GANConfig:
        """Inverse of :meth:`to_dict` (tuples restored from JSON lists)."""
        known = {f.name for f in fields(cls)}
        data = dict(data)
        for name, kept in REMOVED_FIELDS.items():
            value = data.pop(name, kept)
            many = data.get("copula_components", 1) > 1 and data.get("copula", False)
            if kept is not None and value != kept and many:
                raise ValueError(
                    f"GANConfig.{name}={value!r} was removed (a model trained with it cannot be "
                    f"read by this version; retrain it)"
                )
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown GAN hyperparameters: {sorted(unknown)}")
        clean = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**clean)

    def with_overrides(self, **overrides: Any) -> GANConfig:
        """A copy with the non-None overrides applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


PRESETS: dict[str, GANConfig] = {
    # The original MLP GAN (Goodfellow et al. 2014, conditional as in Mirza & Osindero 2014):
    # noise 100, G and D Linear-ReLU-Linear-Sigmoid, BCE, Adam lr 2e-4 betas (0.5, 0.999), data in
    # [0, 1] by min-max scaling.
    "classic": GANConfig(
        noise_dim=100,
        architecture="classic",
        generator_hidden=(256,),
        discriminator_hidden=(256,),
        d_activation="relu",
        dropout=0.0,
        pac=1,
        loss="bce",
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        weight_decay=0.0,
        batch_size=64,
        numeric_encoding="minmax",
        output="sigmoid",
        class_sampling="empirical",
    ),
    # ganaug's default, generative pretraining then adversarial fine-tuning: a Gaussian copula in
    # the quantile-normal code space (class means, pooled within-class covariance) is fitted in
    # closed form, and a residual generator (zero at start) is fine-tuned against a WGAN-GP critic
    # on packs of 4 rows with training-by-sampling (classes drawn uniformly) and an auxiliary
    # classifier. Why each value: benchmarks/README.md ("The default preset's values").
    "default": GANConfig(
        generator_hidden=(128, 128),
        discriminator_hidden=(128, 128),
        batch_size=128,
        lr_g=5e-5,
        lr_d=1e-3,
        target_steps=200,
        target_passes=3.0,
        max_steps=3000,
        aux_weight=1.0,
        copula=True,
        holdout_selection=True,
        # a mixture of up to 64 components per class (one per 2 kappa rows), kept only where it
        # predicts held-out rows better (log-likelihood, 2 standard errors)
        copula_components=64,
        copula_component_rows=2,
        copula_category_weight=3.0,  # components split by combinations of levels first
    ),
    # Images stored as tables (one numeric column per pixel, row-major): a class-conditional
    # DCGAN generator (noise 100 + class -> 32 x h/4 x w/4 map -> two ConvTranspose2d stages)
    # against a strided-conv WGAN-GP critic; pixels min-max scaled with a sigmoid output, as
    # DCGAN's tanh on [-1, 1] (the learning rate and length: benchmarks/README.md, MNIST-5k).
    "conv": GANConfig(
        noise_dim=100,
        architecture="conv",
        generator_hidden=(32, 16),
        discriminator_hidden=(16, 32),
        dropout=0.0,
        pac=1,
        lr_g=1e-3,
        lr_d=1e-3,
        batch_size=32,
        target_steps=2000,
        max_steps=2000,
        numeric_encoding="minmax",
        output="sigmoid",
        aux_weight=1.0,
    ),
}


def get_preset(name: str) -> GANConfig:
    """Return the named preset.

    Raises
    ------
    ValueError
        If the name is unknown.
    """
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
