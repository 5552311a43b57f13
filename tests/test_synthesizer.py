"""ConditionalGAN: training loop behaviour."""

import numpy as np
import pytest

from ganaug.gan.synthesizer import ConditionalGAN, resolve_device


def test_history_eval_mode_and_exact_class_counts(mixed_df, tiny):
    X, y = mixed_df
    model = ConditionalGAN(preset=tiny, random_state=0).fit(X, y)
    assert len(model.history_["generator"]) == len(model.history_["discriminator"]) == 2
    assert all(np.isfinite(model.history_["generator"]))
    assert not model.generator_.training  # sampling never runs in train mode
    Xs, ys = model.sample(33, y="yes")
    assert len(Xs) == 33 and set(ys) == {"yes"}


def test_early_stopping_stops_and_records_validation(mixed_df, tiny):
    X, y = mixed_df
    cfg = tiny.with_overrides(epochs=400)
    model = ConditionalGAN(preset=cfg, early_stopping=True, patience=2, random_state=0).fit(X, y)
    assert "validation" in model.history_
    assert model.n_epochs_ < 400


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda"}
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")


@pytest.mark.parametrize("param", ["epochs", "batch_size"])
def test_bad_training_lengths(mixed_df, param):
    X, y = mixed_df
    with pytest.raises(ValueError, match=param):
        ConditionalGAN(**{param: 0}).fit(X, y)


@pytest.mark.parametrize(
    "field, value",
    [("loss", "wgan"), ("architecture", "resnet"), ("d_activation", "tanh"),
     ("numeric_encoding", "rank"), ("output", "tanh"), ("class_sampling", "balanced")],
)
def test_gan_config_refuses_unknown_strings(field, value):
    """An unknown string is an error, not silently WGAN-GP or the residual architecture."""
    from ganaug.gan.presets import PRESETS, GANConfig

    with pytest.raises(ValueError, match=f"GANConfig.{field} must be one of"):
        GANConfig(**{field: value})
    with pytest.raises(ValueError, match=field):
        PRESETS["default"].with_overrides(**{field: value})
    with pytest.raises(ValueError, match=field):
        GANConfig.from_dict({**PRESETS["classic"].to_dict(), field: value})
