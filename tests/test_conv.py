"""The conv preset: a DCGAN for images stored as tables (tiny 8 x 8 digits, a few steps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from ganaug.core.errors import ImageShapeError
from ganaug.gan import artifact
from ganaug.gan.export import export_onnx, read_metadata
from ganaug.gan.presets import PRESETS, GANConfig
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime import OnnxGenerator

#: the conv preset shrunk so that a fit takes a second or two
TINY = PRESETS["conv"].with_overrides(
    generator_hidden=(8, 4), discriminator_hidden=(4, 8), noise_dim=16, batch_size=32, epochs=2
)


def digits(n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Digits 0-2 of scikit-learn's 8 x 8 images (pixels 0-16, integers)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    keep = np.flatnonzero(y < 3)[:n]
    return X[keep], y[keep]


@pytest.fixture(scope="module")
def model() -> ConditionalGAN:
    X, y = digits()
    return ConditionalGAN(TINY, random_state=0).fit(X, y)


def test_trains_and_samples_pixel_rows(model):
    assert model.config_.image_shape == (8, 8)  # inferred from 64 columns
    assert model.n_steps_ == 2 * 4  # 2 epochs of ceil(120 / 32) steps
    assert type(model.generator_).__name__ == "ConvGenerator"
    X, y = model.sample(30, y=[0, 1, 2] * 10, random_state=1)
    assert X.shape == (30, 64) and list(y) == [0, 1, 2] * 10
    # min-max codes through a sigmoid: every pixel inside its observed range, integers rounded
    real, _ = digits()
    assert (X >= real.min(axis=0)).all() and (X <= real.max(axis=0)).all()
    assert np.array_equal(X, np.round(X))
    # pixels that are 0 in every training image stay 0
    assert (X[:, real.max(axis=0) == 0] == 0).all()


def test_onnx_parity_with_torch(model, tmp_path):
    path = export_onnx(model, tmp_path / "conv.onnx")
    assert read_metadata(path)["config"]["image_shape"] == [8, 8]
    gen = OnnxGenerator(path)
    for n, seed in ((1, 0), (37, 5)):
        expected, labels = model.sample(n, random_state=seed)
        got, got_labels = gen.sample(n, random_state=seed)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
        assert list(got_labels) == list(labels)


def test_artifact_round_trip(model, tmp_path):
    artifact.save(model, tmp_path / "art")
    loaded, _ = artifact.load(tmp_path / "art")
    assert loaded.config_.image_shape == (8, 8)
    a, _ = model.sample(20, random_state=3)
    b, _ = loaded.sample(20, random_state=3)
    np.testing.assert_array_equal(a, b)


def test_learns_the_classes():
    """After a short training, generated images are nearer their own class's mean image."""
    X, y = digits(150)
    cfg = PRESETS["conv"].with_overrides(
        generator_hidden=(16, 8), discriminator_hidden=(8, 16), noise_dim=16, batch_size=32,
        lr_g=2e-3, lr_d=2e-3, epochs=40,  # 200 steps
    )
    fitted = ConditionalGAN(cfg, random_state=0).fit(X, y)
    means = np.stack([X[y == c].mean(axis=0) for c in range(3)])
    rows, labels = fitted.sample(90, y=[0, 1, 2] * 30, random_state=0)
    nearest = np.argmin(((rows[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == labels).mean() > 0.6  # chance is 1/3


def test_explicit_non_square_shape():
    X, y = digits(60)
    X = X[:, :56]  # 7 x 8
    with pytest.raises(ImageShapeError) as err:
        ConditionalGAN(TINY, random_state=0).fit(X, y)
    assert err.value.field == "GANConfig.image_shape" and "56 columns" in str(err.value)
    fitted = ConditionalGAN(TINY.with_overrides(image_shape=(7, 8)), random_state=0).fit(X, y)
    rows, _ = fitted.sample(5, random_state=0)
    assert rows.shape == (5, 56)


def test_wrong_explicit_shape():
    X, y = digits(60)
    with pytest.raises(ImageShapeError, match=r"GANConfig.image_shape: 4 x 4 = 16 pixels, but X has 64"):
        ConditionalGAN(TINY.with_overrides(image_shape=(4, 4)), random_state=0).fit(X, y)


def test_categorical_or_missing_columns_are_refused():
    X, y = digits(60)
    frame = pd.DataFrame(X[:, :63], columns=[f"p{i}" for i in range(63)])
    frame["colour"] = "red"  # 64 columns, but one is categorical
    with pytest.raises(ImageShapeError) as err:
        ConditionalGAN(TINY, random_state=0).fit(frame, y)
    assert err.value.field == "X" and "colour" in str(err.value)
    holes = X.copy()
    holes[0, 5] = np.nan
    with pytest.raises(ImageShapeError, match="missing values"):
        ConditionalGAN(TINY, random_state=0).fit(holes, y)


def test_config_checks():
    assert GANConfig(architecture="conv", image_shape=[28, 28]).image_shape == (28, 28)
    for bad in ((0, 3), (28,), (2.5, 4), "28x28"):
        with pytest.raises(ValueError, match="GANConfig.image_shape"):
            GANConfig(architecture="conv", image_shape=bad)
    with pytest.raises(ValueError, match="GANConfig.copula"):
        GANConfig(architecture="conv", copula=True)
    assert GANConfig.from_dict(TINY.with_overrides(image_shape=(8, 8)).to_dict()).image_shape == (8, 8)
    X, y = digits(60)
    with pytest.raises(ValueError, match="GANConfig.generator_hidden"):
        ConditionalGAN(TINY.with_overrides(generator_hidden=()), random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="GANConfig.discriminator_hidden: 4 stages"):
        ConditionalGAN(TINY.with_overrides(discriminator_hidden=(4,) * 4), random_state=0).fit(X, y)


def test_augmenter_and_cli_accept_the_preset(tmp_path):
    from click.testing import CliRunner

    from ganaug.cli import main
    from ganaug.learn.sampler import GANAugmenter

    X, y = digits(90)
    y = np.where(np.arange(90) < 70, 0, 1)  # 70 vs 20
    X_res, y_res = GANAugmenter(preset="conv", epochs=1, random_state=0).fit_resample(X, y)
    assert X_res.shape == (140, 64) and np.bincount(y_res).tolist() == [70, 70]
    src = tmp_path / "images.csv"
    pd.DataFrame(X, columns=[f"p{i}" for i in range(64)]).assign(label=y).to_csv(src, index=False)
    out = tmp_path / "augmented.csv"
    result = CliRunner().invoke(
        main, ["augment", f"csv:{src}", "--target", "label", "--preset", "conv", "--epochs", "1",
               "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["label"].value_counts().to_dict() == {0: 70, 1: 70}
