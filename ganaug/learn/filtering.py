"""Realism filtering: keep the synthetic rows that look most like real rows of their own class.

A GAN trained on a few dozen rows of a rare class produces some rows that are off the data
manifold or that sit among another class's rows; both hurt a downstream model. The filter draws
``oversample`` times more candidates than needed and keeps, per class, those whose nearest real
neighbours (in a standardised, one-hot space fitted on the real rows) are of the same class and
closest, relative to how far apart real rows of that class are. It needs the real rows, so it runs
inside ``GANAugmenter.fit_resample`` for both torch and ONNX generators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from ganaug.core.labels import TARGET_COLUMN
from ganaug.core.schema import split_target
from ganaug.learn.preprocessing import make_preprocessor


def _space() -> Any:
    """A standardised numeric + one-hot categorical representation, fitted on real rows: the
    one preprocessing factory the downstream models use (:func:`make_preprocessor`)."""
    return make_preprocessor(scale=True)


def _frame(X: Any) -> pd.DataFrame:
    """X as a DataFrame, so the preprocessing types its columns (arrays of strings included)."""
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(np.asarray(X)).infer_objects()
        X.columns = [f"x{i}" for i in range(X.shape[1])]
    return X


@dataclass(eq=False, repr=False)
class RealismFilter:
    """Select realistic, label-consistent synthetic rows by nearest-neighbour distances.

    Parameters
    ----------
    n_neighbors : int, default=3
        Real neighbours of the candidate's class averaged for its distance score.
    """

    # Parameters, declared once: the dataclass's __init__ stores exactly these, as scikit-learn
    # estimators do. eq/repr=False: a fitted model compares, hashes and prints as an object.
    n_neighbors: int = 3

    def fit(self, X: Any, y: Any = None) -> RealismFilter:
        """Learn the representation and index the real rows (per class when ``y`` is given)."""
        self.space_ = _space()
        Z = self.space_.fit_transform(_frame(X))
        y = np.zeros(len(Z), dtype=np.int64) if y is None else np.asarray(y)
        self.labels_ = np.unique(y)
        self.index_ = {}
        self.scale_ = {}
        self.other_ = {}
        for label in self.labels_:
            own = Z[y == label]
            k = min(self.n_neighbors, len(own))
            self.index_[label] = NearestNeighbors(n_neighbors=k).fit(own)
            # typical distance between real rows of the class: the yardstick for "close"
            k_self = min(self.n_neighbors + 1, len(own))
            d, _ = NearestNeighbors(n_neighbors=k_self).fit(own).kneighbors(own)
            self.scale_[label] = float(np.median(d[:, 1:].mean(axis=1))) if k_self > 1 else 1.0
            others = Z[y != label]
            self.other_[label] = NearestNeighbors(n_neighbors=1).fit(others) if len(others) else None
        return self

    def _transform(self, X: Any) -> np.ndarray:
        return self.space_.transform(_frame(X))

    def select(self, X: Any, y: Any, counts: dict[Any, int]) -> np.ndarray:
        """Indices of the rows to keep: ``counts[label]`` per label, best first.

        Parameters
        ----------
        X : DataFrame or ndarray
            Candidate synthetic rows.
        y : ndarray
            Their labels (None for an unconditional model).
        counts : dict
            Rows to keep per label.
        """
        Z = self._transform(X)
        y = np.zeros(len(Z), dtype=np.int64) if y is None else np.asarray(y)
        keep = []
        for label, n_keep in counts.items():
            rows = np.flatnonzero(y == label)
            if n_keep <= 0 or len(rows) == 0:
                continue
            d_own = self.index_[label].kneighbors(Z[rows])[0].mean(axis=1) / (self.scale_[label] or 1.0)
            score = d_own.copy()
            if self.other_[label] is not None:
                d_other = self.other_[label].kneighbors(Z[rows])[0][:, 0] / (self.scale_[label] or 1.0)
                # rows closer to another class than to their own go to the back of the queue
                score = np.where(d_own <= d_other, d_own, d_own + 1e6)
            order = np.argsort(score, kind="stable")
            keep.append(np.sort(rows[order[:n_keep]]))
        return np.concatenate(keep) if keep else np.empty(0, dtype=np.int64)


def draw_rows(
    model: Any,
    classes: np.ndarray | None,
    wanted: dict[Any, int],
    seed: int,
    filter_ratio: float,
    data: Any,
    y: np.ndarray,
) -> tuple[Any, Any]:
    """The synthetic rows ``GANAugmenter.fit_resample`` adds: ``wanted[c]`` rows of each class
    ``c`` of ``classes`` (regression: ``classes`` None, ``wanted[0]`` rows of the joint table,
    split into ``(X, y)``), drawn from ``model`` with ``seed``.

    With ``filter_ratio > 1``, ``filter_ratio`` times as many are drawn and the
    :class:`RealismFilter` fitted on the real rows ``(data, y)`` keeps the wanted number.
    """
    regression = classes is None
    factor = float(filter_ratio) if sum(wanted.values()) else 1.0
    drawn = {c: int(np.ceil(n * factor)) for c, n in wanted.items()}
    if regression:
        X_new = model.generate(np.zeros(drawn[0], dtype=np.int64), random_state=seed)
        y_new = None
    else:
        y_new = np.repeat(classes, np.array(list(drawn.values())))
        conditions = model.class_index(y_new) if len(y_new) else np.empty(0, np.int64)
        X_new = model.generate(conditions, random_state=seed)
    if factor > 1.0:
        keep = RealismFilter().fit(data, None if regression else y).select(X_new, y_new, wanted)
        X_new = X_new.iloc[keep] if isinstance(X_new, pd.DataFrame) else X_new[keep]
        y_new = None if regression else y_new[keep]
    if regression:
        X_new, y_new = split_target(X_new, TARGET_COLUMN)
    return X_new, y_new
