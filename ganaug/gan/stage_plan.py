"""The plan of the adversarial stage: its batch size and number of steps, and its callbacks in
the order they run (:mod:`ganaug.gan.callbacks`), from the config and what the fit selects."""

from __future__ import annotations

import math
from typing import Any

from ganaug.gan.callbacks import (
    DistributedSync,
    EarlyStopping,
    Progress,
    Selection,
    StageGate,
    TimeBudget,
)
from ganaug.gan.parallel import Local
from ganaug.gan.presets import GANConfig
from ganaug.gan.training import Callback


def step_budget(cfg: GANConfig, n_train: int) -> tuple[int, int, int]:
    """``(batch, steps_per_epoch, total_steps)`` for ``n_train`` training rows.

    The batch is a multiple of ``pac`` of at most ``batch_size`` (and of the rows); the steps are
    ``epochs`` passes when the config sets them, else ``target_steps`` or ``target_passes``
    passes, whichever is more, capped by ``max_steps`` and ``max_epochs``.
    """
    batch = max(cfg.pac, math.ceil(min(cfg.batch_size, max(n_train, cfg.pac)) / cfg.pac) * cfg.pac)
    steps_per_epoch = max(1, math.ceil(n_train / batch))
    if cfg.epochs:
        return batch, steps_per_epoch, cfg.epochs * steps_per_epoch
    wanted = max(cfg.target_steps, math.ceil(cfg.target_passes * steps_per_epoch))
    return batch, steps_per_epoch, min(wanted, cfg.max_steps, cfg.max_epochs * steps_per_epoch)


def stage_callbacks(
    cfg: GANConfig,
    selecting: bool,
    total_steps: int,
    comm: Local,
    gate: tuple[Any, int] | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    verbose: bool = False,
) -> list[Callback]:
    """The callbacks of the adversarial stage, in the order they run.

    ``selecting``: held-out rows score checkpoints (:class:`Selection`, every tenth of the
    steps); ``gate``: the attainable-gain function and first checkpoint of :class:`StageGate`, or
    None; ``early_stopping`` and ``patience`` as in :class:`~ganaug.gan.synthesizer.ConditionalGAN`.
    """
    callbacks: list[Callback] = []
    if cfg.time_budget is not None:
        callbacks.append(TimeBudget(cfg.time_budget))
    if comm.world_size > 1:  # after every callback that may stop one rank alone
        callbacks.append(DistributedSync(comm))
    if selecting:
        every = max(1, total_steps // 10)
        selection = Selection(every=every)
        callbacks.append(selection)
        if gate is not None:  # after the selection, whose step-0 score it reads
            callbacks.append(StageGate(selection, gate[0], min(every, gate[1])))
        if early_stopping:
            callbacks.append(EarlyStopping(selection, patience))
    callbacks.append(Progress(verbose and comm.rank == 0))
    return callbacks
