"""Sampled rows, not stored rates: categories (1-2% levels included) and missing values keep
their per-class frequencies; hold-out selection never keeps a generator worse than the copula."""

import numpy as np
import pandas as pd
import pytest
import torch

from ganaug.gan.selection import SELECTION_MARGIN
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime import OnnxGenerator

LEVELS = ["a", "b", "c", "d", "e"]


def rare_table(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Levels at 60/25/11/2/1%, a 30% flag, a 20% missing rate; the class shifts the rates."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    x = rng.normal(size=n) + y
    job = np.where(
        y == 1,
        rng.choice(LEVELS, n, p=[0.45, 0.35, 0.15, 0.03, 0.02]),
        rng.choice(LEVELS, n, p=[0.60, 0.25, 0.11, 0.02, 0.02]),
    )
    flag = np.where(rng.random(n) < 0.3 + 0.2 * y, "yes", "no")
    income = np.where(rng.random(n) < 0.2 - 0.1 * y, np.nan, np.exp(rng.normal(size=n) + x))
    return pd.DataFrame({"x": x, "job": job, "flag": flag, "income": income}), y


@pytest.fixture(scope="module")
def fitted():
    X, y = rare_table()
    # the default with its adversarial stage run in full (the gate would skip it on this
    # table), so that the selection between checkpoints is exercised
    cfg = ConditionalGAN()._config().with_overrides(adversarial_gate=False)
    model = ConditionalGAN(cfg, random_state=0).fit(X, y)
    return model, X, y


def _assert_close(real: pd.Series, synthetic: pd.Series, what: str) -> None:
    """Every level's synthetic rate within 4 standard errors (of the real class) + 1 point."""
    p_real = real.value_counts(normalize=True, dropna=False)
    p_syn = synthetic.value_counts(normalize=True, dropna=False).reindex(p_real.index, fill_value=0)
    bound = 4 * np.sqrt(p_real * (1 - p_real) / len(real)) + 0.01
    bad = (p_syn - p_real).abs() > bound
    assert not bad.any(), f"{what}: real {p_real[bad].to_dict()} vs synthetic {p_syn[bad].to_dict()}"


@pytest.mark.parametrize("label", [0, 1])
def test_levels_and_missing_rates_per_class(fitted, label):
    model, X, y = fitted
    Xs, _ = model.sample(20_000, y=label, random_state=1)
    real = X[y == label]
    for column in ("job", "flag"):
        _assert_close(real[column], Xs[column], f"class {label}, {column}")
    assert set(Xs["job"]) == set(LEVELS)  # the 1-2% levels are generated
    _assert_close(real["income"].isna(), Xs["income"].isna(), f"class {label}, income missing")


def test_onnx_rows_sample_the_same_levels(fitted, tmp_path):
    from ganaug.gan.export import export_onnx

    model = fitted[0]

    gen = OnnxGenerator(export_onnx(model, tmp_path / "m.onnx"))
    cond = np.repeat([0, 1], 500)
    onnx_rows = gen.generate(cond, random_state=5)
    torch_rows = model.generate(cond, random_state=5)
    pd.testing.assert_series_equal(onnx_rows["job"], torch_rows["job"])
    pd.testing.assert_series_equal(onnx_rows["income"].isna(), torch_rows["income"].isna())


def test_selected_generator_never_worse_than_the_copula(fitted):
    model = fitted[0]
    history = model.history_
    scores, steps = history["validation"], history["validation_steps"]
    assert steps[0] == 0 and len(scores) == len(steps) > 2  # candidate zero, then checkpoints
    chosen = scores[steps.index(history["selected_step"])]
    assert chosen <= scores[0]
    if history["selected_step"]:  # a fine-tuned checkpoint beat the copula by the margin
        assert chosen < scores[0] * (1 - SELECTION_MARGIN) and chosen == min(scores)
    else:  # no checkpoint did
        assert min(scores) >= scores[0] * (1 - SELECTION_MARGIN)


def test_residual_moves_away_from_zero():
    X, y = rare_table(600)
    model = ConditionalGAN(random_state=0)
    model.preset = model._config().with_overrides(holdout_selection=False, target_steps=50)
    model.fit(X, y)
    last = model.generator_.net[-1]
    assert float(last.weight.detach().abs().sum()) > 0  # started at exactly zero
    assert "validation" not in model.history_


def test_training_length_scales_with_rows_and_respects_the_time_budget():
    X, y = rare_table(600)
    cfg = ConditionalGAN()._config().with_overrides(
        target_steps=5, target_passes=4.0, max_steps=10_000, holdout_selection=False
    )
    small = ConditionalGAN(cfg, random_state=0).fit(X.iloc[:200], y[:200])
    large = ConditionalGAN(cfg, random_state=0).fit(X, y)
    assert large.n_steps_ > 2 * small.n_steps_
    quick = ConditionalGAN(cfg.with_overrides(max_steps=10**6, target_passes=10**4), time_budget=1.0)
    quick.fit(X, y)
    assert quick.n_steps_ < 10**6
    with pytest.raises(ValueError, match="time_budget"):
        ConditionalGAN(time_budget=-1).fit(X, y)


def test_copula_base_is_frequency_true_for_one_hot_blocks():
    X, y = rare_table(2000)
    model = ConditionalGAN(random_state=0)
    model.preset = model._config().with_overrides(holdout_selection=False, epochs=1, lr_g=0.0)
    model.fit(X, y)
    mask = model.generator_.logit_mask
    spans = model.codec_.spans_
    widths = [s.dim for s in spans if s.kind != "numeric"]
    assert int(mask.sum()) == sum(widths)
    assert torch.equal(model.generator_.net[-1].weight, torch.zeros_like(model.generator_.net[-1].weight))


def test_mixture_copula_components_sample_like_onnx(tmp_path):
    from ganaug.gan.export import export_onnx

    X, y = rare_table(2000)
    cfg = ConditionalGAN()._config().with_overrides(copula_components=4, epochs=1, holdout_selection=False)
    model = ConditionalGAN(cfg, random_state=0).fit(X, y)
    cdf = model.generator_.component_cdf
    assert cdf.shape == (2, 4) and float(cdf[0, 0]) < 1.0  # the large class is a mixture
    assert torch.all(cdf[:, -1] == 1.0) and torch.all(cdf[:, 1:] >= cdf[:, :-1])
    Xs, _ = model.sample(20_000, y=0, random_state=2)
    _assert_close(X[y == 0]["job"], Xs["job"], "mixture, class 0, job")
    gen = OnnxGenerator(export_onnx(model, tmp_path / "mix.onnx"))
    cond = np.repeat([0, 1], 300)
    pd.testing.assert_frame_equal(gen.generate(cond, random_state=3), model.generate(cond, random_state=3), rtol=1e-4)
    with pytest.raises(ValueError, match="copula_components"):
        cfg.with_overrides(copula_components=0)


def _ring(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two classes on a noisy circle (a curved manifold one Gaussian per class cannot follow)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    X = pd.DataFrame({"a": np.sin(t) + 0.03 * rng.normal(size=n), "b": np.cos(t) + 0.03 * rng.normal(size=n),
                      "c": np.where(rng.random(n) < 0.3, "x", "y")})
    return X, (t > np.pi).astype(int)


TIED = {"copula_components": 32, "copula_component_rows": 1}


def test_tied_mixture_follows_a_curve_samples_like_onnx_and_costs_one_factor(tmp_path):
    from ganaug.gan.export import export_onnx

    X, y = _ring(1500)
    plain = ConditionalGAN()._config().with_overrides(epochs=1, holdout_selection=False, copula_components=1)
    radius = {}
    for name, cfg in (("plain", plain), ("tied", plain.with_overrides(**TIED))):
        model = ConditionalGAN(cfg, random_state=0).fit(X, y)
        Xs, _ = model.sample(4000, random_state=1)
        radius[name] = float(np.std(np.hypot(Xs["a"], Xs["b"])))
        _assert_close(X["c"], Xs["c"], f"{name}, c")
    G, dim = model.generator_, model.codec_.output_dim
    assert G.base_factor.shape == (G.noise_dim, 2 * dim)  # one factor per class
    assert G.base_mean.shape == (2 * 32, dim) and float(G.component_cdf[0, 0]) < 1.0
    # the real radius spread is 0.03: the plain copula smears the ring, the mixture follows it
    assert radius["tied"] < 0.5 * radius["plain"], radius
    gen = OnnxGenerator(export_onnx(model, tmp_path / "tied.onnx"))
    cond = np.repeat([0, 1], 200)
    pd.testing.assert_frame_equal(gen.generate(cond, random_state=3), model.generate(cond, random_state=3), rtol=1e-4)


def test_category_weight_makes_components_follow_combinations_of_levels():
    """Each level of ``a`` goes with 2 of ``b``'s 8 levels and the numeric columns say little
    about either: components formed with the one-hot codes weighted (the default preset's 3)
    follow the pairs, so far fewer sampled rows carry a pair no real row has than with weight 1
    (one component per class: about 70% of the sampled pairs do not exist)."""
    rng = np.random.default_rng(0)
    n = 4000
    a = rng.integers(0, 8, n)
    b = (3 * a + rng.integers(0, 2, n)) % 8
    mu = rng.normal(0, 0.5, (8, 8, 2))
    X = pd.DataFrame({
        "a": [f"a{i}" for i in a], "b": [f"b{i}" for i in b],
        "x1": mu[a, b, 0] + 0.5 * rng.normal(size=n),
        "x2": np.exp(mu[a, b, 1] + 0.5 * rng.normal(size=n)),
        "z0": rng.normal(size=n), "z1": rng.normal(size=n),
    })
    y = (rng.random(n) < 0.5).astype(int)
    pairs = set(zip(X["a"], X["b"]))
    base = ConditionalGAN()._config()
    assert base.copula_category_weight == 3.0
    unseen = {}
    for weight in (1.0, 3.0):
        cfg = base.with_overrides(lr_g=0.0, max_steps=1, holdout_selection=False,
                                  copula_category_weight=weight)
        Xs, _ = ConditionalGAN(cfg, random_state=0).fit(X, y).sample(4000, random_state=1)
        unseen[weight] = float(np.mean([p not in pairs for p in zip(Xs["a"], Xs["b"])]))
        _assert_close(X["a"], Xs["a"], f"weight {weight}, a")
    assert unseen[3.0] < 0.5 * unseen[1.0], unseen
    with pytest.raises(ValueError, match="copula_category_weight"):
        base.with_overrides(copula_category_weight=0)


def test_mixture_is_kept_only_when_it_predicts_held_out_rows_better():
    kept_on = {}
    for name, (X, y) in (("ring", _ring(1500)), ("rare", rare_table(1200))):
        cfg = ConditionalGAN()._config().with_overrides(epochs=1, **TIED)
        model = ConditionalGAN(cfg, random_state=0).fit(X, y)
        chosen, kept = model.history_["copula_selection"], model.history_["copula_mixture"]
        assert kept == (chosen["log_likelihood_gain"] > 2 * chosen["standard_error"])
        one_component = bool(torch.all(model.generator_.component_cdf[:, 0] == 1.0))
        assert one_component == (not kept)
        kept_on[name] = kept
    assert kept_on["ring"]  # a curve: the mixture predicts held-out rows far better


def test_mixture_gain_weighs_classes_equally_with_a_paired_standard_error():
    from ganaug.gan.selection import mixture_gain

    labels = torch.tensor([0, 0, 0, 0, 1, 1])
    plain = torch.zeros(6, dtype=torch.float64)
    mixture = torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    gain, error = mixture_gain(mixture, plain, labels)
    assert gain == pytest.approx(0.0) and error == pytest.approx(np.sqrt(4 / 64 + 2 / 16))
    gain, error = mixture_gain(plain + 0.5, plain, labels)
    assert gain == pytest.approx(0.5) and error == pytest.approx(0.0)


def test_copula_log_likelihood_is_the_gaussian_density_of_the_numeric_codes():
    from scipy.stats import multivariate_normal

    from ganaug.gan.networks import Generator

    rng = np.random.default_rng(0)
    Z = torch.from_numpy(rng.multivariate_normal([0, 1], [[1, 0.6], [0.6, 1]], 500))
    labels = torch.zeros(500, dtype=torch.long)
    G = Generator(3, 1, 2, (8,), copula=True)
    G.set_copula(Z, labels)
    mean = G.base_mean[0].double().numpy()
    chol = G.base_factor.double().reshape(3, 2)[:2].T.numpy()
    expected = multivariate_normal(mean, chol @ chol.T).logpdf(Z.numpy())
    np.testing.assert_allclose(G.copula_log_likelihood(Z, labels).numpy(), expected, rtol=1e-4)


def test_mixture_from_statistics_alone_falls_back_to_one_component():
    from ganaug.gan.copula import copula_statistics
    from ganaug.gan.networks import Generator

    Z = torch.randn(400, 3)
    labels = torch.arange(400) % 2
    G = Generator(4, 2, 3, (8,), copula=True, copula_components=8, copula_component_rows=1)
    G.set_copula(None, None, statistics=copula_statistics(Z, labels, 2))
    assert torch.all(G.component_cdf[:, 0] == 1.0)
    with pytest.raises(ValueError, match="copula_component_rows"):
        ConditionalGAN()._config().with_overrides(copula_component_rows=0)
    with pytest.raises(TypeError, match="copula_covariance"):  # removed: one covariance a class
        ConditionalGAN()._config().with_overrides(copula_covariance="tied")


def test_kmeans_fits_centres_on_a_subset_and_assigns_every_row(monkeypatch):
    from ganaug.gan import copula

    monkeypatch.setattr(copula, "KMEANS_MAX_ROWS", 60)
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.from_numpy(np.repeat(centres, 200, axis=0) + rng.normal(size=(600, 2)))
    assign = copula.kmeans(x, 3, seed=1)
    assert assign.shape == (600,) and torch.equal(assign, copula.kmeans(x, 3, seed=1))
    # each blob is one component, although only 60 rows placed the centres (k-means++ seeding
    # is random: with seed 0 this subset ends in a local optimum, two centres in one blob)
    blobs = assign.reshape(3, 200)
    assert all(len(torch.unique(b)) == 1 for b in blobs) and len(torch.unique(blobs[:, 0])) == 3


@pytest.mark.parametrize("dim", [1, 3, 8])
def test_gaussian_log_density_is_torch_distributions_value(dim):
    # the mixture choice's log-likelihood, written without torch.distributions (whose import of
    # sympy costs a process's first fit ~0.4 s): the same values, to the bit
    from ganaug.gan.copula import gaussian_log_density

    g = torch.Generator().manual_seed(dim)
    A = torch.randn(dim, dim, dtype=torch.float64, generator=g)
    L = torch.linalg.cholesky(A @ A.T + dim * torch.eye(dim, dtype=torch.float64))
    mean = torch.randn(dim, dtype=torch.float64, generator=g)
    x = torch.randn(40, dim, dtype=torch.float64, generator=g) * 3
    expected = torch.distributions.MultivariateNormal(mean, scale_tril=L).log_prob(x)
    assert torch.equal(gaussian_log_density(x, mean, L), expected)
