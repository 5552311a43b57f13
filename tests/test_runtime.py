"""ganaug.runtime.OnnxGenerator: sampling semantics, streaming, errors, torch-free use, reuse."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnx")

from ganaug.core.errors import ArtifactError, SchemaMismatchError
from ganaug.core.noise import split_counts
from ganaug.gan.export import export_onnx
from ganaug.gan.presets import PRESETS
from ganaug.runtime import OnnxGenerator, default_num_threads
from ganaug.runtime.chunks import max_workers

TINY = PRESETS["default"].with_overrides(
    generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=32, epochs=2, noise_dim=8
)
ROOT = Path(__file__).resolve().parents[1]


def make_table(n: int = 160, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": np.exp(rng.normal(10, 1, n)),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "member": rng.random(n) > 0.3,
            "score": np.where(rng.random(n) < 0.15, np.nan, rng.normal(size=n)),
            "tier": pd.Categorical(rng.choice(["gold", "silver"], n)),
        }
    )
    y = rng.choice(np.array([10, 20, 30]), n, p=[0.6, 0.3, 0.1])
    return X, y


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny GAN on a mixed 3-class table, and its export.

    The TorchScript exporter is used here only because it exports in a fraction of a second; the
    file format is the same, and tests/test_export.py checks the default (dynamo) export.
    """
    from ganaug.gan.synthesizer import ConditionalGAN

    X, y = make_table()
    model = ConditionalGAN(TINY, random_state=0).fit(X, y)
    path = export_onnx(model, tmp_path_factory.mktemp("rt") / "table.onnx", exporter="torchscript")
    return model, path, X, y


@pytest.fixture(scope="module")
def gen(trained):
    return OnnxGenerator(trained[1])


def test_sample_counts_dtypes_and_labels(gen, trained):
    model, _, X, y = trained
    X_syn, y_syn = gen.sample(101, random_state=0)
    assert list(X_syn.columns) == list(X.columns)
    assert X_syn.dtypes.to_dict() == X.dtypes.to_dict()
    assert y_syn.dtype == y.dtype
    expected = split_counts(101, np.bincount(np.unique(y, return_inverse=True)[1]))
    assert [int((y_syn == c).sum()) for c in (10, 20, 30)] == expected.tolist()
    # one label, and one label per row
    X1, y1 = gen.sample(9, y=30, random_state=1)
    assert len(X1) == 9 and set(y1) == {30}
    labels = np.array([20, 10, 20, 30])
    _, y4 = gen.sample(4, y=labels, random_state=1)
    np.testing.assert_array_equal(y4, labels)
    # reproducible, and the rows of the torch sampler for the same seed
    X_again, _ = gen.sample(101, random_state=0)
    pd.testing.assert_frame_equal(X_syn, X_again)
    X_torch, y_torch = model.sample(101, random_state=0)
    pd.testing.assert_frame_equal(X_syn, X_torch, rtol=1e-4)
    np.testing.assert_array_equal(y_syn, y_torch)
    assert not X_syn.equals(gen.sample(101, random_state=1)[0])
    assert gen.schema.names == list(X.columns)
    assert gen.task == "classification" and gen.noise_dim == model.sampling_noise_dim
    assert gen.metadata["format"] == "ganaug-onnx"


def test_iter_samples_and_write(gen, tmp_path):
    X_all, y_all = gen.sample(2500, random_state=4)
    batches = list(gen.iter_samples(2500, random_state=4, batch_size=1000))
    assert [len(b[0]) for b in batches] == [1000, 1000, 500]
    pd.testing.assert_frame_equal(pd.concat([b[0] for b in batches], ignore_index=True), X_all)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y_all)
    one = list(gen.iter_samples(30, y=20, random_state=2, batch_size=7))
    pd.testing.assert_frame_equal(pd.concat([b[0] for b in one], ignore_index=True), gen.sample(30, 20, 2)[0])

    csv = gen.write(tmp_path / "out.csv", 2500, random_state=4, batch_size=1000)
    back = pd.read_csv(csv)
    assert back.shape == (2500, X_all.shape[1] + 1)
    assert list(back.columns) == list(X_all.columns) + ["label"]
    np.testing.assert_array_equal(back["label"].to_numpy(), y_all)
    np.testing.assert_allclose(back["income"], X_all["income"], rtol=1e-6)
    pytest.importorskip("pyarrow")
    pq = gen.write(tmp_path / "out.parquet", 2500, random_state=4, batch_size=1000, label_column="y")
    back = pd.read_parquet(pq)
    assert back.shape == (2500, X_all.shape[1] + 1) and "y" in back.columns
    assert isinstance(back["tier"].dtype, pd.CategoricalDtype)
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ValueError, match="already a column"):
        gen.write(tmp_path / "bad.csv", 5, label_column="age")


def test_write_csv_without_pyarrow(gen, tmp_path, monkeypatch):
    fast = pd.read_csv(gen.write(tmp_path / "fast.csv", 300, random_state=2, batch_size=128))
    # pyarrow is hidden only while writing: pandas >= 3 itself may use it to read the CSV back
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "pyarrow", None)
        written = gen.write(tmp_path / "plain.csv", 300, random_state=2, batch_size=128)
        with pytest.raises(ImportError, match="pyarrow"):
            gen.write(tmp_path / "x.parquet", 5)
    pd.testing.assert_frame_equal(pd.read_csv(written), fast)


@pytest.mark.parametrize("n", [0, -3, 1.5, True, "10", None])
def test_bad_n(gen, n):
    with pytest.raises(ValueError, match="positive integer"):
        gen.sample(n)


def test_bad_arguments(gen):
    with pytest.raises(ValueError, match=r"unknown class 40.*\[10, 20, 30\]"):
        gen.sample(3, y=40)
    with pytest.raises(ValueError, match="one label or n=3"):
        gen.sample(3, y=[10, 20])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        gen.generate([0, 3])
    with pytest.raises(ValueError, match="batch_size"):
        list(gen.iter_samples(3, batch_size=0))
    assert len(gen.generate(np.empty(0, np.int64))) == 0


def test_artifact_errors(tmp_path, trained):
    import onnx

    with pytest.raises(ArtifactError, match="no such"):
        OnnxGenerator(tmp_path / "missing.onnx")
    with pytest.raises(ArtifactError, match="directory"):
        OnnxGenerator(tmp_path)
    (tmp_path / "garbage.onnx").write_bytes(b"not an onnx model at all")
    with pytest.raises(ArtifactError, match="not a valid ONNX"):
        OnnxGenerator(tmp_path / "garbage.onnx")
    truncated = trained[1].read_bytes()
    (tmp_path / "truncated.onnx").write_bytes(truncated[: len(truncated) // 2])
    with pytest.raises(ArtifactError):
        OnnxGenerator(tmp_path / "truncated.onnx")
    proto = onnx.load(str(trained[1]))
    meta = json.loads(proto.metadata_props[0].value)
    for change, message in (({"format_version": 99}, "format version 99"), ({"format": "x"}, "not a")):
        del proto.metadata_props[:]
        onnx.helper.set_model_props(proto, {"ganaug": json.dumps({**meta, **change})})
        onnx.save(proto, str(tmp_path / "changed.onnx"))
        with pytest.raises(ArtifactError, match=message):
            OnnxGenerator(tmp_path / "changed.onnx")
    # version 1 (categories by argmax in the graph) is still read: the graph does the decoding
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, {"ganaug": json.dumps({**meta, "format_version": 1})})
    onnx.save(proto, str(tmp_path / "v1.onnx"))
    assert len(OnnxGenerator(tmp_path / "v1.onnx").sample(5, random_state=0)[0]) == 5
    del proto.metadata_props[:]
    onnx.save(proto, str(tmp_path / "plain.onnx"))
    with pytest.raises(ArtifactError, match="not exported by ganaug"):
        OnnxGenerator(tmp_path / "plain.onnx")


def test_threads_and_pickle(gen, trained):
    assert 1 <= default_num_threads() <= 8
    assert gen.n_threads == default_num_threads()
    one = OnnxGenerator(trained[1], n_threads=1, batch_size=10)
    assert one.n_threads == 1
    pd.testing.assert_frame_equal(one.sample(35, random_state=3)[0], gen.sample(35, random_state=3)[0])
    # many chunks on several threads (and chunks cutting noise blocks): the same rows, in order
    three = OnnxGenerator(trained[1], n_threads=3, batch_size=700)
    X1, y1 = one.sample(5000, random_state=8)
    X3, y3 = three.sample(5000, random_state=8)
    pd.testing.assert_frame_equal(X1, X3)
    np.testing.assert_array_equal(y1, y3)
    parts = list(three.iter_samples(5000, random_state=8))
    assert max(len(p[0]) for p in parts) == 700 and sum(len(p[0]) for p in parts) == 5000
    pd.testing.assert_frame_equal(pd.concat([p[0] for p in parts], ignore_index=True), X1)
    # a consumer that stops early starts no threads beyond the persistent shared pool (see
    # tests/test_reliability_onnx.py for the cancelled chunks)
    stream = three.iter_samples(50_000, random_state=8)
    next(stream)
    stream.close()
    pool_threads = [t for t in threading.enumerate() if t.name.startswith("ganaug-sample")]
    assert len(pool_threads) <= max_workers()
    clone = pickle.loads(pickle.dumps(three))
    assert clone.n_threads == 3 and clone.batch_size == 700
    pd.testing.assert_frame_equal(clone.sample(20, random_state=5)[0], gen.sample(20, random_state=5)[0])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_threads"):
            OnnxGenerator(trained[1], n_threads=bad)


BLOCKED = ("torch", "sklearn", "scipy", "imblearn", "onnx", "onnxscript")

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    BLOCKED = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is not allowed in this test")
            return None

    sys.meta_path.insert(0, Block())
    for name in BLOCKED:
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{{name}} could be imported")

    from ganaug.runtime import OnnxGenerator

    gen = OnnxGenerator(sys.argv[1])
    X, y = gen.sample(101, random_state=0)
    gen.write(sys.argv[2], 300, random_state=1, batch_size=64)
    print(json.dumps({{
        "dtypes": {{str(k): str(v) for k, v in X.dtypes.items()}},
        "labels": [int(v) for v in y],
        "rows": X.to_json(orient="split", double_precision=15),
        "loaded": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
    }}))
    """
)


def test_runs_without_torch_or_sklearn(gen, trained, tmp_path):
    script = tmp_path / "no_torch.py"
    script.write_text(SCRIPT.format(blocked=BLOCKED))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(script), str(trained[1]), str(tmp_path / "rows.csv")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["loaded"] == []
    X, y = gen.sample(101, random_state=0)
    assert out["dtypes"] == {str(k): str(v) for k, v in X.dtypes.items()}
    assert out["labels"] == [int(v) for v in y]
    assert out["rows"] == X.to_json(orient="split", double_precision=15)
    assert len(pd.read_csv(tmp_path / "rows.csv")) == 300


def test_reuse_in_augmenter_without_training(trained):
    from ganaug import GANAugmenter

    _, path, X, y = trained
    aug = GANAugmenter(generator=str(path), random_state=0)
    X_res, y_res = aug.fit_resample(X, y)
    assert isinstance(aug.model_, OnnxGenerator)
    assert not hasattr(aug.model_, "generator_")  # nothing was trained
    counts = pd.Series(y_res).value_counts()
    assert counts.nunique() == 1 and counts.iloc[0] == pd.Series(y).value_counts().max()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)
    assert X_res.dtypes.to_dict() == X.dtypes.to_dict()
    # one pretrained generator, many runs: the seed decides the synthetic rows
    again, _ = GANAugmenter(generator=path, random_state=0).fit_resample(X, y)
    other, _ = GANAugmenter(generator=path, random_state=1).fit_resample(X, y)
    pd.testing.assert_frame_equal(again, X_res)
    assert not other.equals(X_res)
    X_s, y_s = aug.sample(12, y=30)
    assert len(X_s) == 12 and set(y_s) == {30}


def test_one_int_seed_one_stream(trained):
    """An int seed gives the same rows from every sampler of one model (README's promise)."""
    from ganaug import GANAugmenter

    model, path, X, y = trained
    aug = GANAugmenter(generator=path).fit(X, y)
    for n, label in ((101, None), (7, 30)):
        X_onnx, y_onnx = OnnxGenerator(path).sample(n, y=label, random_state=5)
        X_torch, y_torch = model.sample(n, y=label, random_state=5)
        X_aug, y_aug = aug.sample(n, y=label, random_state=5)
        pd.testing.assert_frame_equal(X_onnx, X_torch, rtol=1e-4)
        pd.testing.assert_frame_equal(X_onnx, X_aug)
        np.testing.assert_array_equal(y_onnx, y_torch)
        np.testing.assert_array_equal(y_onnx, y_aug)
    # the augmenter's own int random_state is that seed when sample() gets none
    X_default, _ = GANAugmenter(generator=path, random_state=5).fit(X, y).sample(20)
    pd.testing.assert_frame_equal(X_default, OnnxGenerator(path).sample(20, random_state=5)[0])
    # a RandomState gives one seed drawn from it, in every sampler alike
    X_rs, _ = aug.sample(20, random_state=np.random.RandomState(3))
    seed = int(np.random.RandomState(3).randint(0, 2**31 - 1))
    pd.testing.assert_frame_equal(X_rs, OnnxGenerator(path).sample(20, random_state=seed)[0])


def test_reuse_refuses_mismatched_data(trained):
    from ganaug import GANAugmenter

    _, path, X, y = trained
    with pytest.raises(SchemaMismatchError, match="columns"):
        GANAugmenter(generator=path).fit_resample(X.drop(columns=["city"]), y)
    with pytest.raises(SchemaMismatchError):
        GANAugmenter(generator=path).fit_resample(X.rename(columns={"age": "AGE"}), y)
    with pytest.raises(ValueError, match="unknown class 99"):
        GANAugmenter(generator=path).fit_resample(X, np.where(y == 30, 99, y))


def test_reuse_regression_generator(tmp_path):
    from ganaug import GANAugmenter

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"u": rng.normal(size=80), "k": rng.integers(0, 5, 80)})
    y = X["u"].to_numpy() + 0.1 * rng.normal(size=80)
    source = GANAugmenter(preset=TINY, task="regression", random_state=0).fit(X, y)
    path = export_onnx(source, tmp_path / "reg.onnx", exporter="torchscript")
    aug = GANAugmenter(generator=path, random_state=0)
    X_res, y_res = aug.fit_resample(X, y)
    assert len(X_res) == 160 and list(X_res.columns) == ["u", "k"] and len(y_res) == 160
    X_s, y_s = aug.sample(10)
    assert list(X_s.columns) == ["u", "k"] and y_s.dtype.kind == "f"
    # written regression rows are the joint table, the target last
    written = pd.read_csv(OnnxGenerator(path).write(tmp_path / "reg.csv", 10, random_state=0))
    assert list(written.columns) == ["u", "k", "__target__"] and len(written) == 10
    # an integer count target: "auto" reads it as classes, but the generator knows better
    counts = np.clip(np.round(y * 2 + 2), 0, 4).astype(np.int64)
    count_gen = GANAugmenter(preset=TINY, task="regression", random_state=0).fit(X, counts)
    count_path = count_gen.export_onnx(tmp_path / "counts.onnx")
    reused = GANAugmenter(generator=count_path, random_state=0)
    _, y_counts = reused.fit_resample(X, counts)
    assert reused.task_ == "regression" and y_counts.dtype == np.int64 and len(y_counts) == 160
    with pytest.raises(ValueError, match="trained for regression: pass task='regression'"):
        GANAugmenter(generator=count_path, task="classification").fit(X, counts)
