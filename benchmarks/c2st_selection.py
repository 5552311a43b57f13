"""Experiment: hold-out selection by a classifier two-sample test instead of the kernel distance.

Runs ``quality.py`` (same arguments) with ``Holdout.score`` replaced by the detection AUC of a
gradient-boosting classifier (3-fold cross-validated, 50 iterations) told to separate the
held-out real rows from as many generated rows of the same classes (the class as a feature).
Candidate zero (the copula) and every checkpoint are scored on the same generated noise; a
checkpoint is kept when its AUC is 5% (relative) below the copula's, as with the kernel score.
Not a product feature: measured in benchmarks/README.md ("The adversarial stage on tables the
copula cannot follow").

    python benchmarks/c2st_selection.py --datasets flights --max-rows 20000 --regimes imbalanced \
        --seeds 0 --methods none,ganaug-default+adversarial_gate=False --name adv_c2st
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def c2st_score(self: Any, G: Any, spans: Any, cfg: Any) -> float:
    """Cross-validated AUC of a classifier telling held-out rows from generated ones."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    fake = self._generate(G, spans, cfg)[: len(self.labels)].cpu().numpy()
    real = self.real.cpu().numpy()
    labels = self.labels.cpu().numpy()
    n_classes = int(labels.max()) + 1
    onehot = np.eye(n_classes)[labels]
    X = np.vstack([np.hstack([real, onehot]), np.hstack([fake, onehot])])
    target = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    clf = HistGradientBoostingClassifier(max_iter=50, random_state=0)
    return float(cross_val_score(clf, X, target, cv=3, scoring="roc_auc").mean())


if __name__ == "__main__":
    import quality

    from ganaug.gan.selection import Holdout

    Holdout.score = c2st_score  # type: ignore[method-assign]
    raise SystemExit(quality.main(sys.argv[1:]))
