"""Shared fixtures: small data and a tiny GAN configuration so the suite stays fast on 2 cores."""

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ganaug.gan.presets import PRESETS

#: the default preset, shrunk: same design, small networks, few steps; the adversarial stage
#: runs whatever the held-out scores say (the gate that skips it is tested in test_stage_gate.py)
TINY = PRESETS["default"].with_overrides(
    generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=32, epochs=2, noise_dim=8,
    adversarial_gate=False,
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


def fit_in_threads(rows: Callable[[int], Any], meddle: Callable[[], None]) -> dict[str, Any]:
    """``rows(seed)`` for seeds 0, 0, 1 (keys a, b, c) in three threads at once, while a fourth
    thread calls ``meddle`` (seeding and drawing a global RNG) in a loop."""
    got: dict[str, Any] = {}
    done = threading.Event()

    def meddler() -> None:
        while not done.is_set():
            meddle()

    def fit(key: str, seed: int) -> None:
        got[key] = rows(seed)

    threads = [threading.Thread(target=fit, args=(k, s)) for k, s in (("a", 0), ("b", 0), ("c", 1))]
    other = threading.Thread(target=meddler)
    other.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    other.join()
    return got


def city_table(n: int = 90, missing: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """A small mixed table (age, income, city) with yes/no labels; ``missing``: every 11th
    income is NaN."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(np.float64),
            "income": np.exp(rng.normal(10, 1, n)),
            "city": rng.choice(["paris", "lyon", "nice"], n),
        }
    )
    if missing:
        X.loc[X.index % 11 == 0, "income"] = np.nan
    return X, np.where(np.arange(n) % 3 == 0, "yes", "no")
