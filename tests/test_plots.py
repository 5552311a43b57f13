"""Tests for ganaug.evaluation.plots: every plot writes a PNG; missing matplotlib gives a clear error."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from ganaug.evaluation import plots

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    return path.exists() and path.read_bytes()[:8] == PNG


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.choice(np.array(["x", "y", "z"], dtype=object), n),
            "d": rng.random(n) > 0.3,
        }
    )
    df.loc[::7, "a"] = np.nan
    df.loc[::9, "c"] = None
    return df


def test_plot_marginals(tmp_path):
    out = plots.plot_marginals(_table(50, 0), _table(40, 1), tmp_path / "sub" / "m.png")
    assert _is_png(out)
    few = plots.plot_marginals(
        np.zeros((5, 20)), np.ones((5, 20)), tmp_path / "f.png", max_columns=3
    )
    assert _is_png(few)


def test_plot_correlations(tmp_path):
    assert _is_png(plots.plot_correlations(_table(50, 0), _table(50, 1), tmp_path / "c.png"))
    with pytest.raises(ValueError, match="numeric"):
        plots.plot_correlations(
            pd.DataFrame({"c": ["a"]}), pd.DataFrame({"c": ["b"]}), tmp_path / "x.png"
        )


def test_plot_loss_from_dict_and_fitted_object(tmp_path):
    history = {"generator": [1.0, 0.8, 0.7], "discriminator": [0.7, 0.69, 0.68]}
    assert _is_png(plots.plot_loss(history, tmp_path / "l.png"))
    augmenter = types.SimpleNamespace(model_=types.SimpleNamespace(history_=history))
    assert _is_png(plots.plot_loss(augmenter, str(tmp_path / "l2.png")))
    with pytest.raises(TypeError):
        plots.plot_loss(object(), tmp_path / "l3.png")
    with pytest.raises(ValueError):
        plots.plot_loss({"generator": []}, tmp_path / "l4.png")
    # no adversarial training: the plot says why instead of failing
    skipped = {"generator": [], "stage": "copula", "stage_reason": "adversarial stage skipped: why"}
    assert _is_png(plots.plot_loss(skipped, tmp_path / "l5.png"))


def test_plot_image_grid(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.random((30, 64)), np.repeat([0, 1, 2], 10)
    assert _is_png(plots.plot_image_grid(images, labels, tmp_path / "g.png", per_class=4))
    square = plots.plot_image_grid(
        rng.random((5, 4, 4)), [0, 0, 1, 1, 1], tmp_path / "s.png", image_shape=(4, 4), per_class=3
    )
    assert _is_png(square)
    with pytest.raises(ValueError, match="reshaped"):
        plots.plot_image_grid(images, labels, tmp_path / "bad.png", image_shape=(5, 5))
    with pytest.raises(ValueError, match="labels"):
        plots.plot_image_grid(images, labels[:3], tmp_path / "bad.png")


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r"ganaug\[plot\]"):
        plots.plot_loss({"generator": [1.0]}, tmp_path / "l.png")
