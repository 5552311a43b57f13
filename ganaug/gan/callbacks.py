"""Callbacks of the adversarial loop (:mod:`ganaug.gan.training`): checkpoint selection, early
stopping, the time budget, the progress bar and the stop decision of a distributed job.

Each is independent of the others but :class:`EarlyStopping`, which counts the checkpoints that
:class:`Selection` did not keep. A new callback subclasses :class:`ganaug.gan.training.Callback`
and overrides the hooks it needs; :func:`ganaug.gan.stage_plan.stage_callbacks` lists those a fit uses.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ganaug.gan.parallel import Local
from ganaug.gan.selection import SELECTION_MARGIN, adversarial_gate, snapshot
from ganaug.gan.training import AdversarialLoop, Callback


class Selection(Callback):
    """Keep the generator of the best checkpoint; the copula (step 0) is candidate zero.

    A checkpoint is kept when it beats the best so far and the copula's score by the relative
    ``margin`` (not by noise). Checkpoints are asked for every ``every`` steps and at the last
    step. At the end the kept generator is loaded and ``history["selected_step"]`` says which.

    Attributes
    ----------
    zero_score : float
        The copula's held-out score.
    best : tuple of (float, dict, int)
        Score, state dict and step of the kept generator.
    bad_checks : int
        Checkpoints since the last one kept.
    """

    def __init__(self, every: int, margin: float = SELECTION_MARGIN) -> None:
        self.every, self.margin = every, margin
        self.zero_score = math.inf
        self.best: tuple[float, dict[str, Any], int] | None = None
        self.bad_checks = 0

    def on_step_end(self, loop: AdversarialLoop) -> None:
        state = loop.state
        if state.step % self.every == 0 or state.step == state.total_steps:
            state.checkpoint_due = True

    def on_checkpoint(self, loop: AdversarialLoop, score: float) -> None:
        if self.best is None:  # step 0: the copula alone
            self.zero_score = score
            self.best = (score, snapshot(loop.generator), loop.state.step)
        elif score < self.best[0] - 1e-6 and score < self.zero_score * (1 - self.margin):
            self.best = (score, snapshot(loop.generator), loop.state.step)
            self.bad_checks = 0
        else:
            self.bad_checks += 1

    def on_train_end(self, loop: AdversarialLoop) -> None:
        assert self.best is not None
        loop.generator.load_state_dict(self.best[1])
        loop.history["selected_step"] = self.best[2]


#: the prefix of the stop reasons of :class:`StageGate` (what :func:`stage_record` looks for)
GATE_REASON = "adversarial stage "


class StageGate(Callback):
    """Run the adversarial stage only where the held-out rows can validate it (the default).

    At step 0 ``attainable`` (``() -> (gain, error)``,
    :meth:`ganaug.gan.selection.Holdout.attainable_gain`) says how much better than the copula
    the training rows themselves score on the held-out rows; when that would not clear the
    selection margin by two standard errors (:func:`ganaug.gan.selection.adversarial_gate`) the
    stage stops before its first step. Otherwise a first checkpoint comes at ``probe`` steps
    (one pass over the rows: about the copula's own work), and until ``selection`` keeps a
    checkpoint the held-out score must fall at every checkpoint: fine-tuning starts from the
    copula (a zero residual), and a score that stalls before it clears the margin was not seen to
    clear it. Until the first regular checkpoint the probes double (``probe``, ``2 probe``,
    ``4 probe``, ...), so a stage stopped there has run at most twice the steps of its last
    falling checkpoint. Decisions count steps, not seconds, so a seed gives one
    model. ``history["attainable_gain"]`` records the gain.
    """

    def __init__(self, selection: Selection, attainable: Any, probe: int) -> None:
        self.selection, self.attainable = selection, attainable
        self.next_probe = max(1, probe)
        self.last = math.inf

    def on_checkpoint(self, loop: AdversarialLoop, score: float) -> None:
        state = loop.state
        if state.step == 0:
            gain, error = self.attainable()
            loop.history["attainable_gain"] = gain
            why = adversarial_gate(gain, error, self.selection.margin)
            if why is not None:
                state.request_stop(GATE_REASON + why)
        elif self.selection.best is not None and self.selection.best[2] == 0 and score >= self.last:
            state.request_stop(
                f"{GATE_REASON}stopped at step {state.step}: the held-out score stopped falling before "
                f"any checkpoint beat the copula ({score:.4g}, copula {self.selection.zero_score:.4g})"
            )
        self.last = score

    def on_step_end(self, loop: AdversarialLoop) -> None:
        step = loop.state.step
        if step == self.next_probe and step < self.selection.every:  # then the regular ones
            self.next_probe *= 2
            if self.selection.best is None or self.selection.best[2] == 0:  # nothing kept yet
                loop.state.checkpoint_due = True


def stage_record(copula: bool, selecting: bool, history: dict[str, Any], stop_reason: str | None) -> dict[str, str]:
    """``history_``'s ``stage`` (which stage produced the rows: ``"copula"`` or
    ``"adversarial"``) and ``stage_reason`` (why), after the adversarial loop."""
    if not copula:
        return {"stage": "adversarial", "stage_reason": "the preset has no copula stage"}
    if not selecting:
        return {"stage": "adversarial", "stage_reason": "no hold-out selection: the fine-tuned generator is kept"}
    kept = history.get("selected_step", 0)
    if kept:
        scores, steps = history["validation"], history["validation_steps"]
        gain = 1 - scores[steps.index(kept)] / scores[0]
        return {
            "stage": "adversarial",
            "stage_reason": f"the checkpoint at step {kept} scored {gain:.0%} better than the copula "
            f"on held-out rows (at least {SELECTION_MARGIN:.0%} needed)",
        }
    if stop_reason is not None and stop_reason.startswith(GATE_REASON):
        return {"stage": "copula", "stage_reason": stop_reason}
    return {
        "stage": "copula",
        "stage_reason": f"no checkpoint of the adversarial stage beat the copula on held-out rows "
        f"by {SELECTION_MARGIN:.0%}",
    }


class EarlyStopping(Callback):
    """Stop when ``patience`` checkpoints in a row were not kept by ``selection``."""

    def __init__(self, selection: Selection, patience: int) -> None:
        self.selection, self.patience = selection, patience

    def on_checkpoint(self, loop: AdversarialLoop, score: float) -> None:
        if self.selection.bad_checks >= self.patience:
            loop.state.request_stop("early_stopping")


class TimeBudget(Callback):
    """Stop once ``seconds`` of training have passed (measured from the first step)."""

    def __init__(self, seconds: float, clock: Any = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.deadline = math.inf

    def on_train_begin(self, loop: AdversarialLoop) -> None:
        self.deadline = self.clock() + self.seconds

    def on_step_end(self, loop: AdversarialLoop) -> None:
        if self.clock() > self.deadline:
            loop.state.request_stop("time_budget")


class DistributedSync(Callback):
    """Make a stop that one rank decided alone (its clock) the decision of every rank: each step,
    all ranks stop if any asks to. Put it after the callbacks whose stop it shares."""

    def __init__(self, comm: Local) -> None:
        self.comm = comm

    def on_step_end(self, loop: AdversarialLoop) -> None:
        state = loop.state
        if self.comm.any(state.stop) and not state.stop:
            state.request_stop("another_rank")


class Progress(Callback):
    """Progress in optimiser steps (the unit the presets and the docs use: "200 to 3,000
    steps"), with the last epoch's mean losses, on standard error: a bar on a terminal, periodic
    log lines otherwise (:func:`ganaug.runtime.progress.make_progress`)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.shown = 0

    def on_train_begin(self, loop: AdversarialLoop) -> None:
        from ganaug.runtime.progress import make_progress

        self.bar = make_progress(self.enabled, unit="steps")
        self.bar.__enter__()
        self.shown = 0
        self.task = self.bar.add_task("pretraining GAN, steps", total=loop.state.total_steps)

    def on_epoch_end(self, loop: AdversarialLoop) -> None:
        g, d = loop.history["generator"][-1], loop.history["discriminator"][-1]
        done, self.shown = loop.state.step - self.shown, loop.state.step
        self.bar.update(self.task, advance=done, description=f"pretraining GAN, steps  G {g:+.3f}  D {d:+.3f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
