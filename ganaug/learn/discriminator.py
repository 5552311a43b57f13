"""``DiscriminatorClassifier``: a GAN's critic, pretrained on every row, fine-tuned on the labels
(``design="finetune"``), or trained jointly with a generator as the K+1-class critic of the
semi-supervised GAN (``design="k+1"``, Salimans et al. 2016)."""

from __future__ import annotations

import copy
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ganaug.gan.presets import GANConfig
from ganaug.learn._compat import Interval, StrOptions
from ganaug.learn._inputs import check_table
from ganaug.learn.features import PRETRAINING_CONSTRAINTS, check_rows, input_tags, pretrain
from ganaug.learn.semi import check_semi_labels, unlabeled_rows


class DiscriminatorClassifier(ClassifierMixin, BaseEstimator):
    """A classifier whose network is a GAN critic pretrained without labels, then fine-tuned.

    ``fit(X, y)`` trains an unconditional GAN on every row of ``X``, labeled or not (rows labeled
    ``unlabeled_value``, ``-1`` by default, are unlabeled), then replaces the critic's scoring
    layer with a ``K``-class softmax layer on its hidden activations and fine-tunes the whole
    network on the labeled rows with cross-entropy. ``pretrain=False`` fine-tunes the same
    network from a random initialisation (the ablation that says what pretraining brings).

    ``design="k+1"`` is the semi-supervised GAN of Salimans et al. (2016, *Improved Techniques
    for Training GANs*): the same network (the critic's hidden layers, then ``K`` logits
    ``l_1..l_K``; the ``K+1``-th, "generated", logit is fixed at 0, so the network's
    real-vs-generated score is ``D(x) = Z(x) / (Z(x) + 1)`` with ``Z = sum_k exp(l_k)``) is
    trained from random weights together with an unconditional generator, for
    ``finetune_steps`` joint steps. The network minimises the cross-entropy over the ``K``
    logits on labeled rows plus ``-log D(x) - log(1 - D(G(z)))`` on every row of ``X`` (labeled
    or not) and generated rows; the generator matches the mean of the network's last hidden
    layer on real rows (feature matching). No adversarial pretraining takes place: ``pretrain``
    does not apply, and a ``generator`` (a pretrained GAN) is refused with a ValueError.

    Parameters
    ----------
    design : {"finetune", "k+1"}, default="finetune"
        ``"finetune"``: pretrain a GAN, then fine-tune its critic on the labels. ``"k+1"``: the
        semi-supervised GAN (see above). ``"finetune"`` is the default by measurement
        (benchmarks/quality.py, semi regime, seeds 0-2): balanced accuracy 0.756 vs 0.723 on
        MNIST-5k with 100 labels (``"k+1"`` lower on every seed), within +-0.01 on five tables.
    preset : {"default", "classic"} or GANConfig, default="default"
        GAN hyperparameters for pretraining (and the critic's layout). ``"k+1"`` takes the
        critic's hidden layers and activation, the generator's noise size, layers and layout,
        the batch size of every row and generated row, and the output activations from it.
    epochs : int, optional
        Overrides the preset's pretraining length (not read by ``"k+1"``: ``finetune_steps``).
    categorical_features : sequence of str or int, optional
        Extra columns to model as categorical.
    generator : ConditionalGAN, GANAugmenter or path-like, optional
        Reuse a pretrained GAN (a fitted model or an artifact directory) instead of training one.
        Not with ``design="k+1"`` (a ValueError): it trains its own generator.
    pretrain : bool, default=True
        Start fine-tuning from the pretrained critic; False starts from random weights.
        Ignored by ``design="k+1"``, which always starts from random weights.
    finetune_steps : int, default=300
        Optimiser steps of fine-tuning (Adam, minibatches of at most 64 labeled rows); with
        ``design="k+1"``, joint steps (one network step, one generator step).
    learning_rate : float, default=1e-3
        Fine-tuning learning rate (``"k+1"``: the network's and the generator's).
    weight_decay : float, default=1e-4
        Fine-tuning weight decay (the network's).
    dropout : float, default=0.25
        Dropout after each hidden layer during fine-tuning (``"k+1"``: training).
    unlabeled_value : label, default=-1
        Rows with this label are unlabeled (see :mod:`ganaug.learn.semi`); None: every row is
        labeled.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Pretraining device (fine-tuning, and ``"k+1"``'s training, run on the CPU).
    time_budget : float, optional
        Seconds of adversarial pretraining at most (not read by ``"k+1"``).
    random_state : int, RandomState or None
        Seeds pretraining and fine-tuning. ``"k+1"`` draws everything (weights, batches, noise,
        dropout masks) from local ``torch.Generator`` objects seeded from it: torch's global RNG
        is neither read nor changed.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (the labeled rows').
    gan_ : ConditionalGAN or None
        The pretrained GAN (None with ``pretrain=False`` and with ``design="k+1"``).
    generator_network_ : torch.nn.Module or None
        ``"k+1"``: the generator trained with the network (raw outputs of encoded rows, before
        the codec's output activations); None otherwise.
    codec_ : TableCodec
        The encoding of the rows (fitted on every row).
    n_unlabeled_ : int
        Unlabeled rows used by pretraining.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Column names, for DataFrame input.
    """

    _parameter_constraints: ClassVar[dict] = {
        "design": [StrOptions({"finetune", "k+1"})],
        **PRETRAINING_CONSTRAINTS,
        "pretrain": ["boolean"],
        "finetune_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "unlabeled_value": "no_validation",
    }

    def __init__(
        self,
        *,
        design: str = "finetune",
        preset: str | GANConfig = "default",
        epochs: int | None = None,
        categorical_features: Sequence[str | int] | None = None,
        generator: Any = None,
        pretrain: bool = True,
        finetune_steps: int = 300,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.25,
        unlabeled_value: Any = -1,
        device: str = "auto",
        time_budget: float | None = None,
        random_state: Any = None,
    ) -> None:
        self.design = design
        self.preset = preset
        self.epochs = epochs
        self.categorical_features = categorical_features
        self.generator = generator
        self.pretrain = pretrain
        self.finetune_steps = finetune_steps
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.unlabeled_value = unlabeled_value
        self.device = device
        self.time_budget = time_budget
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> DiscriminatorClassifier:
        """Pretrain on every row of ``X``, fine-tune on the labeled ones (``design="k+1"``:
        train the network and a generator jointly on them).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels; ``unlabeled_value`` marks unlabeled rows.

        Returns
        -------
        self : DiscriminatorClassifier
        """
        import torch

        from ganaug.gan.features import CriticTrunk
        from ganaug.gan.rng import LocalDropout, dropout_generator, local_draws

        self._validate_params()
        if self.design == "k+1" and self.generator is not None:
            raise ValueError(
                'design="k+1" trains its own generator jointly with the classifier: a pretrained '
                'generator does not apply (leave generator=None, or use design="finetune")'
            )
        X, y = check_table(check_rows(X), y)
        check_classification_targets(y)
        validate_data(self, X, reset=True, skip_check_array=True)
        unlabeled = unlabeled_rows(y, self.unlabeled_value)
        check_semi_labels(y, unlabeled, self.unlabeled_value)
        self.n_unlabeled_ = int(unlabeled.sum())
        self.classes_, labels = np.unique(y[~unlabeled], return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has a single class ({self.classes_[0]!r}): a classifier needs at least 2 classes"
            )
        rs = check_random_state(self.random_state)
        seed = int(rs.randint(0, 2**31 - 1))
        self.generator_network_ = None
        if self.design == "k+1":
            self._fit_kplus1(X, unlabeled, labels, seed)
            return self
        # local draws only (gan/rng.py): the same draws as a global RNG seeded with ``seed``,
        # without touching torch's global RNG
        init = torch.Generator().manual_seed(seed)
        with local_draws(init):
            critic = self._critic(X)
            trunk = CriticTrunk(critic, dropout=self.dropout)
            head = torch.nn.Linear(trunk.n_features, len(self.classes_))
        trunk.dropout = LocalDropout(self.dropout)
        rows = torch.from_numpy(self.codec_.encode(X)[~unlabeled])
        with dropout_generator(trunk, init):
            self._finetune(trunk, head, rows, torch.from_numpy(labels).long(), seed)
        # float64 for prediction: a row's probabilities do not depend on its batch
        self.trunk_, self.head_ = trunk.double().eval(), head.double().eval()
        return self

    def _config(self) -> GANConfig:
        from ganaug.gan.presets import get_preset

        return self.preset if isinstance(self.preset, GANConfig) else get_preset(self.preset)

    def _critic(self, X: Any) -> Any:
        if self.pretrain and self.design == "finetune":
            self.gan_ = pretrain(self, X)
            self.codec_ = self.gan_.codec_
            return self.gan_.discriminator_
        from ganaug.gan.codec import TableCodec
        from ganaug.gan.networks import Discriminator

        config = self._config()
        self.gan_ = None
        self.codec_ = TableCodec(
            categorical_features=self.categorical_features,
            numeric_encoding=config.numeric_encoding,  # type: ignore[arg-type]
        ).fit(X)
        return Discriminator(
            self.codec_.output_dim, 1, config.discriminator_hidden, activation=config.d_activation
        )

    def _finetune(self, trunk: Any, head: Any, rows: Any, labels: Any, seed: int) -> None:
        import torch

        params = [*trunk.parameters(), *head.parameters()]
        opt = torch.optim.Adam(params, lr=self.learning_rate, weight_decay=self.weight_decay)
        gen = torch.Generator().manual_seed(seed)
        loss_fn = torch.nn.CrossEntropyLoss()
        batch = min(64, len(rows))
        trunk.train()
        for _ in range(self.finetune_steps):
            pick = torch.randint(len(rows), (batch,), generator=gen)
            loss = loss_fn(head(trunk(rows[pick])), labels[pick])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def _fit_kplus1(self, X: Any, unlabeled: np.ndarray, labels: np.ndarray, seed: int) -> None:
        """The semi-supervised GAN: network and generator trained jointly from ``seed``."""
        import torch

        from ganaug.gan.features import CriticTrunk
        from ganaug.gan.networks import Generator, activate
        from ganaug.gan.rng import LocalDropout, dropout_generator, local_draws

        config = self._config()
        init = torch.Generator().manual_seed(seed)
        with local_draws(init):  # the layers' initial weights come from the fit's own seed
            critic = self._critic(X)  # pretrain is not read by "k+1": random weights, own codec
            trunk = CriticTrunk(critic)
            head = torch.nn.Linear(trunk.n_features, len(self.classes_))
            G = Generator(
                config.noise_dim, 1, self.codec_.output_dim, config.generator_hidden,
                "classic" if config.architecture == "classic" else "residual",
            )
        # dropout masks from the fit's generator, not torch's global RNG (LocalDropout)
        trunk.dropout = LocalDropout(self.dropout)
        encoded = torch.from_numpy(self.codec_.encode(X))
        rows, targets = encoded[~unlabeled], torch.from_numpy(labels).long()
        gen = torch.Generator().manual_seed(seed + 1)
        net_params = [*trunk.parameters(), *head.parameters()]
        betas = (0.5, 0.999)  # Salimans et al.'s Adam betas
        opt_d = torch.optim.Adam(
            net_params, lr=self.learning_rate, betas=betas, weight_decay=self.weight_decay
        )
        opt_g = torch.optim.Adam(G.parameters(), lr=self.learning_rate, betas=betas)
        softplus, cross_entropy = torch.nn.functional.softplus, torch.nn.CrossEntropyLoss()
        n_labeled = min(64, len(rows))
        n_rows = max(1, min(config.batch_size, len(encoded)))
        last = trunk.layers[-1].out_features  # feature matching on the last hidden layer
        spans = self.codec_.spans_

        def generated() -> Any:
            noise = torch.randn(n_rows, config.noise_dim, generator=gen)
            raw = G(noise, torch.zeros(n_rows, dtype=torch.long))
            return activate(raw, spans, config.output, config.tau, generator=gen)

        def logits_and_features(x: Any) -> tuple[Any, Any]:
            features = trunk(x)
            return head(features), features[:, -last:]

        trunk.train()
        G.train()
        with dropout_generator(trunk, gen):
            for _ in range(self.finetune_steps):
                pick = torch.randint(len(rows), (n_labeled,), generator=gen)
                real = encoded[torch.randint(len(encoded), (n_rows,), generator=gen)]
                fake = generated()
                supervised = cross_entropy(head(trunk(rows[pick])), targets[pick])
                logits_real, features_real = logits_and_features(real)
                logits_fake, _ = logits_and_features(fake.detach())
                # log D = lse - softplus(lse) and -log(1 - D) = softplus(lse), lse = log Z
                lse_real = torch.logsumexp(logits_real, dim=1)
                lse_fake = torch.logsumexp(logits_fake, dim=1)
                unsupervised = (softplus(lse_real) - lse_real).mean() + softplus(lse_fake).mean()
                loss = supervised + unsupervised
                opt_d.zero_grad(set_to_none=True)
                loss.backward()
                opt_d.step()

                _, features_fake = logits_and_features(generated())
                target = features_real.detach().mean(dim=0)
                g_loss = (features_fake.mean(dim=0) - target).pow(2).mean()
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
        # float64 for prediction: a row's probabilities do not depend on its batch
        self.trunk_, self.head_ = trunk.double().eval(), head.double().eval()
        self.generator_network_ = G.eval()

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes_` order.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        import torch

        check_is_fitted(self, "head_")
        X = check_rows(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        with torch.no_grad():
            logits = self.head_(self.trunk_(torch.from_numpy(self.codec_.encode(X)).double()))
            return torch.softmax(logits, dim=1).double().numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        proba = self.predict_proba(X)  # first: it says "not fitted" before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def export_onnx(self, path: str | os.PathLike[str]) -> Path:
        """Export encoder, network and softmax to one ``.onnx`` file; ONNX Runtime alone gives
        the probabilities (:class:`ganaug.runtime.features.OnnxRowModel`)."""
        from ganaug.core.labels import classes_to_json
        from ganaug.gan.features import FeatureModule, TableEncoder, export_rows_onnx

        check_is_fitted(self, "head_")
        trunk, head = copy.deepcopy(self.trunk_).float(), copy.deepcopy(self.head_).float()
        module = FeatureModule(TableEncoder(self.codec_), trunk, head)
        return export_rows_onnx(
            module, self.codec_, path, kind="classifier", extra=classes_to_json(self.classes_)
        )

    def __sklearn_tags__(self):
        return input_tags(super().__sklearn_tags__())
