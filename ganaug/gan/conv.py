"""Convolutional (DCGAN-style) generator and critic for images stored as tables (torch only).

An image table has one numeric column per pixel, in row-major order (MNIST's ``p0 ... p783`` for
28 x 28). The generator maps noise and the class one-hot through a linear projection to a small
map, then ``ConvTranspose2d`` stages that each double its side (Radford, Metz and Chintala, 2016,
"Unsupervised Representation Learning with Deep Convolutional GANs"), and flattens the
``height x width`` map back to the pixel columns; the codec, the training loop and the decode head
are the tables' own. No batch normalisation: the WGAN-GP critic must not mix rows of a batch, and
a generator without it samples the same in training and eval mode (and in the ONNX graph).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ganaug.core.errors import ImageShapeError
from ganaug.gan.codec import TableCodec
from ganaug.gan.networks import condition_matrix, one_hot


def image_shape(codec: TableCodec, shape: Sequence[int] | None) -> tuple[int, int]:
    """The ``(height, width)`` of the image whose pixels are the fitted table's columns.

    Parameters
    ----------
    codec : TableCodec
        Fitted on the table.
    shape : (int, int) or None
        The configured shape (``GANConfig.image_shape``); None infers a square.

    Raises
    ------
    ImageShapeError
        A column is categorical or has missing values (``field="X"``), or the number of columns
        is not ``height * width`` (``field="GANConfig.image_shape"``), or is not a square when no
        shape is given.
    """
    schema = codec.schema_
    bad = [c.name for c in schema.columns if c.kind != "numeric" or c.has_missing]
    if bad:
        raise ImageShapeError(
            "X",
            "the conv architecture needs one numeric pixel column per pixel, without missing "
            f"values; {len(bad)} column(s) are categorical or have missing values: {bad[:5]}",
        )
    n = len(schema.columns)
    if shape is None:
        side = math.isqrt(n)
        if side * side != n:
            raise ImageShapeError(
                "GANConfig.image_shape",
                f"X has {n} columns, not a square number of pixels: give image_shape=(height, "
                "width)",
            )
        return side, side
    height, width = (int(s) for s in shape)
    if height * width != n:
        raise ImageShapeError(
            "GANConfig.image_shape",
            f"{height} x {width} = {height * width} pixels, but X has {n} columns",
        )
    return height, width


def _base_side(side: int, stages: int) -> int:
    """Side of the projected map that ``stages`` doublings bring to at least ``side``."""
    return max(1, math.ceil(side / 2**stages))


class _ImageModule(nn.Module):
    """What the generator and the critic share: class count, image shape, channel list check."""

    def __init__(
        self, n_classes: int, channels: Sequence[int], image_shape: Sequence[int], field: str
    ) -> None:
        super().__init__()
        if not channels:
            raise ValueError(f"GANConfig.{field} must list at least one channel count")
        self.n_classes = n_classes
        self.height, self.width = (int(s) for s in image_shape)


class ConvGenerator(_ImageModule):
    """Class-conditional DCGAN generator: ``(noise, condition) -> height * width`` raw pixels.

    Parameters
    ----------
    noise_dim, n_classes : int
        Input sizes.
    channels : sequence of int
        Channels entering each upsampling stage; ``len(channels)`` stages each double the side
        (``ConvTranspose2d``, kernel 4, stride 2), the last one to a single channel. The map is
        cropped to ``image_shape`` when the side is not a multiple of ``2 ** len(channels)``.
    image_shape : (int, int)
        Height and width of the output image.
    """

    def __init__(
        self, noise_dim: int, n_classes: int, channels: Sequence[int], image_shape: Sequence[int]
    ) -> None:
        super().__init__(n_classes, channels, image_shape, "generator_hidden")
        self.noise_dim = noise_dim
        stages = len(channels)
        self.base = (_base_side(self.height, stages), _base_side(self.width, stages))
        self.channels0 = int(channels[0])
        self.project = nn.Sequential(
            nn.Linear(noise_dim + n_classes, self.channels0 * self.base[0] * self.base[1]),
            nn.LeakyReLU(0.2),
        )
        layers: list[nn.Module] = []
        outs = [*channels[1:], 1]
        for i, (c_in, c_out) in enumerate(zip(channels, outs)):
            layers.append(nn.ConvTranspose2d(int(c_in), int(c_out), 4, stride=2, padding=1))
            if i < stages - 1:
                layers.append(nn.LeakyReLU(0.2))
        self.deconv = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        x = self.project(torch.cat([noise, one_hot(condition, self.n_classes)], dim=1))
        x = self.deconv(x.reshape(-1, self.channels0, self.base[0], self.base[1]))
        return x[:, 0, : self.height, : self.width].flatten(1)


class ConvCritic(_ImageModule):
    """Class-conditional convolutional critic over packs of ``pac`` images, one score per pack.

    Each image enters with ``n_classes`` constant maps of its class one-hot as extra channels,
    and the ``pac`` images of a pack side by side as channels (PacGAN). Strided convolutions
    (kernel 4, stride 2) halve the side at each stage, then one linear layer scores.

    Parameters
    ----------
    n_classes : int
        Number of classes.
    channels : sequence of int
        Output channels of each downsampling stage.
    image_shape : (int, int)
        Height and width of the images (rows are their row-major pixels).
    pac : int
        Rows judged jointly.
    sigmoid : bool
        Append a sigmoid (BCE loss); otherwise return raw scores (WGAN-GP).
    """

    def __init__(
        self,
        n_classes: int,
        channels: Sequence[int],
        image_shape: Sequence[int],
        pac: int = 1,
        sigmoid: bool = False,
    ) -> None:
        super().__init__(n_classes, channels, image_shape, "discriminator_hidden")
        self.pac = pac
        layers: list[nn.Module] = []
        c_in, h, w = pac * (1 + n_classes), self.height, self.width
        for c_out in channels:
            layers += [nn.Conv2d(c_in, int(c_out), 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c_in, h, w = int(c_out), (h + 2 - 4) // 2 + 1, (w + 2 - 4) // 2 + 1
            if h < 1 or w < 1:
                raise ValueError(
                    f"GANConfig.discriminator_hidden: {len(channels)} stages halve a "
                    f"{self.height} x {self.width} image below one pixel"
                )
        layers += [nn.Flatten(), nn.Linear(c_in * h * w, 1)]
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, rows: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        n, h, w = rows.shape[0], self.height, self.width
        images = rows.reshape(n, 1, h, w)
        # class indices, or a float condition matrix (all-zero rows: no class)
        maps = condition_matrix(condition, self.n_classes).reshape(n, self.n_classes, 1, 1)
        x = torch.cat([images, maps.expand(n, self.n_classes, h, w)], dim=1)
        return self.net(x.reshape(n // self.pac, -1, h, w))
