"""Repeated splits with intervals, the verdict, privacy distances, and the HTML report (rendered
by a real headless Chromium with no console errors)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler
from scipy import stats
from sklearn.datasets import make_classification

from ganaug import GANAugmenter
from ganaug.evaluation.privacy import distance_to_closest_record
from ganaug.evaluation.repeated import cut_classes, lift_intervals, repeated_scores, verdict
from ganaug.evaluation.report import evaluation_report, metric_note


def _scores(lifts: dict[str, list[float]], base: float = 0.7) -> pd.DataFrame:
    """Per-split scores of one model: 'none' at ``base``, each method at base + its lifts."""
    rows = []
    n = len(next(iter(lifts.values())))
    for split in range(n):
        rows.append({"split": split, "model": "logreg", "method": "none",
                     "balanced_accuracy": base, "f1_macro": base})
        for method, values in lifts.items():
            rows.append({"split": split, "model": "logreg", "method": method,
                         "balanced_accuracy": base + values[split], "f1_macro": base - values[split]})
    return pd.DataFrame(rows)


def test_lift_intervals_are_paired_student_t_intervals():
    lifts = [0.05, 0.02, 0.04, 0.03, 0.06]
    iv = lift_intervals(_scores({"ganaug": lifts}))
    row = iv[(iv.model == "logreg") & (iv.metric == "balanced_accuracy")].iloc[0]
    half = stats.t.ppf(0.975, 4) * np.std(lifts, ddof=1) / np.sqrt(5)
    assert row["lift"] == pytest.approx(np.mean(lifts))
    assert (row["low"], row["high"]) == pytest.approx((np.mean(lifts) - half, np.mean(lifts) + half))
    assert row["n_splits"] == 5 and set(iv.model) == {"logreg", "mean"}
    assert "none" not in set(iv.method)  # the baseline has no lift over itself


def test_verdict_names_gain_no_gain_and_loss():
    gain = verdict(lift_intervals(_scores({"ganaug": [0.05, 0.02, 0.04, 0.03, 0.06],
                                           "smote": [0.01, 0.0, 0.02, -0.01, 0.01]})))
    assert gain.startswith("ganaug's rows lift balanced accuracy by +0.040") and "SMOTE: +0.006" in gain
    noise = verdict(lift_intervals(_scores({"ganaug": [0.03, -0.02, 0.01, -0.03, 0.02]})))
    assert noise.startswith("no measurable gain here") and "95% CI" in noise and "5 splits" in noise
    loss = verdict(lift_intervals(_scores({"ganaug": [-0.05, -0.02, -0.04, -0.03, -0.06]})))
    assert "LOWER" in loss


def test_metric_note_explains_when_balanced_accuracy_and_f1_disagree():
    # _scores moves F1 opposite to balanced accuracy
    note = metric_note(lift_intervals(_scores({"ganaug": [0.05, 0.02, 0.04, 0.03, 0.06]})))
    assert note is not None and "recall" in note and "precision" in note and "threshold" in note
    agree = _scores({"ganaug": [0.05, 0.02, 0.04, 0.03, 0.06]})
    agree["f1_macro"] = agree["balanced_accuracy"]
    assert metric_note(lift_intervals(agree)) is None


def _table(n=300, seed=0):
    X, y = make_classification(n_samples=n, n_features=5, n_informative=3, weights=[0.7, 0.3],
                               random_state=seed)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    X["colour"] = np.where(X["f0"] > 0, "red", "blue")
    return X, pd.Series(np.where(y == 1, "rare", "common"), name="label")


def test_repeated_scores_cut_training_splits_and_keep_test_splits():
    X, y = _table()
    scores = repeated_scores(X, y, augmenter=RandomOverSampler(), n_splits=3, minority_fraction=0.2,
                             models=["logreg"], random_state=0)
    assert sorted(scores["split"].unique()) == [0, 1, 2]
    assert set(scores["method"]) == {"none", "ganaug", "smote", "random"}
    n_rare_train = round(0.6 * (y == "rare").sum())
    # every training split holds 20% of its rare rows; oversampling adds the difference back
    none = scores[scores.method == "none"]
    assert (none["n_train"] < len(y) * 0.6 - 0.7 * n_rare_train).all()
    with pytest.raises(ValueError, match="at least 2"):
        repeated_scores(X, y, augmenter=RandomOverSampler(), n_splits=1)


def test_cut_classes_keeps_the_largest_class_and_at_least_six_rows():
    X, y = _table(100)
    Xc, yc = cut_classes(X, y, 0.01, 0)
    counts = pd.Series(yc).value_counts()
    assert counts["common"] == (y == "common").sum() and counts["rare"] == 6 and len(Xc) == len(yc)


def test_dcr_flags_copies_and_accepts_new_rows():
    X, _ = _table(200)
    train, held = X.iloc[:100], X.iloc[100:]
    copies = distance_to_closest_record(train, train.iloc[:50], held)
    assert copies["dcr_synthetic"] == 0 and copies["dcr_ratio"] == 0 and copies["copies"] == 1.0
    fresh = distance_to_closest_record(train, held.iloc[:50], held.iloc[50:])
    assert 0.5 < fresh["dcr_ratio"] < 2 and fresh["copies"] == 0 and 0 < fresh["nndr_synthetic"] <= 1


@pytest.fixture(scope="module")
def report():
    from conftest import TINY

    X, y = _table(240)
    return evaluation_report(X, y, augmenter=GANAugmenter(preset=TINY), n_splits=2,
                             minority_fraction=0.3, models=["logreg"], random_state=0,
                             title="test table <&>")


def test_report_holds_every_section(report, tmp_path):
    page = report.html()
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert "Verdict:" in page and report.verdict.split(":")[0] in page
    assert "test table &lt;&amp;&gt;" in page  # escaped
    # per class, minority first, with charts and a correlation heatmap
    assert [c.label for c in report.classes] == ["rare", "common"]
    assert page.index("class rare") < page.index("class common")
    assert all(c.columns and c.heatmap for c in report.classes)
    assert page.count("<svg") >= 2 * 6
    for words in ("detection AUC", "distance to closest record", "nearest-neighbour distance ratio",
                  "What produced the rows", "fit</dt>", "sample</dt>", "[", "balanced accuracy"):
        assert words in page, words
    assert report.stage and 0 <= report.detection_auc <= 1 and report.privacy["dcr_ratio"] > 0
    # self-contained: no script, stylesheet or image fetched from anywhere
    assert not re.search(r"<script|<link|<img|<iframe|url\(", page)
    assert not re.search(r"(src|href)\s*=", page)
    written = report.write(tmp_path / "r.html")
    assert written.read_text(encoding="utf-8") == page


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium not installed (.ci/run installs Debian's chromium)")
    return exe


def _render(exe: str, page, tmp_path) -> tuple[str, str]:
    """Load ``page`` in headless Chromium; return the rendered DOM and its console log lines."""
    done = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    return done.stdout, "\n".join(console)


def test_report_renders_in_chromium_without_console_errors(report, tmp_path):
    exe = _chromium()
    # the check can fail: a page that logs an error is caught
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('broken report')</script></body></html>")
    _, console = _render(exe, bad, tmp_path)
    assert "broken report" in console
    dom, console = _render(exe, report.write(tmp_path / "report.html"), tmp_path)
    assert console == ""
    assert "Verdict:" in dom and dom.count("<svg") >= 12 and "class rare" in dom


def test_stage_comes_from_the_models_history_when_it_says():
    from types import SimpleNamespace

    from ganaug.evaluation.report import _stage

    said = SimpleNamespace(model_=SimpleNamespace(history_={
        "stage": "copula", "stage_reason": "no checkpoint beat it", "validation_steps": [0, 20, 40]}))
    assert _stage(said) == {"stage": "copula", "reason": "no checkpoint beat it", "steps trained": 40}
    older = SimpleNamespace(model_=SimpleNamespace(history_={"selected_step": 0}))
    assert _stage(older)["stage"].startswith("closed-form copula")
    assert _stage(SimpleNamespace()) == {}
