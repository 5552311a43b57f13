"""Reliability of artifacts and written files (issue 13, part A): no data loss, corrupt artifacts
replaced, no temporary files left by killed writers, every edited field of ``ganaug.json``
refused by name, loads that leave the global torch RNG alone, and SIGKILL fault injection.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from ganaug.cli import main
from ganaug.core.checks import check_task
from ganaug.core.errors import ArtifactError
from ganaug.core.files import atomic_write_bytes, exit_on_sigterm, remove_stale_temps, replacing
from ganaug.core.schema import Column, Schema
from ganaug.gan import artifact
from ganaug.gan.export import export_onnx
from ganaug.gan.presets import PRESETS
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.learn.sampler import GANAugmenter
from ganaug.runtime import OnnxGenerator

TINY = PRESETS["default"].with_overrides(
    generator_hidden=(16, 16), discriminator_hidden=(16, 16), batch_size=32, epochs=1, noise_dim=8
)
WORKTREE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    score = rng.normal(size=90)
    score[rng.random(90) < 0.1] = np.nan  # a column with missing values
    X = pd.DataFrame({"age": rng.integers(18, 80, 90), "city": rng.choice(["paris", "lyon", "nice"], 90),
                      "score": score})
    y = rng.choice(np.array([0, 1, 2]), 90, p=[0.5, 0.3, 0.2])
    return ConditionalGAN(preset=TINY, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def onnx_file(fitted, tmp_path_factory):
    # TorchScript: a fraction of a second; the file format is the same as the dynamo export's
    return export_onnx(fitted, tmp_path_factory.mktemp("onnx") / "m.onnx", exporter="torchscript")


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def _artifact_files(root: Path) -> list[str]:
    meta = json.loads((root / "ganaug.json").read_text())
    return sorted(["ganaug.json", meta["weights"]["file"]])


def _edit(root: Path, edit) -> None:
    path = root / "ganaug.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def _copy(source: Path, root: Path) -> Path:
    shutil.copytree(source, root)
    return root


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped, so its pid names no process
    return proc.pid


def _perturbed(model: ConditionalGAN, step: float) -> ConditionalGAN:
    """A copy of the model with other weights (so another weights file)."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        next(model.generator_.parameters()).add_(step)
    return model


# ------------------------------------------------------------------------------------ data loss
@pytest.mark.parametrize("target", ["absolute", "parent", "ganaug.json"])
def test_save_never_deletes_the_file_an_old_description_names(fitted, tmp_path, target):
    root = tmp_path / "R" / "d"
    artifact.save(fitted, root)
    precious = tmp_path / "R" / "precious.txt"
    precious.write_text("keep me")
    name = {"absolute": str(precious), "parent": "../precious.txt", "ganaug.json": "ganaug.json"}[target]
    _edit(root, lambda m: m["weights"].update(file=name))
    with pytest.raises(ArtifactError, match=r"ganaug\.json: field 'weights\.file'"):
        artifact.load(root)
    artifact.save(_perturbed(fitted, 1e-3), root)
    assert precious.read_text() == "keep me"
    model, _ = artifact.load(root)
    assert _files(root) == _artifact_files(root)
    assert model.classes_.tolist() == [0, 1, 2]


def test_save_replaces_a_corrupt_description(fitted, tmp_path):
    root = tmp_path / "a"
    for garbage in (b"\x00\xff garbage", b'{"format": "ganaug-artifact", "format_versi', b"[1, 2]",
                    b'{"format": "ganaug-artifact", "format_version": 2, "weights": 7}'):
        root.mkdir(exist_ok=True)
        (root / "ganaug.json").write_bytes(garbage)
        with pytest.raises(ArtifactError, match=re.escape(str(root / "ganaug.json"))):
            artifact.load(root)
        artifact.save(fitted, root)
        artifact.load(root)
        assert _files(root) == _artifact_files(root)


def _no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("trained before checking the output")

    monkeypatch.setattr(GANAugmenter, "fit", refuse)


def test_pretrain_checks_the_output_directory_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    _no_training(monkeypatch)
    runner = CliRunner()
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    result = runner.invoke(main, ["pretrain", "iris", "--force", "-o", str(blocker / "art")])
    assert result.exit_code == 2 and "is not a directory" in result.output
    (tmp_path / "art" / "ganaug.json").mkdir(parents=True)
    result = runner.invoke(main, ["pretrain", "iris", "--force", "-o", str(tmp_path / "art")])
    assert result.exit_code == 2 and "ganaug.json is a directory" in result.output
    assert blocker.read_text() == "keep me"


@pytest.mark.parametrize("damage", ["weights file outside", "garbage json"])
def test_pretrain_force_replaces_a_hostile_or_corrupt_artifact(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    out = tmp_path / "art"
    args = ["pretrain", "iris", "--preset", "classic", "--epochs", "1", "--force", "-o", str(out)]
    assert runner.invoke(main, args).exit_code == 0
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    if damage == "garbage json":
        (out / "ganaug.json").write_text("{not json")
    else:
        _edit(out, lambda m: m["weights"].update(file=str(precious)))
    result = runner.invoke(main, [*args, "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert precious.read_text() == "keep me"
    # the CLI notes the training data beside the artifact (cli/pretrain.py, SOURCE_FILE)
    assert _files(out) == sorted([*_artifact_files(out), "source.json"])
    assert artifact.read_meta(out)["extra"]["augmenter_params"]["random_state"] == 1
    GANAugmenter.load(out)


# -------------------------------------------------------------------------- temporary files
def test_save_removes_orphans_of_its_own_pattern_only(fitted, tmp_path):
    root = tmp_path / "a"
    artifact.save(fitted, root)
    dead, alive = _dead_pid(), os.getpid()
    orphans = [
        "weights-0123456789abcdef.safetensors",  # a save killed after writing its weights
        f".ganaug.json.{dead}.k2j4h5g6.tmp",
        f".weights-fedcba9876543210.safetensors.{dead}.abc_1234.tmp",
        ".ganaug.json.ab3d5f7h.tmp",  # named by ganaug 0.2 (no pid), untouched for two hours
    ]
    kept = [
        "notes.txt",
        "weights-backup.safetensors",
        "weights-0123456789ABCDEF.safetensors",
        f".ganaug.json.{alive}.k2j4h5g6.tmp",  # a live writer's
        ".ganaug.json.zz3d5f7h.tmp",  # legacy but recent
        f".other.csv.{dead}.k2j4h5g6.tmp",  # another target's
    ]
    for name in orphans + kept:
        (root / name).write_bytes(b"x")
    old = time.time() - 2 * 3600
    os.utime(root / ".ganaug.json.ab3d5f7h.tmp", (old, old))
    artifact.save(_perturbed(fitted, 1e-3), root)
    assert _files(root) == sorted(_artifact_files(root) + kept)
    artifact.load(root)


def test_writing_a_table_removes_stale_temporaries_of_that_table(onnx_file, tmp_path):
    out = tmp_path / "rows.csv"
    dead = _dead_pid()
    stale = tmp_path / f".rows.csv.{dead}.a1b2c3d4.tmp"
    live = tmp_path / f".rows.csv.{os.getpid()}.a1b2c3d4.tmp"
    other = tmp_path / f".rows.parquet.{dead}.a1b2c3d4.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    result = CliRunner().invoke(main, ["sample", str(onnx_file), "-n", "20", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert not stale.exists() and live.exists() and other.exists()
    assert len(pd.read_csv(out)) == 20
    assert remove_stale_temps(tmp_path, re.escape("rows.parquet")) == [other]


def test_an_interrupted_write_keeps_the_old_file(tmp_path):
    out = tmp_path / "f.bin"
    atomic_write_bytes(out, b"old")
    with pytest.raises(KeyboardInterrupt), replacing(out) as tmp:
        Path(tmp).write_bytes(b"new, half written")
        raise KeyboardInterrupt
    assert out.read_bytes() == b"old" and _files(tmp_path) == ["f.bin"]


def test_exit_on_sigterm_runs_cleanup_and_restores_the_default():
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with pytest.raises(SystemExit) as info, exit_on_sigterm():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted by the handler
        assert info.value.code == 128 + signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------------- edited descriptions
def _column(meta, name):
    return next(c for c in meta["schema"]["columns"] if c["name"] == name)


EDITS = {
    "class_counts too short": (lambda m: m.update(class_counts=[50, 50]), "'class_counts'"),
    "class_counts too long": (lambda m: m.update(class_counts=[5, 5, 5, 5]), "'class_counts'"),
    "negative count": (lambda m: m["class_counts"].__setitem__(1, -3), "'class_counts'"),
    "zero count": (lambda m: m["class_counts"].__setitem__(0, 0), "'class_counts'"),
    "count not an integer": (lambda m: m["class_counts"].__setitem__(0, 2.5), "'class_counts'"),
    "duplicate classes": (lambda m: m.update(classes=[0, 0, 2]), "'classes' lists 0 twice"),
    "no classes": (lambda m: m.update(classes=[]), "'classes'"),
    "null beside classes": (lambda m: m.update(classes=[0, None, 2]), "'classes'"),
    "class_dtype truncates": (lambda m: m.update(classes=[0.5, 1, 2]), "'class_dtype'"),
    "class_dtype unknown": (lambda m: m.update(class_dtype="banana"), "'class_dtype'"),
    "empty quantiles": (lambda m: _column(m, "age").update(quantiles=[]), "column 'age': field 'quantiles'"),
    "reversed quantiles": (
        lambda m: _column(m, "score").update(quantiles=_column(m, "score")["quantiles"][::-1]),
        "column 'score': field 'quantiles' must be non-decreasing",
    ),
    "quantile not a number": (
        lambda m: _column(m, "age")["quantiles"].__setitem__(3, "7"), "column 'age': field 'quantiles'"
    ),
    "minimum above maximum": (lambda m: _column(m, "age").update(minimum=1e9), "column 'age': field 'minimum'"),
    "missing_rate out of range": (
        lambda m: _column(m, "score").update(missing_rate=1.5), "column 'score': field 'missing_rate'"
    ),
    "duplicate categories": (
        lambda m: _column(m, "city").update(categories=["lyon", "lyon", "paris"]),
        "column 'city': field 'categories' lists 'lyon' twice",
    ),
    "null category without missing values": (
        lambda m: _column(m, "city").update(categories=["lyon", "nice", None]),
        "column 'city': field 'categories'",
    ),
    "unknown kind": (lambda m: _column(m, "city").update(kind="text"), "column 'city': field 'kind'"),
    "unknown dtype": (lambda m: _column(m, "age").update(dtype="int77"), "column 'age': field 'dtype'"),
    "duplicate column": (lambda m: _column(m, "city").update(name="age"), "'schema.columns' names column 'age' twice"),
    "unknown container": (lambda m: m["schema"].update(container="excel"), "'schema.container'"),
    "regression on a classifier": (lambda m: m["extra"].update(task="regression"), "'extra.task' is 'regression'"),
    "unknown task": (lambda m: m["extra"].update(task="clustering"), "'extra.task'"),
    "extra not an object": (lambda m: m.update(extra=[1]), "'extra'"),
    "seed": (lambda m: m.update(seed="zero"), "'seed'"),
    "n_epochs": (lambda m: m.update(n_epochs=-1), "'n_epochs'"),
    "history": (lambda m: m.update(history=None), "'history'"),
    "config": (lambda m: m["config"].update(turbo=True), "'config'"),
    "config choice": (lambda m: m["config"].update(loss="hinge"), "'config'"),
    "weights bytes": (lambda m: m["weights"].update(bytes="many"), "'weights.bytes'"),
    "weights sha256": (lambda m: m["weights"].update(sha256="00"), "'weights.sha256'"),
    "weights file of another checksum": (
        lambda m: m["weights"].update(file="weights-0000000000000000.safetensors"), "'weights.file'"
    ),
}


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    root = tmp_path_factory.mktemp("saved") / "a"
    artifact.save(fitted, root, extra={"task": "classification", "augmenter_params": {}})
    return root


@pytest.mark.parametrize("case", list(EDITS))
def test_an_edited_field_is_refused_at_load_by_name(saved, tmp_path, case):
    edit, message = EDITS[case]
    root = _copy(saved, tmp_path / "a")
    artifact.load(root)  # the copy is sound
    _edit(root, edit)
    with pytest.raises(ArtifactError, match=re.escape(message)) as info:
        artifact.load(root)
    assert str(root / "ganaug.json") in str(info.value) or str(root) in str(info.value)


@pytest.mark.parametrize("case", ["class_counts too short", "regression on a classifier", "reversed quantiles"])
def test_export_never_writes_a_file_from_an_edited_artifact(saved, tmp_path, case):
    edit, message = EDITS[case]
    root = _copy(saved, tmp_path / "a")
    _edit(root, edit)
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(main, ["export", str(root), "-o", str(out)])
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output
    assert _files(tmp_path) == ["a"]


def test_task_must_agree_with_classes_and_schema():
    target = Column(name="__target__", kind="numeric", dtype="float64", minimum=0.0, maximum=1.0,
                    quantiles=[0.0, 1.0])
    feature = Column(name="x", kind="categorical", dtype="object", categories=["a", "b"])
    schema = Schema(columns=[feature, target])
    check_task("regression", np.array([None], dtype=object), schema, "m.json")
    check_task("classification", np.array([0, 1]), schema, "m.json")
    with pytest.raises(ArtifactError, match="m.json: field 'task' is 'regression' but the model is"):
        check_task("regression", np.array([0, 1]), schema, "m.json")
    with pytest.raises(ArtifactError, match="last column 'x'"):
        check_task("regression", np.array([None], dtype=object), Schema(columns=[target, feature]), "m.json")


def test_an_unstorable_value_is_named_and_nothing_is_written(fitted, tmp_path, monkeypatch):
    column = fitted.codec_.schema_.columns[1]
    monkeypatch.setattr(column, "categories", [*column.categories, float("inf")])
    with pytest.raises(ArtifactError, match="column 'city', field 'categories.3'"):
        artifact.save(fitted, tmp_path / "a")
    assert not (tmp_path / "a").exists()


# ------------------------------------------------------------------------------------ the RNG
def test_load_leaves_the_global_torch_rng_alone(saved):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    model, _ = artifact.load(saved)
    assert torch.equal(torch.random.get_rng_state(), before)
    X1, _ = model.sample(30, random_state=5)
    torch.manual_seed(999)  # the global state does not change what a load gives
    X2, _ = artifact.load(saved)[0].sample(30, random_state=5)
    pd.testing.assert_frame_equal(X1, X2)


# ------------------------------------------------------------------------------- concurrency
def test_concurrent_saves_and_loads_of_one_directory(fitted, tmp_path):
    root = tmp_path / "a"
    artifact.save(fitted, root)
    errors = []

    def saver(step):
        model = _perturbed(fitted, step)
        try:
            for _ in range(4):
                artifact.save(model, root)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    def loader():
        try:
            for _ in range(8):
                artifact.load(root)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=saver, args=(s,)) for s in (1e-3, 2e-3)]
    threads.append(threading.Thread(target=loader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _files(root) == _artifact_files(root)


# --------------------------------------------------------------------------- fault injection
# One process imports everything once, then forks a worker per round that writes in a loop until
# the test kills it; the zygote reports the worker's pid, then its exit status once reaped.
ZYGOTE = textwrap.dedent(
    """
    import os, sys
    import torch
    torch.set_num_threads(1)
    from ganaug.cli import main
    from ganaug.gan import artifact

    models = {}
    print("ready", flush=True)
    for line in sys.stdin:
        job, source, target, n_rows = line.split()
        if job == "save" and source not in models:
            models[source] = artifact.load(source)[0]
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                i = 0
                while True:
                    i += 1
                    if job == "save":
                        model = models[source]
                        with torch.no_grad():
                            next(model.generator_.parameters()).add_(1e-3)
                        artifact.save(model, target)
                    else:
                        main(["sample", source, "-n", n_rows, "--seed", str(i % 2), "--threads",
                              "1", "-o", target], standalone_mode=False)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
            finally:
                os._exit(status)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
    """
)


class Zygote:
    """Forks writers from one process that has imported torch and ganaug (paid once)."""

    def __init__(self, log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
        self.log = open(log, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env,
        )
        assert self.proc.stdout.readline().strip() == "ready", log.read_text()

    def start(self, job: str, source: Path, target: Path, n_rows: int = 0) -> int:
        """Fork a worker that repeats ``job`` from ``source`` to ``target``; its pid."""
        self.proc.stdin.write(f"{job} {source} {target} {n_rows}\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def exit_code(self) -> int:
        """The exit code of the last worker, once it has ended (negative: killed by a signal)."""
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.kill()  # no worker is left; skip the interpreter's slow shutdown
        self.proc.wait(timeout=30)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    z = Zygote(tmp_path_factory.mktemp("zygote") / "log")
    yield z
    z.close()


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + 60
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def _temp_exists(directory: Path) -> bool:
    return any(p.name.startswith(".") for p in directory.iterdir())


def test_sigkill_during_save_keeps_the_previous_artifact(saved, tmp_path, zygote):
    root = tmp_path / "a"
    artifact.save(artifact.load(saved)[0], root)
    meta = root / "ganaug.json"
    rng = random.Random(0)
    interrupted = 0
    for _ in range(10):
        stamp = meta.stat().st_mtime_ns
        pid = zygote.start("save", saved, root)
        _wait_for(lambda s=stamp: meta.stat().st_mtime_ns != s, "the worker's first save")
        time.sleep(rng.uniform(0.0, 0.1))  # a random point in a loop of saves
        os.kill(pid, signal.SIGKILL)
        assert zygote.exit_code() == -signal.SIGKILL
        interrupted += _files(root) != _artifact_files(root)  # a temp or an orphan was left
        model, _ = artifact.load(root)  # the previous or the new artifact, whole
        artifact.save(_perturbed(model, 1e-4), root)
        assert _files(root) == _artifact_files(root)
    assert interrupted >= 1  # the kills did land inside saves


def test_sigkill_and_sigterm_during_sample_output(onnx_file, tmp_path, zygote):
    out = tmp_path / "rows.csv"
    expected = set()
    for seed in (0, 1):
        OnnxGenerator(onnx_file, n_threads=1).write(out, 20_000, random_state=seed)
        expected.add(out.read_bytes())
    out.unlink()
    rng = random.Random(0)
    interrupted = 0
    for i in range(10):
        pid = zygote.start("sample", onnx_file, out, 20_000)
        _wait_for(lambda: _temp_exists(tmp_path), "the worker's first write")
        time.sleep(rng.uniform(0.0, 0.3) if i else 0.0)
        os.kill(pid, signal.SIGKILL)
        assert zygote.exit_code() == -signal.SIGKILL
        interrupted += _temp_exists(tmp_path)
        if i == 0:
            assert not out.exists()  # killed during its first write: nothing was ever written
        else:
            assert out.read_bytes() in expected  # the old complete file (or a newer one)
        result = CliRunner().invoke(main, ["sample", str(onnx_file), "-n", "20000", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert _files(tmp_path) == ["rows.csv"] and out.read_bytes() in expected
    assert interrupted >= 1
    # SIGTERM: the writer removes its temporary file and keeps the old output
    before = out.read_bytes()
    pid = zygote.start("sample", onnx_file, out, 3_000_000)
    _wait_for(lambda: _temp_exists(tmp_path), "the writer")
    os.kill(pid, signal.SIGTERM)
    assert zygote.exit_code() == 128 + signal.SIGTERM
    assert _files(tmp_path) == ["rows.csv"] and out.read_bytes() == before
