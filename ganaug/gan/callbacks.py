"""Callbacks of the adversarial loop (:mod:`ganaug.gan.training`): checkpoint selection, early
stopping, the time budget, the progress bar and the stop decision of a distributed job.

Each is independent of the others but :class:`EarlyStopping`, which counts the checkpoints that
:class:`Selection` did not keep. A new callback subclasses :class:`ganaug.gan.training.Callback`
and overrides the hooks it needs; ``ConditionalGAN._callbacks`` lists those a fit uses.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ganaug.gan.parallel import Local
from ganaug.gan.selection import SELECTION_MARGIN, snapshot
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
