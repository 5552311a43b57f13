"""The networks a config describes: the decode head, the generator and the critic (MLP with the
copula base, or the DCGAN pair for images), sized for a fitted codec and its classes."""

from __future__ import annotations

from torch import nn

from ganaug.gan.codec import TableCodec
from ganaug.gan.conv import ConvCritic, ConvGenerator, image_shape
from ganaug.gan.decode import DecodeHead
from ganaug.gan.networks import Discriminator, Generator
from ganaug.gan.presets import GANConfig


def build_networks(
    cfg: GANConfig, codec: TableCodec, n_classes: int
) -> tuple[DecodeHead, nn.Module, nn.Module]:
    """``(head, generator, critic)`` for ``n_classes`` classes, untrained: their initial weights
    come from wherever the caller routes torch's draws (:func:`ganaug.gan.rng.local_draws`)."""
    dim = codec.output_dim
    head = DecodeHead(codec, output=cfg.output)
    if cfg.architecture == "conv":
        shape = cfg.image_shape or image_shape(codec, None)
        generator = ConvGenerator(cfg.noise_dim, n_classes, cfg.generator_hidden, shape)
        critic = ConvCritic(
            n_classes, cfg.discriminator_hidden, shape, pac=cfg.pac, sigmoid=cfg.loss == "bce"
        )
        return head, generator, critic
    generator = Generator(
        cfg.noise_dim,
        n_classes,
        dim,
        cfg.generator_hidden,
        cfg.architecture,
        cfg.copula,
        cfg.copula_components,
        cfg.copula_component_rows,
        cfg.copula_category_weight,
        component_input=cfg.component_conditioning,
    )
    critic = Discriminator(
        dim,
        # conditioned on the mixture component (class * K + k) instead of the class alone
        n_classes * cfg.copula_components if cfg.component_conditioning else n_classes,
        cfg.discriminator_hidden,
        pac=cfg.pac,
        dropout=cfg.dropout,
        activation=cfg.d_activation,
        sigmoid=cfg.loss == "bce",
    )
    return head, generator, critic
