"""The adversarial loop in pieces: the named steps, the loop and each callback on its own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganaug.gan.callbacks import DistributedSync, EarlyStopping, Progress, Selection, TimeBudget
from ganaug.gan.parallel import Local
from ganaug.gan.row_sources import MemoryRows
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.gan.training import AdversarialLoop, AdversarialSteps, Callback


class StubSteps:
    """Steps that only count; the generator's weight is the number of generator steps."""

    device = torch.device("cpu")
    draws = torch.Generator()

    def __init__(self) -> None:
        self.G, self.D = nn.Linear(1, 1), nn.Linear(1, 1)
        self.G.weight.data.zero_()
        self.calls: list[str] = []

    def critic_step(self):
        self.calls.append("critic")
        return torch.tensor(1.0), torch.zeros(2, dtype=torch.long)

    def generator_step(self, cond):
        self.calls.append("generator")
        self.G.weight.data += 1
        return torch.tensor(2.0)


def make_loop(total=10, per_epoch=4, callbacks=(), scores=None):
    steps = StubSteps()
    score = None
    if scores is not None:
        it = iter(scores)
        score = lambda: next(it)
    return AdversarialLoop(steps, steps.G, total, per_epoch, callbacks, score), steps


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_train_begin(self, loop):
        self.events.append(("begin", loop.state.step))

    def on_step_end(self, loop):
        self.events.append(("step", loop.state.step))

    def on_checkpoint(self, loop, score):
        self.events.append(("checkpoint", loop.state.step, score))

    def on_epoch_end(self, loop):
        self.events.append(("epoch", loop.state.epoch))

    def on_train_end(self, loop):
        self.events.append(("end", loop.state.step))

    def close(self):
        self.events.append(("close",))


def test_loop_runs_its_steps_in_epochs_and_calls_every_hook():
    rec = Recorder()
    loop, steps = make_loop(total=10, per_epoch=4, callbacks=[rec])
    history = loop.run()
    assert steps.calls == ["critic", "generator"] * 10
    assert loop.state.step == 10 and loop.state.epoch == 3 and loop.state.stop_reason is None
    assert history["generator"] == [2.0, 2.0, 2.0] and history["discriminator"] == [1.0, 1.0, 1.0]
    assert "validation" not in history  # no score, no checkpoint
    kinds = [e[0] for e in rec.events]
    assert kinds[0] == "begin" and kinds[-2:] == ["end", "close"]
    assert kinds.count("step") == 10 and kinds.count("epoch") == 3


def test_a_callback_stops_the_loop_with_a_last_checkpoint():
    class StopAtThree(Callback):
        def on_step_end(self, loop):
            if loop.state.step == 3:
                loop.state.request_stop("enough")

    loop, _ = make_loop(total=10, callbacks=[StopAtThree()], scores=[5.0, 4.0])
    history = loop.run()
    assert loop.state.step == 3 and loop.state.stop_reason == "enough"
    assert history["validation_steps"] == [0, 3] and history["validation"] == [5.0, 4.0]
    assert len(history["generator"]) == 1  # the epoch in progress is recorded


def test_close_runs_when_a_step_fails():
    class Boom(Callback):
        def on_step_end(self, loop):
            raise RuntimeError("boom")

    rec = Recorder()
    loop, _ = make_loop(callbacks=[rec, Boom()])
    with pytest.raises(RuntimeError):
        loop.run()
    assert rec.events[-1] == ("close",) and ("end", 1) not in rec.events


def test_selection_keeps_the_best_checkpoint_that_beats_the_copula_by_the_margin():
    # step 0 (copula) 1.0; 0.97 is better but inside the 5% margin; 0.5 is kept; 0.6 is not
    selection = Selection(every=2, margin=0.05)
    loop, _ = make_loop(
        total=8, per_epoch=8, callbacks=[selection], scores=[1.0, 0.97, 0.5, 0.6, 0.7]
    )
    history = loop.run()
    assert history["validation_steps"] == [0, 2, 4, 6, 8]
    assert history["selected_step"] == 4
    assert selection.bad_checks == 2
    assert float(loop.generator.weight.detach()) == 4.0  # the generator of step 4 was loaded back


def test_selection_keeps_the_copula_when_nothing_beats_it():
    loop, _ = make_loop(
        total=4, per_epoch=4, callbacks=[Selection(every=1)], scores=[1.0, 2, 3, 4, 5]
    )
    history = loop.run()
    assert history["selected_step"] == 0 and float(loop.generator.weight.detach()) == 0.0


def test_early_stopping_stops_after_patience_checkpoints_not_kept():
    selection = Selection(every=1)
    stopping = EarlyStopping(selection, patience=2)
    loop, _ = make_loop(total=10, callbacks=[selection, stopping], scores=[1.0, 0.5, 0.6, 0.7, 0.1])
    history = loop.run()
    assert loop.state.step == 3 and loop.state.stop_reason == "early_stopping"
    assert history["validation_steps"] == [0, 1, 2, 3] and history["selected_step"] == 1


def test_time_budget_stops_when_the_clock_passes_the_deadline():
    now = iter(float(t) for t in range(100))
    budget = TimeBudget(2.5, clock=lambda: next(now))  # begin at 0: steps see 1, 2, 3
    loop, _ = make_loop(total=10, callbacks=[budget])
    loop.run()
    assert loop.state.step == 3 and loop.state.stop_reason == "time_budget"


def test_distributed_sync_stops_this_rank_when_another_asks():
    class OtherRankStops(Local):
        def any(self, flag):
            return True

    loop, _ = make_loop(total=10, callbacks=[DistributedSync(OtherRankStops())])
    loop.run()
    assert loop.state.step == 1 and loop.state.stop_reason == "another_rank"
    loop, _ = make_loop(total=10, callbacks=[DistributedSync(Local())])
    loop.run()
    assert loop.state.step == 10 and loop.state.stop_reason is None


def test_progress_counts_optimiser_steps_and_shows_losses_only_when_enabled(capsys, monkeypatch):
    monkeypatch.setenv("GANAUG_PROGRESS", "log")
    monkeypatch.setenv("GANAUG_PROGRESS_INTERVAL", "0")  # a line per epoch
    loop, _ = make_loop(total=8, per_epoch=4, callbacks=[Progress(True)])
    loop.run()
    err = capsys.readouterr().err
    # the unit is the optimiser step, as in the presets and the docs ("200 to 3,000 steps")
    assert "pretraining GAN, steps  G +2.000  D +1.000: 4/8 steps" in err
    assert "pretraining GAN, steps  G +2.000  D +1.000: 8/8 steps" in err
    assert "epochs" not in err
    loop, _ = make_loop(total=8, per_epoch=4, callbacks=[Progress(False)])
    loop.run()
    assert capsys.readouterr().err == ""


def test_named_steps_update_only_their_network(tiny):
    rng = np.random.default_rng(0)
    Z, y = rng.normal(size=(64, 3)).astype(np.float32), rng.integers(0, 2, 64)
    gan = ConditionalGAN(tiny, device="cpu", random_state=0).fit(rng.normal(size=(64, 3)), y)
    rows = MemoryRows(Z, y)
    rows.start(torch.device("cpu"), 2)
    G, D = gan.generator_, gan.discriminator_
    steps = AdversarialSteps(
        gan.config_,
        G,
        D,
        gan.codec_.spans_,
        rows,
        16,
        2,
        3,
        torch.device("cpu"),
        Local(),
        torch.Generator().manual_seed(0),
        0,
    )
    g_before = [p.detach().clone() for p in G.parameters()]
    d_before = [p.detach().clone() for p in D.parameters()]
    d_loss, cond = steps.critic_step()
    assert torch.isfinite(d_loss) and cond.shape == (16,)
    assert all(torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    d_after = [p.detach().clone() for p in D.parameters()]
    g_loss = steps.generator_step(cond)
    assert torch.isfinite(g_loss) and not g_loss.requires_grad
    assert any(not torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(d_after, D.parameters()))


def test_early_stopping_in_a_fit_ends_at_a_checkpoint(mixed_df, tiny):
    X, y = mixed_df
    gan = ConditionalGAN(tiny, early_stopping=True, patience=1, epochs=20, random_state=0).fit(X, y)
    assert gan.n_steps_ < 20 * 4
    assert gan.history_["validation_steps"][-1] == gan.n_steps_
