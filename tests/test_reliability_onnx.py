"""Issue 13, the ONNX file: every probe of the exported file's contract, kept as a test.

Metadata checked against the graph, out-of-range conditions and NaN noise, the graph digest,
model version / graph name / sidecar, training values inside exported files and artifacts, the
persistent thread pool, targeted warning filters, FIFOs, and the torch-vs-ONNX bound.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

from click.testing import CliRunner
from test_runtime import make_table as runtime_table

from ganaug.core.errors import ArtifactError
from ganaug.core.onnx_format import (
    DIGEST_KEY,
    FORMAT_VERSION,
    GRAPH_NAME,
    graph_digest,
    sidecar_path,
)
from ganaug.gan.codec import COMMON_VALUE_ROWS, ROWS_PER_KNOT, quantile_knots
from ganaug.gan.export import export_onnx
from ganaug.gan.presets import PRESETS
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.runtime import OnnxGenerator, chunks

TINY = PRESETS["default"].with_overrides(
    generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=32, epochs=2, noise_dim=8
)


def make_table() -> tuple[pd.DataFrame, np.ndarray]:
    """test_runtime's 3-class table, with a numeric column ("score", with missing values) last."""
    X, y = runtime_table()
    return X[["age", "income", "city", "score"]], y


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny GAN on a mixed 3-class table with missing values, exported (TorchScript: fast)."""
    X, y = make_table()
    model = ConditionalGAN(TINY, random_state=0).fit(X, y)
    path = export_onnx(model, tmp_path_factory.mktemp("rel") / "table.onnx", exporter="torchscript")
    return model, path, X, y


def rewrite(path: Path, out: Path, meta_change=None, proto_change=None) -> Path:
    """A copy of an exported file with its metadata JSON and/or its graph edited."""
    proto = onnx.load(str(path))
    meta = json.loads({p.key: p.value for p in proto.metadata_props}["ganaug"])
    if meta_change is not None:
        meta_change(meta)
    if proto_change is not None:
        proto_change(proto)
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, {"ganaug": json.dumps(meta)})
    onnx.save(proto, str(out))
    return out


# ------------------------------------------------------------------ 1. metadata vs graph
def _set(key, value):
    return lambda m: m.__setitem__(key, value)


def _regression_disguise(m):
    # as a regression model writes them: one None class, held in an object array
    m.update(task="regression", classes=[None], class_dtype="object", class_counts=[160], target="score")


EDITS = {
    "noise_dim": (lambda m: m.__setitem__("noise_dim", m["noise_dim"] + 1), "noise_dim"),
    "noise_dim_text": (_set("noise_dim", "11"), "noise_dim"),
    "more_classes": (
        lambda m: m.update(classes=[*m["classes"], 40], class_counts=[*m["class_counts"], 5]),
        "classes",
    ),
    "fewer_classes": (
        lambda m: m.update(classes=m["classes"][:2], class_counts=m["class_counts"][:2]),
        "more classes than the 2",
    ),
    "schema_3_of_4": (lambda m: m["schema"]["columns"].pop(1), "schema.columns"),
    "negative_count": (lambda m: m["class_counts"].__setitem__(0, -5), "class_counts"),
    "zero_counts": (lambda m: m.__setitem__("class_counts", [0, 0, 0]), "class_counts"),
    "counts_length": (lambda m: m["class_counts"].pop(), "class_counts"),
    "duplicate_class": (lambda m: m["classes"].__setitem__(1, m["classes"][0]), "classes"),
    "regression_task": (_set("task", "regression"), "task"),
    # classes, counts, task and target all edited consistently: only the graph can tell
    "regression_disguised": (_regression_disguise, "more classes than the 1"),
    "regression_target": (lambda m: m.update(task="regression", classes=[None],
                                             class_counts=[160], target="age"), "target"),
    "unknown_task": (_set("task", "clustering"), "task"),
    "sampling_draws": (lambda m: m["noise"].__setitem__("sampling_draws", 1), "sampling_draws"),
    "no_categories": (
        lambda m: next(c for c in m["schema"]["columns"] if c["kind"] == "categorical").__setitem__(
            "categories", []
        ),
        "categories",
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_metadata_checked_against_the_graph(exported, tmp_path, edit):
    change, field = EDITS[edit]
    path = rewrite(exported[1], tmp_path / f"{edit}.onnx", change)
    with pytest.raises(ArtifactError) as info:
        OnnxGenerator(path)
    message = str(info.value)
    assert str(path) in message and field in message


def test_cli_sample_prints_one_line_for_a_bad_file(exported, tmp_path, monkeypatch):
    from ganaug.cli import main

    monkeypatch.delenv("GANAUG_DEBUG", raising=False)
    monkeypatch.setenv("GANAUG_PLUGINS", "")  # no third-party plugin load warnings
    path = rewrite(exported[1], tmp_path / "bad.onnx", EDITS["noise_dim"][0])
    result = CliRunner().invoke(main, ["sample", str(path), "-n", "5"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and "noise_dim" in lines[0]
    assert "Traceback" not in result.output


# --------------------------------------------------- 2. conditions out of range, NaN noise
@pytest.mark.parametrize("bad", [-1, 3, 2**40])
def test_condition_out_of_range_refused_by_every_sampler(exported, bad):
    model, path, _, _ = exported
    gen = OnnxGenerator(path)
    for generate in (gen.generate, gen.generate_arrays, model.generate):
        with pytest.raises(ValueError, match=r"\[0, 3\)"):
            generate(np.array([0, bad]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        gen.run(np.zeros((2, gen.noise_dim), np.float32), np.array([0, bad]))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_noise_refused_by_run(exported, value):
    gen = OnnxGenerator(exported[1])
    noise = np.zeros((3, gen.noise_dim), np.float32)
    noise[1, 0] = value
    with pytest.raises(ValueError, match="finite"):
        gen.run(noise, np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="shape"):
        gen.run(noise[:, 1:], np.zeros(3, np.int64))


def test_graph_marks_invalid_rows_for_other_clients(exported):
    """Run the file as another client would (ONNX Runtime, no ganaug checks)."""
    import onnxruntime as ort

    gen = OnnxGenerator(exported[1])
    session = ort.InferenceSession(str(exported[1]), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((7, gen.noise_dim), dtype=np.float32)
    cond = np.array([0, -1, 3, 1, 2, 2, 1], dtype=np.int64)
    noise[3, 2], noise[4, 0], noise[6, 1] = np.nan, np.inf, 1e30
    numeric, codes = session.run(None, {"noise": noise, "condition": cond})
    invalid = np.array([False, True, True, True, True, False, False])
    assert np.isnan(numeric[invalid]).all() and (codes[invalid] == -1).all()
    # the other rows are those of a clean batch; a huge finite value is clipped, not an error
    clean = ~invalid
    ref_numeric, ref_codes = gen.run(np.clip(noise[clean], -1e6, 1e6), cond[clean])
    np.testing.assert_array_equal(numeric[clean], ref_numeric)
    np.testing.assert_array_equal(codes[clean], ref_codes)
    assert (codes[clean] >= 0).all()


# ------------------------------------------------------------------- 3. graph digest
def test_changed_weight_refused_naming_the_file(exported, tmp_path):
    def nudge(proto):
        init = max(proto.graph.initializer, key=lambda t: np.prod(t.dims))
        array = onnx.numpy_helper.to_array(init).copy()
        array.flat[0] += 0.5
        init.CopyFrom(onnx.numpy_helper.from_array(array, init.name))

    path = rewrite(exported[1], tmp_path / "nudged.onnx", proto_change=nudge)
    with pytest.raises(ArtifactError, match=DIGEST_KEY) as info:
        OnnxGenerator(path)
    assert str(path) in str(info.value)


def test_digest_definition(exported):
    blob = exported[1].read_bytes()
    meta = json.loads(sidecar_path(exported[1]).read_text())
    proto = onnx.load_from_string(blob)
    del proto.metadata_props[:]
    # the documented definition: SHA-256 of the model re-serialized without metadata_props
    assert graph_digest(blob) == hashlib.sha256(proto.SerializeToString()).hexdigest()
    assert meta[DIGEST_KEY] == graph_digest(blob)
    with pytest.raises(ValueError):
        graph_digest(blob[:-7])
    with pytest.raises(ValueError):
        graph_digest(b"\x0f\xff")


def test_files_without_digest_still_load(exported, tmp_path):
    path = rewrite(exported[1], tmp_path / "old.onnx", lambda m: m.pop(DIGEST_KEY))
    old, new = OnnxGenerator(path), OnnxGenerator(exported[1])
    pd.testing.assert_frame_equal(old.sample(50, random_state=1)[0], new.sample(50, random_state=1)[0])


# ------------------------------------------------ 4. model_version, graph name, sidecar
def test_model_version_graph_name_and_sidecar(exported, tmp_path):
    import onnxruntime as ort

    path = exported[1]
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    assert meta.graph_name == GRAPH_NAME and meta.version == FORMAT_VERSION
    sidecar = sidecar_path(path)
    assert sidecar.name == "table.onnx.json"
    assert sidecar.read_text(encoding="utf-8") == meta.custom_metadata_map["ganaug"]
    # a copy of an exported file (export_onnx of an OnnxGenerator) gets its sidecar too
    copy = export_onnx(OnnxGenerator(path), tmp_path / "copy.onnx")
    assert copy.read_bytes() == path.read_bytes()
    assert sidecar_path(copy).read_text(encoding="utf-8") == sidecar.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.onnx", "copy.onnx.json"]


# --------------------------------------------------- 6. training values in exported files
def rare_values(column: np.ndarray) -> np.ndarray:
    """Values held by fewer than COMMON_VALUE_ROWS rows: what 'verbatim' counts."""
    values, counts = np.unique(column, return_counts=True)
    return values[counts < min(COMMON_VALUE_ROWS, len(column))]


def stored_numbers(obj) -> set[float]:
    """Every number of a JSON document."""
    if isinstance(obj, dict):
        return set().union(*map(stored_numbers, obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*map(stored_numbers, obj)) if obj else set()
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return {float(obj)}
    return set()


class Stored:
    """Everything an export and an artifact of one model store: file bytes, JSON numbers, float
    tensors (graph initializers and constants, safetensors weights)."""

    def __init__(self, model, folder: Path) -> None:
        from safetensors.numpy import load_file

        from ganaug.gan import artifact

        path = export_onnx(model, folder / "m.onnx", exporter="torchscript")
        artifact.save(model, folder / "artifact")
        proto = onnx.load(str(path))
        tensors = [onnx.numpy_helper.to_array(t) for t in proto.graph.initializer]
        tensors += [
            onnx.numpy_helper.to_array(a.t)
            for node in proto.graph.node
            for a in node.attribute
            if a.type == onnx.AttributeProto.TENSOR
        ]
        weights = next((folder / "artifact").glob("*.safetensors"))
        tensors += list(load_file(str(weights)).values())
        floats = [t.astype(np.float32).ravel() for t in tensors if t.dtype.kind == "f"]
        self.float32 = np.concatenate(floats) if floats else np.empty(0, np.float32)
        description = folder / "artifact" / "ganaug.json"
        numbers = stored_numbers(json.loads(sidecar_path(path).read_text()))
        numbers |= stored_numbers(json.loads(description.read_text()))
        self.numbers = np.array(sorted(numbers), dtype=np.float64)
        self.blobs = [path.read_bytes(), weights.read_bytes()]

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Which ``values`` are stored: float64 or float32 bytes at any offset of a file, a JSON
        number, or a value of a float tensor (in float32)."""
        values = np.asarray(values, dtype=np.float64)
        found = np.isin(values, self.numbers) | np.isin(values.astype(np.float32), self.float32)
        for dtype, size, bits in (("<u8", 8, values), ("<u4", 4, values.astype(np.float32))):
            words = [
                np.frombuffer(blob, dtype=dtype, offset=offset, count=(len(blob) - offset) // size)
                for blob in self.blobs
                for offset in range(size)
            ]
            found |= np.isin(bits.view(dtype), np.concatenate([np.empty(0, dtype), *words]))
        return found


def verbatim_fraction(column: np.ndarray, stored: Stored, control: Stored | None = None) -> float:
    """Fraction of a column's rows whose value is rare and stored in the model's files.

    A value also stored by ``control`` (the same model fitted on the table with every numeric
    value moved) is structural, not data: 0 and 1, shapes, hyperparameters, graph constants.
    """
    rare = rare_values(column)
    leaked = stored.holds(rare)
    if control is not None:
        leaked &= ~control.holds(rare)
    return float(np.isin(column, rare[leaked]).mean())


def moved(X: pd.DataFrame) -> pd.DataFrame:
    """The table with every numeric value moved off the original ones, integers kept integers."""
    X = X.copy()
    for name in X.columns:
        X[name] = X[name] + (1_000_003 if X[name].dtype.kind in "iu" else np.pi)
    return X


def leakage_table(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    spike = np.where(rng.random(n) < 0.4, 0.0, rng.gamma(2.0, 3.0, n))
    return (
        pd.DataFrame(
            {
                "normal": rng.normal(50, 10, n),
                "heavy": np.exp(rng.normal(8, 2, n)),
                "rounded": np.round(rng.normal(0, 1, n), 1),  # ties of 2-4 rows
                "small_int": rng.integers(0, 4, n),
                "count_outliers": np.concatenate([rng.poisson(3, n - 3), [40, 57, 93]]),
                "float32": rng.normal(size=n).astype(np.float32),
                "spike": spike,
                "missing": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            }
        ),
        rng.choice(np.array(["a", "b"]), n, p=[0.7, 0.3]),
    )


def test_verbatim_measure_detects_stored_values(tmp_path):
    column = np.random.default_rng(0).normal(size=200) + 1234.5
    stored = Stored.__new__(Stored)
    nothing = np.empty(0)
    stored.blobs, stored.numbers, stored.float32 = [b"x" + column.tobytes()], nothing, nothing
    assert verbatim_fraction(column, stored) == 1.0  # float64 bytes, at an odd offset
    stored.blobs = [b"xy" + column.astype(np.float32).tobytes()]
    assert verbatim_fraction(column, stored) == 1.0  # float32 bytes
    stored.blobs, stored.numbers = [], column[:10]
    assert verbatim_fraction(column, stored) == 0.05  # JSON numbers
    stored.numbers, stored.float32 = nothing, column.astype(np.float32)
    assert verbatim_fraction(column, stored) == 1.0  # tensor values
    assert verbatim_fraction(column, stored, control=stored) == 0.0


@pytest.mark.parametrize("n", [40, 300, 4000])
def test_exported_files_hold_no_rare_training_value(n, tmp_path):
    X, y = leakage_table(n)
    short = TINY.with_overrides(epochs=1, batch_size=128)  # the knots do not depend on training
    model = ConditionalGAN(short, random_state=0).fit(X, y)
    control = ConditionalGAN(short, random_state=0).fit(moved(X), y)
    (tmp_path / "model").mkdir()
    (tmp_path / "control").mkdir()
    stored, structural = Stored(model, tmp_path / "model"), Stored(control, tmp_path / "control")
    for j, name in enumerate(X.columns):
        column = X[name].dropna().to_numpy(dtype=np.float64)
        fraction = verbatim_fraction(column, stored, structural)
        assert fraction <= 0.01, (name, fraction)
        knots = model.codec_.schema_.columns[j].quantiles
        assert len(knots) <= max(2, len(column) // ROWS_PER_KNOT)


def test_quantile_knots_keep_common_values_and_move_rare_ties():
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 17, 100, 999):
        x = np.round(rng.normal(size=n), 1)
        knots = quantile_knots(x, 1000)
        assert len(knots) == max(2, min(1000, n // ROWS_PER_KNOT))
        assert (np.diff(knots) >= 0).all()
        assert not np.isin(knots, rare_values(x)).any()
        assert x.min() <= knots[0] and knots[-1] <= x.max()
    # a spike of zeros (common) keeps its plateau, so it is decoded exactly
    spike = np.concatenate([np.zeros(600), rng.gamma(2.0, 3.0, 400)])
    knots = quantile_knots(spike, 1000)
    assert 0.5 < np.mean(knots == 0.0) < 0.7
    # a constant column is common to all its rows, however few
    assert quantile_knots(np.array([7.0, 7.0]), 1000).tolist() == [7.0, 7.0]


# ------------------------------------------------------------- 7. persistent thread pool
def _record_threads(gen):
    seen, lock = set(), threading.Lock()
    run = gen._run

    def recording(noise, condition):
        with lock:
            seen.add(threading.current_thread().name)
        return run(noise, condition)

    gen._run = recording
    return seen


def test_pool_is_persistent_and_shared(exported):
    a = OnnxGenerator(exported[1], n_threads=2, batch_size=1024)
    b = OnnxGenerator(exported[1], n_threads=2, batch_size=1024)
    seen_a, seen_b = _record_threads(a), _record_threads(b)
    first = a.sample(6000, random_state=0)[0]
    for _ in range(3):
        a.sample(6000, random_state=1)
        b.sample(6000, random_state=2)
    names = seen_a | seen_b
    assert names and all(n.startswith(chunks.THREAD_NAME_PREFIX) for n in names)
    assert len(names) <= chunks.max_workers()
    live = [t for t in threading.enumerate() if t.name.startswith(chunks.THREAD_NAME_PREFIX)]
    assert len(live) <= chunks.max_workers()
    one = OnnxGenerator(exported[1], n_threads=1)
    pd.testing.assert_frame_equal(one.sample(6000, random_state=0)[0], first)


def test_abandoned_iterator_cancels_its_chunks(exported):
    executor = ThreadPoolExecutor(2, thread_name_prefix="test-pool")
    gen = OnnxGenerator(exported[1], n_threads=2, batch_size=64, executor=executor)
    calls = []
    run = gen._run
    gen._run = lambda noise, condition: calls.append(1) or run(noise, condition)
    try:
        stream = gen.iter_samples(64 * 2000, random_state=0)
        next(stream)
        del stream  # dropped without close()
        gc.collect()
        executor.submit(lambda: None).result(timeout=30)  # the queue is FIFO: all before it ran
        done = len(calls)
        time.sleep(0.2)
        assert len(calls) == done <= 2 * gen.n_threads + 2  # not the 2,000 chunks of the request
        assert executor.submit(lambda: 42).result(timeout=5) == 42  # the threads are free
    finally:
        executor.shutdown(wait=True)


def test_set_max_workers_caps_the_shared_pool(exported):
    gen = OnnxGenerator(exported[1], n_threads=4, batch_size=1024)
    seen = _record_threads(gen)
    reference = OnnxGenerator(exported[1], n_threads=1).sample(9000, random_state=3)[0]
    try:
        chunks.set_max_workers(1)
        assert chunks.max_workers() == 1
        pd.testing.assert_frame_equal(gen.sample(9000, random_state=3)[0], reference)
        assert len(seen) == 1
        with pytest.raises(ValueError, match="max_workers"):
            chunks.set_max_workers(0)
    finally:
        chunks.set_max_workers(None)
    assert chunks.max_workers() >= 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_a_fresh_pool(exported):
    gen = OnnxGenerator(exported[1], n_threads=2, batch_size=1024)
    expected = gen.sample(5000, random_state=4)[0]  # the parent's pool now exists
    pid = os.fork()
    if pid == 0:  # child: the inherited pool has no threads; a hang here would fail the test
        ok = gen.sample(5000, random_state=4)[0].equals(expected)
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("sampling in a forked child hung")


# ---------------------------------------------------------- 8. targeted warning filters
def test_export_filters_only_its_known_warnings(exported, tmp_path, monkeypatch):
    from ganaug.gan import export

    assert not hasattr(export, "_quiet")
    real = torch.onnx.export
    stdout = sys.stdout

    def exporting(*args, **kwargs):
        assert sys.stdout is stdout  # stdout is not redirected (process-wide, not thread-safe)
        warnings.warn("an unrelated warning", RuntimeWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", exporting)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_onnx(exported[0], tmp_path / "w.onnx", exporter="torchscript")
    assert [str(w.message) for w in caught] == ["an unrelated warning"]


# ---------------------------------------------------------------------------- 9. FIFO
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_named_onnx_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "x.onnx"
    os.mkfifo(fifo)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_load_error(fifo)), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "OnnxGenerator blocked on a FIFO"
    assert isinstance(outcome[0], ArtifactError) and "not a regular file" in str(outcome[0])
    assert str(fifo) in str(outcome[0])


def _load_error(path):
    try:
        OnnxGenerator(path)
    except Exception as exc:  # noqa: BLE001 - returned to the test thread
        return exc
    return None


# -------------------------------------------------------------- 10. torch vs ONNX bound
#: documented in docs/onnx-format.md ("Parity with torch"); measured up to 1.9 on breast_cancer
PARITY_STEPS = 8


@pytest.mark.parametrize("preset", ["default", "classic"])
def test_torch_and_onnx_rows_within_the_documented_bound(preset, exported, tmp_path):
    if preset == "default":
        model, path = exported[0], exported[1]
    else:
        X, y = make_table()
        config = PRESETS["classic"].with_overrides(
            generator_hidden=(32,), discriminator_hidden=(32,), batch_size=32, epochs=2
        )
        model = ConditionalGAN(config, random_state=0).fit(X, y)
        path = export_onnx(model, tmp_path / "classic.onnx", exporter="torchscript")
    gen = OnnxGenerator(path)
    cond = np.arange(20000, dtype=np.int64) % len(model.classes_)
    from ganaug.core.noise import noise_rows

    noise = noise_rows(0, 0, len(cond), gen.noise_dim)
    with torch.no_grad():
        t_num, t_codes = (a.numpy() for a in model.sampling_module()(torch.from_numpy(noise), torch.from_numpy(cond)))
    o_num, o_codes = gen.run(noise, cond)
    columns = model.codec_.schema_.numeric_columns
    both = ~np.isnan(t_num) & ~np.isnan(o_num)
    assert np.mean(np.isnan(t_num) != np.isnan(o_num)) < 1e-3  # a draw on a boundary, rarely
    assert np.mean(t_codes != o_codes) < 1e-3
    for j, column in enumerate(columns):
        q = np.asarray(column.quantiles)
        if preset == "classic":  # min-max: one affine map, no table
            bound = PARITY_STEPS * 2.0**-24 * (column.maximum - column.minimum)
        else:
            bound = PARITY_STEPS * 2.0**-24 * (len(q) - 1) * np.diff(q).max()
        diff = np.abs(t_num[both[:, j], j].astype(np.float64) - o_num[both[:, j], j])
        if column.integer:  # rounding a value within the bound of a .5 may go either way
            assert np.mean(diff > 0) < 1e-3 and diff.max(initial=0) <= 1
        else:
            assert diff.max(initial=0) <= bound + 4 * np.spacing(np.float32(np.abs(q).max())), column.name


def test_docs_describe_the_contract():
    text = (Path(__file__).resolve().parents[1] / "docs" / "onnx-format.md").read_text()
    for needle in (DIGEST_KEY, GRAPH_NAME, ".onnx.json", "sampling_draws", "onnxruntime-node",
                   "ordered", "-1", str(COMMON_VALUE_ROWS)):
        assert needle in text, needle
    assert "Parity with torch" in text and f"{PARITY_STEPS} x" in text
