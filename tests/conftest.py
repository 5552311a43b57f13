"""Shared fixtures: small data and a tiny GAN configuration so the suite stays fast on 2 cores."""

import numpy as np
import pandas as pd
import pytest

from ganaug.gan.presets import PRESETS

#: the default preset, shrunk: same design, small networks, few steps
TINY = PRESETS["default"].with_overrides(
    generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=32, epochs=2, noise_dim=8
)


@pytest.fixture
def tiny():
    return TINY


@pytest.fixture
def mixed_df():
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": np.exp(rng.normal(10, 1, n)),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "member": rng.random(n) > 0.3,
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        }
    )
    y = pd.Series(np.where(rng.random(n) < 0.25, "yes", "no"), name="label")
    return df, y
