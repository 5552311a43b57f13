"""The default preset's gate on the adversarial stage, and history_'s account of the stage used."""

import math

import numpy as np
import pandas as pd
import pytest

from ganaug.gan.presets import PRESETS
from ganaug.gan.selection import SELECTION_MARGIN, adversarial_gate
from ganaug.gan.synthesizer import ConditionalGAN

#: the default design with small networks (the gate and the selection are the default's)
SMALL = PRESETS["default"].with_overrides(
    generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=64, max_steps=60
)


def _gaussian(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two classes of correlated Gaussian columns: the copula is the true model."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = rng.normal(size=n) + y
    return pd.DataFrame({"a": a, "b": 0.6 * a + rng.normal(size=n), "c": rng.normal(size=n)}), y


def _rings(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two concentric rings: no Gaussian copula follows them."""
    rng = np.random.default_rng(seed)
    t, y = rng.uniform(0, 2 * np.pi, n), rng.integers(0, 2, n)
    r = 1 + y
    return pd.DataFrame({"a": r * np.cos(t) + rng.normal(0, 0.05, n),
                         "b": r * np.sin(t) + rng.normal(0, 0.05, n)}), y


def test_gate_lets_the_stage_run_only_when_the_gain_clears_the_margin_by_two_errors():
    assert adversarial_gate(0.30, 0.05) is None
    assert adversarial_gate(SELECTION_MARGIN + 0.10, 0.049) is None
    reason = adversarial_gate(SELECTION_MARGIN + 0.10, 0.051)
    assert reason is not None and "could not show reliably" in reason
    assert "better than the copula" in adversarial_gate(0.02, 0.01)
    assert "fewer than 2 held-out rows" in adversarial_gate(0.0, math.inf)
    # a stricter margin refuses what a looser one lets through
    assert adversarial_gate(0.2, 0.02, margin=0.01) is None
    assert adversarial_gate(0.2, 0.02, margin=0.2) is not None


def test_copula_table_skips_the_stage_and_keeps_the_copula_rows():
    X, y = _gaussian()
    gated = ConditionalGAN(SMALL, random_state=0).fit(X, y)
    h = gated.history_
    assert h["stage"] == "copula" and h["stage_reason"].startswith("adversarial stage skipped")
    assert gated.n_steps_ == 0 and h["generator"] == [] and h["selected_step"] == 0
    assert h["validation_steps"] == [0] and h["attainable_gain"] < 1
    # the rows are the copula's: those of the copula alone (generator frozen, one step)
    alone = ConditionalGAN(SMALL.with_overrides(lr_g=0.0, max_steps=1), random_state=0).fit(X, y)
    assert alone.history_["stage"] == "copula"
    assert alone.history_["stage_reason"].startswith("adversarial stage")
    a, _ = gated.sample(50, random_state=3)
    b, _ = alone.sample(50, random_state=3)
    pd.testing.assert_frame_equal(a, b)


def test_ungated_stage_runs_in_full_and_says_why_the_copula_was_kept():
    X, y = _gaussian()
    model = ConditionalGAN(SMALL.with_overrides(adversarial_gate=False, lr_g=0.0), random_state=0).fit(X, y)
    h = model.history_
    assert model.n_steps_ == 60 and "attainable_gain" not in h
    # a frozen generator never beats the copula: the copula is kept, with the reason
    assert h["selected_step"] == 0 and h["stage"] == "copula"
    assert h["stage_reason"] == (
        f"no checkpoint of the adversarial stage beat the copula on held-out rows by {SELECTION_MARGIN:.0%}"
    )


def test_table_the_copula_cannot_follow_runs_the_stage_and_history_names_it():
    X, y = _rings()
    model = ConditionalGAN(SMALL.with_overrides(copula_components=1), random_state=0).fit(X, y)
    h = model.history_
    assert h["attainable_gain"] - SELECTION_MARGIN > 0.1  # the gate let it run
    assert model.n_steps_ > 0
    kept = h["selected_step"]
    if kept:
        assert h["stage"] == "adversarial" and f"step {kept}" in h["stage_reason"]
        score = h["validation"][h["validation_steps"].index(kept)]
        assert score < h["validation"][0] * (1 - SELECTION_MARGIN)
    else:  # stopped when the held-out score stalled, or no checkpoint cleared the margin
        assert h["stage"] == "copula"
    assert h["stage"] == ("adversarial" if kept else "copula")


def test_stage_stops_when_the_held_out_score_stalls_before_any_checkpoint_is_kept():
    X, y = _rings()
    # a frozen generator: the held-out score cannot fall, so the first checkpoint stops it
    model = ConditionalGAN(SMALL.with_overrides(copula_components=1, lr_g=0.0), random_state=0).fit(X, y)
    h = model.history_
    assert h["stage"] == "copula" and h["stage_reason"].startswith("adversarial stage stopped at step")
    assert len(h["validation"]) == 2 and model.n_steps_ == h["validation_steps"][1] <= 6


@pytest.mark.parametrize("preset, reason", [
    ("classic", "the preset has no copula stage"),
    (SMALL.with_overrides(holdout_selection=False, epochs=1), "no hold-out selection"),
])
def test_history_names_the_stage_without_selection(preset, reason):
    X, y = _gaussian(120)
    if preset == "classic":
        preset = PRESETS["classic"].with_overrides(epochs=1)
    model = ConditionalGAN(preset, random_state=0).fit(X, y)
    assert model.history_["stage"] == "adversarial" and model.history_["stage_reason"].startswith(reason)


# --- the callback on a stub loop (no fit): fast checks of each decision ------------------------


def _gate_loop(scores, gain=(0.5, 0.01), probe=3, total=20, every=10):
    from test_training_loop import make_loop

    from ganaug.gan.callbacks import Selection, StageGate

    selection = Selection(every=every)
    gate = StageGate(selection, lambda: gain, probe)
    loop, steps = make_loop(total=total, per_epoch=total, callbacks=[selection, gate], scores=scores)
    return loop, steps


def test_gate_callback_skips_before_the_first_step_when_the_gain_cannot_be_shown():
    loop, steps = _gate_loop([1.0], gain=(0.06, 0.02))
    history = loop.run()
    assert steps.calls == [] and loop.state.step == 0 and history["selected_step"] == 0
    assert history["attainable_gain"] == 0.06
    assert loop.state.stop_reason.startswith("adversarial stage skipped")


def test_gate_callback_probes_early_and_stops_when_the_score_does_not_fall():
    loop, _ = _gate_loop([1.0, 1.01])
    history = loop.run()
    assert history["validation_steps"] == [0, 3] and loop.state.step == 3
    assert loop.state.stop_reason.startswith("adversarial stage stopped at step 3")


def test_gate_callback_lets_a_falling_score_run_and_a_kept_checkpoint_finish():
    # falling at the probes (steps 3 and 6) and at step 10 (0.9, kept: 10% below the copula);
    # after a checkpoint is kept a worse score no longer stops the stage
    loop, _ = _gate_loop([1.0, 0.995, 0.99, 0.9, 0.95])
    history = loop.run()
    assert history["validation_steps"] == [0, 3, 6, 10, 20] and loop.state.stop_reason is None
    assert history["selected_step"] == 10


def test_gate_callback_doubles_its_probes_until_the_regular_checkpoints():
    # probes at 1, 2, 4, 8, 16 (below the first regular checkpoint, 20), all falling; a stall at
    # 16 stops the stage after twice the steps of the last falling probe
    loop, _ = _gate_loop([1.0, 0.999, 0.998, 0.997, 0.996, 0.997], probe=1, total=100, every=20)
    history = loop.run()
    assert history["validation_steps"] == [0, 1, 2, 4, 8, 16] and loop.state.step == 16
    assert loop.state.stop_reason.startswith("adversarial stage stopped at step 16")


def test_gate_callback_stops_probing_once_a_checkpoint_is_kept():
    # kept at the probe of step 2 (10% below the copula): only the regular checkpoints follow
    loop, _ = _gate_loop([1.0, 0.99, 0.9, 0.95, 0.96], probe=1, total=20, every=10)
    history = loop.run()
    assert history["validation_steps"] == [0, 1, 2, 10, 20] and history["selected_step"] == 2


def test_stage_record_names_the_stage_and_why():
    from ganaug.gan.callbacks import stage_record

    kept = {"selected_step": 10, "validation": [1.0, 0.9], "validation_steps": [0, 10]}
    record = stage_record(True, True, kept, None)
    assert record["stage"] == "adversarial" and "step 10 scored 10% better" in record["stage_reason"]
    gated = stage_record(True, True, {"selected_step": 0}, "adversarial stage skipped: why")
    assert gated == {"stage": "copula", "stage_reason": "adversarial stage skipped: why"}
    # a stop by another callback (time budget) is not the gate's reason
    timed = stage_record(True, True, {"selected_step": 0}, "time_budget")
    assert timed["stage"] == "copula" and timed["stage_reason"].startswith("no checkpoint")
    assert stage_record(False, False, {}, None)["stage"] == "adversarial"
