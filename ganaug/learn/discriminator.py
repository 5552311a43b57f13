"""``DiscriminatorClassifier``: the K+1-class discriminator of the semi-supervised GAN
(``design="k+1"``, Salimans et al. 2016), or a GAN's critic pretrained on every row and
fine-tuned on the labels (``design="finetune"``)."""

from __future__ import annotations

import copy
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ganaug.gan.presets import GANConfig
from ganaug.learn._compat import Interval, StrOptions
from ganaug.learn._inputs import check_rows, check_table, input_tags
from ganaug.learn.pretraining import (
    PRETRAINING_CONSTRAINTS,
    PRETRAINING_GAN_PARAMS,
    fit_seeds,
    pretrain,
)
from ganaug.learn.semi import check_semi_labels, unlabeled_rows

#: ``design="k+1"``'s defaults (by measurement, benchmarks/semi_gan.py on MNIST-5k): 100 epochs,
#: fewer where they would pass 4,000 steps (large tables)
K_PLUS_1_EPOCHS = 100
K_PLUS_1_MAX_STEPS = 4000
K_PLUS_1_LEARNING_RATE = 0.003
K_PLUS_1_AVERAGE = 0.995
#: the generator's output activation: softplus, not the paper's sigmoid (with the sigmoid the
#: discriminator wins the game within two epochs on MNIST-5k: 0.797 against 0.906 at 60 epochs)
K_PLUS_1_GENERATOR_OUTPUT = "softplus"
#: ``design="finetune"``'s default learning rate
FINETUNE_LEARNING_RATE = 1e-3


@dataclass(eq=False, repr=False, kw_only=True)
class DiscriminatorClassifier(ClassifierMixin, BaseEstimator):
    """A classifier whose network learns from unlabeled rows too: the semi-supervised GAN's
    ``K+1``-class discriminator (default), or a GAN critic pretrained without labels, then
    fine-tuned.

    ``design="k+1"`` (default) is the semi-supervised GAN of Salimans et al. (2016, *Improved
    Techniques for Training GANs*) as its MNIST code has it (:mod:`ganaug.gan.improved_gan`):
    a fully connected discriminator (1000-500-250-250-250, weight normalisation, Gaussian noise
    on the input and hidden layers) with ``K`` logits ``l_1..l_K``, the ``K+1``-th, "generated",
    logit fixed at 0 (``D(x) = Z(x) / (Z(x) + 1)``, ``Z = sum_k exp(l_k)``), trained with a
    generator (batch normalisation, feature matching; softplus outputs where the paper has a
    sigmoid, by measurement) on every row of ``X``
    (rows labeled ``unlabeled_value``, ``-1`` by default, are unlabeled). Rows are encoded in
    [0, 1] (min-max numerics, one-hot categories). ``pretrain=False`` trains the same network
    on the labeled rows alone for the same number of steps (no generator): the ablation that
    says what the unlabeled rows bring.

    ``design="finetune"`` trains an unconditional GAN on every row of ``X``, then replaces the
    critic's scoring layer with a ``K``-class softmax layer on its hidden activations and
    fine-tunes the whole network on the labeled rows with cross-entropy (``pretrain=False``:
    the same network from a random initialisation).

    Parameters
    ----------
    design : {"k+1", "finetune"}, default="k+1"
        The default by measurement (benchmarks/semi_gan.py, MNIST-5k, 100 labels, 3 seeds);
        on tables neither design beats gradient boosting on the labeled rows (see
        benchmarks/README.md).
    preset : {"default", "classic"} or GANConfig, default="default"
        ``"finetune"``: GAN hyperparameters for pretraining (and the critic's layout). Not read
        by ``"k+1"``.
    epochs : int, optional
        ``"k+1"``: passes over the rows (``len(X) // 100`` steps each; default 100, fewer
        where 100 would pass 4,000 steps, at least 1).
        ``"finetune"``: overrides the preset's pretraining length.
    categorical_features : sequence of str or int, optional
        Extra columns to model as categorical.
    generator : ConditionalGAN, GANAugmenter or path-like, optional
        ``"finetune"``: reuse a pretrained GAN (a fitted model or an artifact directory).
        Refused by ``"k+1"`` (a ValueError): it trains its own generator.
    pretrain : bool, default=True
        False: no generative part (``"k+1"``: labeled rows only; ``"finetune"``: random weights).
    hidden : sequence of int, optional
        ``"k+1"``: the discriminator's hidden widths (default the paper's 1000-500-250-250-250).
    finetune_steps : int, default=300
        ``"finetune"``: optimiser steps of fine-tuning (Adam, minibatches of at most 64 labeled
        rows).
    learning_rate : float, optional
        Adam's learning rate (default 0.003 for ``"k+1"``, the paper's, falling linearly to 0
        over the last third of the epochs; 1e-3 for ``"finetune"``).
    weight_decay : float, default=1e-4
        ``"finetune"``: weight decay of fine-tuning.
    dropout : float, default=0.25
        ``"finetune"``: dropout after each hidden layer during fine-tuning.
    unlabeled_value : label, default=-1
        Rows with this label are unlabeled (see :mod:`ganaug.learn.semi`); None: every row is
        labeled.
    device : {"auto", "cpu", "cuda"}, default="auto"
        ``"finetune"``: pretraining device (fine-tuning runs on the CPU). ``"k+1"`` runs on the
        CPU.
    time_budget : float, optional
        Seconds of training at most (``"k+1"``: training stops after the epoch that passes it;
        ``"finetune"``: of adversarial pretraining).
    gan_params : dict, optional
        More parameters of the pretrained :class:`ganaug.gan.synthesizer.ConditionalGAN`
        (``batch_size``, ``verbose``, ``early_stopping``, ``validation_fraction``,
        ``patience``); ``preset``, ``epochs``, ``categorical_features``, ``device`` and
        ``time_budget`` reach it as they are.
    random_state : int, RandomState or None
        Seeds every draw (weights, batches, noise). ``"k+1"`` draws from a local
        ``torch.Generator``: torch's global RNG is neither read nor changed.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (the labeled rows').
    gan_ : ConditionalGAN or None
        The pretrained GAN (None with ``pretrain=False`` and with ``design="k+1"``).
    generator_network_ : torch.nn.Module or None
        ``"k+1"``: the generator trained with the network (encoded rows, >= 0); None
        otherwise.
    history_ : dict of lists or None
        ``"k+1"``: per epoch, the mean losses (``loss_labeled``, ``loss_unlabeled``,
        ``loss_generator``), the seconds since training began, and with ``fit(eval_set=...)``
        the balanced accuracy on it (``eval_balanced_accuracy``).
    codec_ : TableCodec
        The encoding of the rows (fitted on every row).
    n_unlabeled_ : int
        Unlabeled rows used.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Column names, for DataFrame input.
    """

    _parameter_constraints: ClassVar[dict] = {
        "design": [StrOptions({"finetune", "k+1"})],
        **PRETRAINING_CONSTRAINTS,
        "pretrain": ["boolean"],
        "hidden": ["array-like", None],
        "finetune_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "unlabeled_value": "no_validation",
    }
    #: parameters that reach the pretrained ConditionalGAN under the same names (see make_gan)
    _gan_params: ClassVar[tuple[str, ...]] = PRETRAINING_GAN_PARAMS

    # Parameters, declared once: the dataclass's __init__ stores exactly these (scikit-learn's
    # rule; get_params reads its signature). eq/repr=False keep BaseEstimator's hash and repr.
    design: str = "k+1"
    preset: str | GANConfig = "default"
    epochs: int | None = None
    categorical_features: Sequence[str | int] | None = None
    generator: Any = None
    pretrain: bool = True
    hidden: Sequence[int] | None = None
    finetune_steps: int = 300
    learning_rate: float | None = None
    weight_decay: float = 1e-4
    dropout: float = 0.25
    unlabeled_value: Any = -1
    device: str = "auto"
    time_budget: float | None = None
    gan_params: dict[str, Any] | None = None
    random_state: Any = None

    def fit(self, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None) -> DiscriminatorClassifier:
        """Train on every row of ``X``, the labeled ones with their labels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels; ``unlabeled_value`` marks unlabeled rows.
        eval_set : (X_eval, y_eval), optional
            ``"k+1"`` only: rows scored after every epoch (``history_["eval_balanced_accuracy"]``,
            a learning curve); they take no part in training.

        Returns
        -------
        self : DiscriminatorClassifier
        """
        import torch

        from ganaug.gan.critic_features import CriticTrunk
        from ganaug.gan.rng import LocalDropout, dropout_generator, local_draws

        self._validate_params()
        if self.design == "k+1" and self.generator is not None:
            raise ValueError(
                'design="k+1" trains its own generator jointly with the classifier: a pretrained '
                'generator does not apply (leave generator=None, or use design="finetune")'
            )
        if self.design == "finetune" and eval_set is not None:
            raise ValueError('eval_set is read by design="k+1" only')
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
        seed = fit_seeds(self.random_state)[0]
        self.generator_network_ = None
        self.history_ = None
        if self.design == "k+1":
            self._fit_kplus1(X, unlabeled, labels, seed, eval_set)
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
        lr = self.learning_rate or FINETUNE_LEARNING_RATE
        opt = torch.optim.Adam(params, lr=lr, weight_decay=self.weight_decay)
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

    def _fit_kplus1(
        self, X: Any, unlabeled: np.ndarray, labels: np.ndarray, seed: int, eval_set: Any
    ) -> None:
        """The semi-supervised GAN of :mod:`ganaug.gan.improved_gan`, trained from ``seed``."""
        import torch

        from ganaug.gan import improved_gan
        from ganaug.gan.codec import TableCodec

        self.gan_ = None
        # every column in [0, 1] (min-max numerics, one-hot levels), as the paper's pixels
        self.codec_ = TableCodec(
            categorical_features=self.categorical_features, numeric_encoding="minmax"
        ).fit(X)
        rows = torch.from_numpy(self.codec_.encode(X))
        gen = torch.Generator().manual_seed(seed)
        trunk, head, G = improved_gan.build(
            rows.shape[1], len(self.classes_), rows, gen, hidden=self._hidden(), semi=self.pretrain,
            generator_output=K_PLUS_1_GENERATOR_OUTPUT,
        )
        schedule = improved_gan.Schedule(
            epochs=self.epochs or _kplus1_epochs(len(rows)),
            learning_rate=self.learning_rate or K_PLUS_1_LEARNING_RATE,
            average=K_PLUS_1_AVERAGE,
            time_budget=self.time_budget,
        )
        callback = None
        if eval_set is not None:
            callback = self._evaluator(trunk, head, schedule.history, eval_set)
        targets = np.full(len(rows), -1, dtype=np.int64)  # train() indexes labels by row
        targets[~unlabeled] = labels
        improved_gan.train(
            trunk, head, G, rows, torch.from_numpy(np.flatnonzero(~unlabeled)),
            torch.from_numpy(targets), schedule, gen, callback=callback,
        )
        self.history_ = {k: list(v) for k, v in schedule.history.items()}
        self.n_epochs_ = len(self.history_["seconds"])
        # float64 for prediction: a row's probabilities do not depend on its batch
        self.trunk_, self.head_ = trunk.double().eval(), head.double().eval()
        self.generator_network_ = G.eval() if G is not None else None

    def _hidden(self) -> tuple[int, ...]:
        from ganaug.gan.improved_gan import HIDDEN

        return HIDDEN if self.hidden is None else tuple(int(h) for h in self.hidden)

    def _evaluator(self, trunk: Any, head: Any, history: dict, eval_set: Any) -> Any:
        """A per-epoch callback that appends the balanced accuracy on ``eval_set``."""
        import torch
        from sklearn.metrics import balanced_accuracy_score

        X_eval, y_eval = eval_set
        rows = torch.from_numpy(self.codec_.encode(check_rows(X_eval)))
        y_eval = np.asarray(y_eval)
        scores = history.setdefault("eval_balanced_accuracy", [])

        def evaluate(epoch: int) -> None:
            trunk.eval()
            head.eval()
            with torch.no_grad():
                predicted = self.classes_[head(trunk(rows)).argmax(dim=1).numpy()]
            scores.append(float(balanced_accuracy_score(y_eval, predicted)))

        return evaluate

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

        features = torch.from_numpy(self.features(X))  # first: it says "not fitted"
        with torch.no_grad():
            logits = self.head_(features)
            return torch.softmax(logits, dim=1).double().numpy()

    def features(self, X: Any) -> np.ndarray:
        """The network's last hidden layer on the rows ``X`` (``"k+1"``: the layer the generator
        matches; ``"finetune"``: every hidden layer side by side), float64.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
        """
        import torch

        check_is_fitted(self, "head_")
        X = check_rows(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        with torch.no_grad():
            return self.trunk_(torch.from_numpy(self.codec_.encode(X)).double()).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        proba = self.predict_proba(X)  # first: it says "not fitted" before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def export_onnx(self, path: str | os.PathLike[str]) -> Path:
        """Export encoder, network and softmax to one ``.onnx`` file; ONNX Runtime alone gives
        the probabilities (:class:`ganaug.runtime.row_model.OnnxRowModel`)."""
        from ganaug.core.labels import classes_to_json
        from ganaug.gan.critic_features import FeatureModule, TableEncoder, export_rows_onnx

        check_is_fitted(self, "head_")
        trunk, head = copy.deepcopy(self.trunk_).float(), copy.deepcopy(self.head_).float()
        module = FeatureModule(TableEncoder(self.codec_), trunk, head)
        return export_rows_onnx(
            module, self.codec_, path, kind="classifier", extra=classes_to_json(self.classes_)
        )

    def __sklearn_tags__(self):
        return input_tags(super().__sklearn_tags__())


def _kplus1_epochs(n_rows: int) -> int:
    """``design="k+1"``'s default length: :data:`K_PLUS_1_EPOCHS`, cut to stay within
    :data:`K_PLUS_1_MAX_STEPS` steps of 100 rows (at least one epoch)."""
    steps_per_epoch = max(1, n_rows // 100)
    return max(1, min(K_PLUS_1_EPOCHS, K_PLUS_1_MAX_STEPS // steps_per_epoch))
