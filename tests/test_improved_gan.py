"""The semi-supervised GAN's networks and training (ganaug.gan.improved_gan) and the
``design="k+1"`` DiscriminatorClassifier built on them: tiny data, few steps."""

import numpy as np
import pandas as pd
import pytest
import torch

from ganaug import DiscriminatorClassifier
from ganaug.gan import improved_gan as ig


def _rows(n=60, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g)


def _built(seed=0, hidden=(16, 8), semi=True):
    rows = _rows()
    return rows, ig.build(12, 3, rows, torch.Generator().manual_seed(seed), hidden=hidden, semi=semi)


def test_shapes():
    rows, (trunk, head, G) = _built()
    assert trunk(rows).shape == (60, 8) and trunk.n_features == 8
    assert head(trunk(rows)).shape == (60, 3)
    fake = G.sample(7, torch.Generator().manual_seed(1))
    assert fake.shape == (7, 12) and bool(((fake >= 0) & (fake <= 1)).all())  # sigmoid outputs


def test_generator_output_activation():
    rows = _rows()
    _, _, G = ig.build(12, 3, rows, torch.Generator().manual_seed(0), hidden=(16, 8),
                       generator_output="softplus")
    with torch.no_grad():
        G.out.g.mul_(50.0)  # wide pre-activations: softplus goes past 1, sigmoid would not
        fake = G.sample(200, torch.Generator().manual_seed(1))
    assert G.output == "softplus" and bool((fake >= 0).all()) and float(fake.max()) > 1.0
    with pytest.raises(ValueError, match="output must be one of"):
        ig.ImprovedGenerator(12, output="tanh")


def test_paper_layout_by_default():
    rows = _rows(d=20)
    trunk, head, G = ig.build(20, 10, rows, torch.Generator().manual_seed(0))
    assert [layer.out_features for layer in trunk.layers] == [1000, 500, 250, 250, 250]
    assert [n.sigma for n in trunk.noises] == [0.3, 0.5, 0.5, 0.5, 0.5] and head.noise.sigma == 0.5
    assert G.noise_dim == 100
    assert [m.num_features for m in G.modules() if isinstance(m, torch.nn.BatchNorm1d)] == [500, 500]


def test_noise_only_in_training_mode():
    rows, (trunk, head, _) = _built()
    trunk.eval(), head.eval()
    np.testing.assert_array_equal(head(trunk(rows)).detach(), head(trunk(rows)).detach())
    trunk.train(), head.train()
    assert not torch.equal(trunk(rows), trunk(rows))


def test_weight_norm_and_data_dependent_init():
    rows, (trunk, head, G) = _built()
    first = trunk.layers[0]
    # each unit's weight vector has norm g, whatever v's scale
    norms = first.weight().detach().pow(2).sum(dim=0).sqrt()
    np.testing.assert_allclose(norms, first.g, rtol=1e-5)
    with torch.no_grad():
        first.v.mul_(7.0)
    np.testing.assert_allclose(first.weight().detach().pow(2).sum(dim=0).sqrt(), first.g, rtol=1e-5)
    # hidden scales are fixed (buffers), the output layers' scales are trained
    assert "g" in dict(first.named_buffers()) and "g" not in dict(first.named_parameters())
    assert "g" in dict(head.layer.named_parameters()) and "g" in dict(G.out.named_parameters())
    # initialisation: unit pre-activations of mean 0, sd 1 on the rows it saw
    layer = ig.WeightNormLinear(12, 5, train_scale=False, generator=torch.Generator().manual_seed(0))
    layer.initialise(rows)
    out = layer(rows).detach()
    np.testing.assert_allclose(out.mean(dim=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(dim=0, unbiased=False), 1, rtol=1e-4)


def test_k_plus_1_probability():
    logits = torch.tensor([[0.0, 1.0, -2.0], [5.0, 5.0, 5.0], [-30.0, -30.0, -30.0]])
    z = logits.exp().sum(dim=1)
    np.testing.assert_allclose(ig.real_probability(logits), z / (z + 1), rtol=1e-6)
    # the same as a softmax over K+1 logits whose last ("generated") one is 0
    padded = torch.cat([logits, torch.zeros(3, 1)], dim=1).softmax(dim=1)
    np.testing.assert_allclose(ig.real_probability(logits), 1 - padded[:, -1], atol=1e-6)


def _train(seed, semi=True, epochs=3):
    rows, (trunk, head, G) = _built(seed, semi=semi)
    labels = torch.arange(60) % 3
    labeled = torch.arange(9)
    schedule = ig.Schedule(epochs=epochs, batch_size=20)
    ig.train(trunk, head, G, rows, labeled, labels, schedule, torch.Generator().manual_seed(seed))
    return trunk, head, G, schedule


def test_training_is_deterministic_and_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = _train(0), _train(0), _train(1)
    assert torch.equal(state, torch.random.get_rng_state())
    for (pa, pb) in zip(a[0].parameters(), b[0].parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a[0].layers[0].v, c[0].layers[0].v)
    assert len(a[3].history["seconds"]) == 3 and a[3].history["loss_unlabeled"][0] > 0


def test_labeled_only_training_has_no_generator_and_no_unlabeled_loss():
    _, _, G, schedule = _train(0, semi=False)
    assert G is None and schedule.history["loss_unlabeled"] == [0.0, 0.0, 0.0]


def test_learning_rate_schedule_decays_linearly_over_the_last_third():
    assert ig._rate(0.5, 1 / 3) == 1.0
    assert ig._rate(5 / 6, 1 / 3) == pytest.approx(0.5)
    assert ig._rate(1.0, 1 / 3) == 0.0 and ig._rate(0.9, 0.0) == 1.0


@pytest.fixture
def blobs():
    """Two classes in 6 columns, 6 labeled rows, 114 unlabeled (-1)."""
    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    X = pd.DataFrame(rng.normal(size=(120, 6)) + 2.5 * y[:, None], columns=list("abcdef"))
    return X, y, np.where(np.arange(120) < 6, y, -1)


def test_classifier_uses_the_unlabeled_rows(blobs):
    X, _y, y_semi = blobs
    fit = {"hidden": (16, 8), "epochs": 4, "random_state": 0}
    clf = DiscriminatorClassifier(**fit).fit(X, y_semi)
    assert clf.n_unlabeled_ == 114 and clf.generator_network_ is not None
    assert min(clf.history_["loss_unlabeled"]) > 0
    # other unlabeled rows (the labeled ones kept): other probabilities
    moved = X.copy()
    moved.iloc[6:] = moved.iloc[6:] * -1.0
    assert not np.allclose(DiscriminatorClassifier(**fit).fit(moved, y_semi).predict_proba(X),
                           clf.predict_proba(X))
    # pretrain=False: the labeled rows alone, no generator
    alone = DiscriminatorClassifier(pretrain=False, **fit).fit(X, y_semi)
    assert alone.generator_network_ is None and alone.history_["loss_unlabeled"] == [0.0] * 4


def test_classifier_eval_set_budget_and_features(blobs):
    X, y, y_semi = blobs
    clf = DiscriminatorClassifier(hidden=(16, 8), epochs=3, random_state=0)
    clf.fit(X, y_semi, eval_set=(X, y))
    scores = clf.history_["eval_balanced_accuracy"]
    assert len(scores) == 3 and all(0 <= s <= 1 for s in scores)
    assert clf.features(X).shape == (120, 8)
    # the budget is read after each epoch: a tiny one stops after the first
    quick = DiscriminatorClassifier(hidden=(16, 8), epochs=3, time_budget=1e-9, random_state=0)
    assert quick.fit(X, y_semi).n_epochs_ == 1
    with pytest.raises(ValueError, match="eval_set is read by design=\"k\\+1\" only"):
        DiscriminatorClassifier(design="finetune").fit(X, y_semi, eval_set=(X, y))


def test_default_length_is_100_epochs_within_4000_steps():
    from ganaug.learn.discriminator import _kplus1_epochs

    assert _kplus1_epochs(4000) == 100 and _kplus1_epochs(60) == 100  # MNIST-5k's 40 steps
    assert _kplus1_epochs(100_000) == 4  # 1,000 steps an epoch
    assert _kplus1_epochs(1_000_000) == 1  # never less than one epoch
