"""A residual generator and critic conditioned on the copula's mixture components (an
experiment's option, ``GANConfig.component_conditioning``), and the critic's step count."""

import numpy as np
import pandas as pd
import pytest
import torch

from ganaug.gan.copula import component_index, copula_base, nearest_component
from ganaug.gan.networks import Generator, one_hot
from ganaug.gan.presets import PRESETS, GANConfig
from ganaug.gan.synthesizer import ConditionalGAN

SMALL = PRESETS["default"].with_overrides(
    generator_hidden=(16, 16), discriminator_hidden=(16, 16), batch_size=32, max_steps=12,
    adversarial_gate=False, holdout_selection=False, copula_components=4,
)


def _blobs(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    centre = rng.choice([-3.0, 3.0], n)
    return pd.DataFrame({"a": centre + rng.normal(0, 0.3, n), "b": y + rng.normal(0, 0.3, n)}), y


def test_nearest_component_is_the_nearest_mean_of_the_class_with_positive_weight():
    # 2 classes x 3 components, 1-D codes; class 1's last component has no weight
    mean = torch.tensor([[0.0], [5.0], [9.0], [0.0], [4.0], [8.0]])
    cdf = torch.tensor([[0.2, 0.6, 1.0], [0.5, 1.0, 1.0]])
    rows = torch.tensor([[4.6], [8.9], [8.9], [-1.0]])
    labels = torch.tensor([0, 0, 1, 1])
    assert nearest_component(rows, labels, mean, cdf).tolist() == [1, 2, 4, 3]


def test_component_index_follows_the_last_noise_column():
    cdf = torch.tensor([[0.25, 0.5, 1.0]])
    cond = one_hot(torch.zeros(3, dtype=torch.long), 1)
    # uniforms 0.16, 0.5+, 0.84 by the normal CDF of the last column
    noise = torch.tensor([[0.0, -1.0], [0.0, 0.01], [0.0, 1.0]])
    assert component_index(noise, cond, cdf).tolist() == [0, 2, 2]


def test_untrained_component_generator_is_the_copula():
    G = Generator(5, 2, 4, (8,), copula=True, copula_components=3, component_input=True)
    G.component_cdf.copy_(torch.tensor([[0.3, 0.7, 1.0], [0.5, 1.0, 1.0]]))
    G.base_mean.normal_()
    G.base_factor.normal_()
    noise, cond = torch.randn(10, 5), torch.arange(10) % 2
    with torch.no_grad():
        expected = copula_base(noise, one_hot(cond, 2), G.base_factor, G.base_mean, G.logit_mask, G.component_cdf)
        torch.testing.assert_close(G(noise, cond), expected)
    assert G.net[0].in_features == 5 + 2 + 6
    with pytest.raises(ValueError, match="copula"):
        Generator(5, 2, 4, (8,), copula=False, component_input=True)


def test_config_checks():
    with pytest.raises(ValueError, match="component_conditioning needs copula"):
        GANConfig(component_conditioning=True)
    with pytest.raises(ValueError, match="critic_steps"):
        GANConfig(critic_steps=0)
    cfg = SMALL.with_overrides(component_conditioning=True, critic_steps=2)
    assert GANConfig.from_dict(cfg.to_dict()) == cfg


def test_fit_with_component_conditioning_learns_and_is_seeded():
    X, y = _blobs()
    cfg = SMALL.with_overrides(component_conditioning=True, critic_steps=2)
    a = ConditionalGAN(cfg, random_state=0).fit(X, y)
    b = ConditionalGAN(cfg, random_state=0).fit(X, y)
    assert a.n_steps_ == 12 and a.discriminator_.n_classes == 2 * 4
    assert a.generator_.component_input
    rows_a, _ = a.sample(30, random_state=1)
    rows_b, _ = b.sample(30, random_state=1)
    pd.testing.assert_frame_equal(rows_a, rows_b)
    # the residual moved: the rows differ from the copula alone's
    copula = ConditionalGAN(cfg.with_overrides(lr_g=0.0, max_steps=1), random_state=0).fit(X, y)
    rows_c, _ = copula.sample(30, random_state=1)
    assert not np.allclose(rows_a.to_numpy(), rows_c.to_numpy())
    # the sampling module computes the generator's rows (no fast path for this generator)
    module = a.sampling_module()
    assert not module.fast


def test_onnx_export_gives_the_torch_rows(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from ganaug.gan.export import export_onnx
    from ganaug.runtime import OnnxGenerator

    X, y = _blobs()
    model = ConditionalGAN(SMALL.with_overrides(component_conditioning=True), random_state=0).fit(X, y)
    path = export_onnx(model, tmp_path / "m.onnx")
    cond = np.repeat([0, 1], [7, 5])
    pd.testing.assert_frame_equal(OnnxGenerator(path).generate(cond, random_state=3),
                                  model.generate(cond, random_state=3), rtol=1e-4)


def test_generated_rows_of_a_batch_come_from_the_real_rows_components():
    """The critic's condition is each real row's component, and the generated half of the batch
    is drawn from exactly those components (the copula base's own draw)."""
    X, y = _blobs()
    model = ConditionalGAN(SMALL.with_overrides(component_conditioning=True), random_state=0).fit(X, y)
    from ganaug.gan.training import AdversarialSteps

    steps = AdversarialSteps.__new__(AdversarialSteps)
    steps.generator, steps.device = model.generator_, torch.device("cpu")
    steps.gen = torch.Generator().manual_seed(0)
    cdf = model.generator_.component_cdf
    weight = cdf - torch.nn.functional.pad(cdf[:, :-1], (1, 0))
    component = torch.nonzero(weight.reshape(-1) > 0).reshape(-1).repeat(5)
    noise = torch.zeros(len(component), model.generator_.noise_dim)
    noise[:, -1] = steps._component_noise(component)
    cond = one_hot(component // cdf.shape[1], cdf.shape[0])
    assert torch.equal(component_index(noise, cond, cdf), component)


def test_copula_kept_by_selection_is_refitted_on_every_row():
    """Where the selection keeps step 0 (a zero residual), the copula is refitted on the
    held-out rows too, as without component conditioning: the rows are the copula's."""
    X, y = _blobs()
    base = SMALL.with_overrides(holdout_selection=True, lr_g=0.0)
    plain = ConditionalGAN(base, random_state=0).fit(X, y)
    local = ConditionalGAN(base.with_overrides(component_conditioning=True), random_state=0).fit(X, y)
    assert plain.history_["selected_step"] == local.history_["selected_step"] == 0
    a, _ = plain.sample(40, random_state=2)
    b, _ = local.sample(40, random_state=2)
    pd.testing.assert_frame_equal(a, b)
