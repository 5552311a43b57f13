"""Reliability probes of issue 13 (inputs, schema, server, RNG), each kept as a regression test.

Every probe that once gave a traceback, an HTTP 500, a hang or a silently wrong result is here,
with the typed error (naming the column, field or file) or the correct behaviour it now gets.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from conftest import TINY, city_table, fit_in_threads
from ganaug import GANAugmenter
from ganaug.cli import main
from ganaug.core.dtypes import DTYPE_NAMES, canonical, dtype_name, pandas_dtype
from ganaug.core.errors import ArtifactError, DataError, ScaleShiftWarning, SchemaMismatchError
from ganaug.core.labels import classes_from_json, classes_to_json
from ganaug.core.schema import Column, Schema, assemble
from ganaug.gan.codec import TableCodec
from ganaug.gan.export import export_onnx
from ganaug.gan.rng import LocalDropout, gumbel_softmax, local_draws
from ganaug.gan.synthesizer import ConditionalGAN
from ganaug.learn._inputs import as_dtypes
from ganaug.runtime import OnnxGenerator

httpx = pytest.importorskip("httpx")
server = pytest.importorskip("ganaug.runtime.server")

ROOT = Path(__file__).resolve().parents[1]
NULLABLE = {"i": "Int64", "f": "Float64", "u": "UInt8", "b": "boolean", "s": "string"}


def _nullable_frame(n: int = 60) -> pd.DataFrame:
    """Nullable dtypes, each with missing values, as read from a Parquet file."""
    rng = np.random.default_rng(0)

    def gaps(values: np.ndarray) -> list:
        return [None if g else v for g, v in zip(rng.random(n) < 0.2, values.tolist())]

    columns = {
        "i": gaps(rng.integers(0, 50, n)),
        "f": gaps(rng.normal(size=n)),
        "u": gaps(rng.integers(0, 200, n)),
        "b": gaps(rng.random(n) < 0.5),
        "s": gaps(rng.choice(["a", "b"], n)),
    }
    return pd.DataFrame({k: pd.array(v, dtype=NULLABLE[k]) for k, v in columns.items()})


def _table(n: int = 90) -> tuple[pd.DataFrame, np.ndarray]:
    return city_table(n)


def _check_nullable(frame: pd.DataFrame) -> None:
    assert {c: str(t) for c, t in frame.dtypes.items()} == NULLABLE
    for column in NULLABLE:
        assert frame[column].isna().any(), column  # missing values come back as pd.NA


@pytest.fixture(scope="module")
def nullable_model():
    X = _nullable_frame()
    return ConditionalGAN(TINY, random_state=0).fit(X, np.arange(len(X)) % 2)


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    """A served model: classes 1 and 2, exported with the (fast) TorchScript exporter."""
    X, y = _table(120)
    path = tmp_path_factory.mktemp("served") / "people.onnx"
    model = ConditionalGAN(TINY, random_state=0).fit(X, np.where(y == "yes", 2, 1))
    export_onnx(model, path, exporter="torchscript")
    return path


# ------------------------------------------------------------------ 1. nullable dtypes
def test_nullable_dtypes_sample_with_torch(nullable_model):
    X, _ = nullable_model.sample(300, random_state=0)
    _check_nullable(X)
    assert X["u"].dropna().between(0, 255).all()


def test_nullable_dtypes_sample_with_onnx(nullable_model, tmp_path):
    path = export_onnx(nullable_model, tmp_path / "m.onnx", exporter="torchscript")
    X, _ = OnnxGenerator(path).sample(300, random_state=0)
    _check_nullable(X)
    X_torch, _ = nullable_model.sample(300, random_state=0)
    pd.testing.assert_frame_equal(X.isna(), X_torch.isna())


def test_nullable_parquet_through_the_cli(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    monkeypatch.setenv("GANAUG_HOME", str(tmp_path / "home"))
    frame = _nullable_frame().assign(label=np.where(np.arange(60) % 3 == 0, "yes", "no"))
    frame.to_parquet(tmp_path / "data.parquet")
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(
        main,
        ["augment", f"parquet:{tmp_path / 'data.parquet'}", "--target", "label", "--epochs", "1",
         "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    augmented = pd.read_parquet(out)
    assert len(augmented) == 80  # 40 "no", 20 "yes" -> 40 each
    _check_nullable(augmented.drop(columns="label"))
    synthetic = augmented.iloc[60:].drop(columns="label")
    assert {c: str(t) for c, t in synthetic.dtypes.items()} == NULLABLE


# ------------------------------------------------------------- 2. a stable dtype vocabulary
@pytest.mark.parametrize(
    ("series", "name"),
    [
        (pd.Series(["a", None]), "str"),  # pandas 3's default text dtype
        (pd.Series(["a", None], dtype="string"), "string"),
        (pd.Series(["a", 1], dtype=object), "object"),
        (pd.Series([1, None], dtype="Int64"), "Int64"),
        (pd.Series([1.5]), "float64"),
        (pd.Series([True]), "bool"),
        (pd.Series(["a"], dtype="category"), "category"),
        (pd.Series([0.0, 1.5], dtype=pd.SparseDtype(float, 0)), "Sparse[float64, 0]"),
    ],
    ids=["str", "string", "object", "Int64", "float64", "bool", "category", "sparse"],
)
def test_dtype_names_are_the_vocabulary(series, name):
    assert dtype_name(series) == name
    assert canonical(name) == name
    if name != "category":
        assert pandas_dtype(name) == series.dtype


def test_text_before_pandas_3_is_written_str_and_read_back_as_object():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the option is deprecated in pandas 3
        with pd.option_context("future.infer_string", False):
            text = pd.Series(["a", "b", None])
            assert text.dtype == object
            assert dtype_name(text) == "str"  # not "object": the name pandas 3 writes
            assert pandas_dtype("str") == np.dtype(object)
    assert pandas_dtype("str") == pd.Series(["a"]).dtype


def test_old_dtype_spellings_still_load():
    columns = [
        {"name": "a", "kind": "numeric", "dtype": "int64[pyarrow]", "quantiles": [0.0, 1.0]},
        {"name": "b", "kind": "categorical", "dtype": "string[pyarrow]", "categories": ["x"]},
        {"name": "c", "kind": "numeric", "dtype": "float", "quantiles": [0.0, 1.0]},
    ]
    schema = Schema.from_dict({"version": 1, "columns": columns, "container": "pandas",
                               "numpy_dtype": None})
    assert [c.dtype for c in schema.columns] == ["Int64", "string", "float64"]
    assert all(c["dtype"] in DTYPE_NAMES for c in schema.to_dict()["columns"])


def test_unknown_stored_dtype_is_an_artifact_error_naming_the_column():
    column = {"name": "when", "kind": "numeric", "dtype": "datetime64[ns]", "quantiles": [0, 1]}
    with pytest.raises(ArtifactError, match="'when'.*datetime64"):
        Schema.from_dict({"version": 1, "columns": [column], "container": "pandas",
                          "numpy_dtype": None})


# ------------------------------------------------------------------------------ 3. server
def _app(path: Path, **kwargs):
    return server.create_app(path, max_rows=500, n_threads=1, **kwargs)


def _post_all(app, bodies: list) -> list:
    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await asyncio.gather(
                *(client.post("/v1/models/people/sample", content=b) for b in bodies)
            )

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (b"[" * 30_000 + b"]" * 30_000, 400, "nested too deeply"),
        (b'{"n": ' + b"1" * 5000 + b"}", 400, "digits"),
        (b'{"n": 5, "class": true}', 400, '"class" must be a single label'),
        (b'{"n": 5, "class": [1]}', 400, '"class" must be a single label'),
        (b'{"n": 5, "class": 3}', 422, "unknown class 3"),
        (b'{"n": 5, "class": "2"}', 200, "[2, 2, 2, 2, 2]"),
    ],
    ids=["deep-nesting", "huge-int", "class-true", "class-list", "unknown-class", "class-text"],
)
def test_server_answers_bad_bodies_with_4xx(tiny_onnx, body, status, text):
    (response,) = _post_all(_app(tiny_onnx), [body])
    assert response.status_code == status
    answer = response.json()
    assert text in str(answer.get("error", answer.get("classes")))


def test_server_concurrency_limit(tiny_onnx):
    def peak(limit: int) -> int:
        app = _app(tiny_onnx, max_concurrent=limit)
        gen = app.state.models["people"]
        original, lock, state = gen.generate, threading.Lock(), {"now": 0, "peak": 0}

        def watched(*args, **kwargs):
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(0.1)
            try:
                return original(*args, **kwargs)
            finally:
                with lock:
                    state["now"] -= 1

        gen.generate = watched
        responses = _post_all(app, [b'{"n": 5}'] * 6)
        assert all(r.status_code == 200 for r in responses)
        return state["peak"]

    assert peak(1) == 1
    assert peak(3) > 1  # without the limit, calls overlap (so the check above can fail)
    with pytest.raises(ValueError, match="max_concurrent"):
        _app(tiny_onnx, max_concurrent=0)


def test_server_metadata_with_nan_is_not_a_500(tiny_onnx):
    app = _app(tiny_onnx)
    app.state.models["people"].metadata["config"]["lr_g"] = float("nan")

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/v1/models/people")

    response = asyncio.run(go())
    assert response.status_code == 200
    assert response.json()["metadata"]["config"]["lr_g"] is None


@pytest.fixture(scope="module")
def live_server(tiny_onnx):
    """``python -m ganaug.runtime.server`` on a free port: (port, process)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "ganaug.runtime.server", str(tiny_onnx), "--port", str(port),
           "--threads", "1", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            assert proc.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "no /health answer within 60 s"
            time.sleep(0.2)
    yield port, proc
    proc.terminate()
    proc.wait(timeout=10)


def _raw_request(port: int, head: bytes, body_chunks, timeout: float = 5.0) -> bytes:
    """Send a request by hand (a lying Content-Length, a chunked body) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused the body and closed: its answer is already there
        answer = b""
        try:
            while not answer.endswith(b"}"):
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
        return answer


def test_lying_content_length_gets_413_at_once(live_server):
    port, _ = live_server
    head = (b"POST /v1/models/people/sample HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n")
    start = time.monotonic()
    answer = _raw_request(port, head, [b'{"n": 1'])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - start < 3


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def test_chunked_body_is_streamed_with_a_cap(live_server):
    port, proc = live_server
    before = _peak_rss_mb(proc.pid)
    head = (b"POST /v1/models/people/sample HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20))
    answer = _raw_request(port, head, [block] * 50)  # 50 MB unless refused on the way
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert _peak_rss_mb(proc.pid) - before < 20  # it never held the body


# ------------------------------------------------------------------------- 4. labels, values
def test_missing_labels_are_named_by_count_and_position():
    X, y = _table(30)
    y = y.astype(object)
    y[[4, 9]] = None
    for fit in (GANAugmenter(preset=TINY).fit, GANAugmenter(preset=TINY).fit_resample,
                ConditionalGAN(TINY).fit):
        with pytest.raises(DataError, match=r"2 missing class label.*position\(s\) 4, 9"):
            fit(X, y)
    target = np.arange(30, dtype=object)
    target[7] = None
    with pytest.raises(DataError, match=r"1 missing target value.*position\(s\) 7"):
        GANAugmenter(preset=TINY, task="regression").fit(X, target)


def test_inf_category_is_refused_at_fit_naming_the_column(tmp_path):
    X, y = _table(30)
    X["city"] = X["city"].astype(object)
    X.loc[3, "city"] = float("inf")
    aug = GANAugmenter(preset=TINY, random_state=0)
    with pytest.raises(DataError, match="'city'.*inf"):
        aug.fit(X, y)
    assert not hasattr(aug, "model_")


def test_one_and_true_are_different_categories():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"flag": pd.Series(rng.choice([0, 1, 2], 200), dtype=object),
                      "x": rng.normal(size=200)})
    X.loc[X["flag"] == 2, "flag"] = True  # one object column holding 0, 1 and True
    codec = TableCodec().fit(X)
    categories = codec.schema_.columns[0].categories
    assert len(categories) == 3 and any(c is True for c in categories)
    assert sorted(codec.encode(X)[:, :3].sum(axis=0)) == sorted(X["flag"].map(repr).value_counts())
    model = ConditionalGAN(TINY, random_state=0).fit(X)
    sampled = model.sample(400, random_state=0)[0]["flag"]
    kinds = {type(v) for v in sampled}
    assert kinds == {int, bool}
    assert (sampled.map(lambda v: v is True)).sum() > 0
    assert (sampled.map(lambda v: type(v) is int and v == 1)).sum() > 0


# ------------------------------------------------------------------- 5. reusing a generator
@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    X, y = _table()
    aug = GANAugmenter(preset=TINY, random_state=0).fit(X, y)
    return aug.save(tmp_path_factory.mktemp("pre") / "model")


def _reuse(path: Path, X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    return GANAugmenter(generator=path, random_state=0).fit_resample(X, y)[0]


def test_reused_generator_on_the_same_scale_does_not_warn(pretrained):
    X, y = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScaleShiftWarning)
        _reuse(pretrained, X, y)


def test_reused_generator_warns_on_a_scale_shift_naming_the_column(pretrained):
    X, y = _table()
    X["income"] *= 1000
    with pytest.warns(ScaleShiftWarning, match=r"'income' \(spread x1(\.\d+)?e\+03\)") as record:
        _reuse(pretrained, X, y)
    assert "'age'" not in str(record[0].message)


def test_reused_generator_refuses_another_kind_of_column(pretrained):
    X, y = _table()
    X["age"] = X["age"].astype(int).astype(str)
    with pytest.raises(SchemaMismatchError, match="column 'age'.*number.*text"):
        _reuse(pretrained, X, y)


def test_cli_augment_with_a_generator_checks_kinds_and_scale(pretrained, tmp_path):
    X, y = _table()
    runner = CliRunner()

    def augment(frame: pd.DataFrame):
        frame.assign(label=y).to_csv(tmp_path / "d.csv", index=False)
        return runner.invoke(main, ["augment", f"csv:{tmp_path / 'd.csv'}", "--target", "label",
                                    "--generator", str(pretrained), "-o", str(tmp_path / "o.csv")])

    with pytest.warns(ScaleShiftWarning, match="'income'"):
        assert augment(X.assign(income=X["income"] * 1000)).exit_code == 0
    result = augment(X.assign(city=np.arange(len(X)) % 3))
    assert result.exit_code != 0 and "column 'city'" in result.output


# ----------------------------------------------------------------------- 6. no silent excepts
def test_uncastable_sampled_column_is_an_error_naming_it():
    schema = Schema([Column("n", "numeric", "Int64", quantiles=[0.0, 2.0])])
    with pytest.raises(ArtifactError, match="'n'.*Int64"):
        assemble(schema, np.array([[1.5]]), np.empty((1, 0), dtype=np.int64))


@pytest.mark.parametrize(
    ("meta", "match"),
    [
        ({"classes": [1, 2], "class_dtype": "no-such-dtype"}, "not a numpy dtype"),
        ({"classes": ["a", "b"], "class_dtype": "int64"}, "not all of class_dtype"),
        ({"classes": [1.5, 2.0], "class_dtype": "int64"}, "not all of class_dtype"),
    ],
    ids=["bad-dtype", "text-as-int", "fraction-as-int"],
)
def test_classes_from_json_refuses_instead_of_falling_back(meta, match):
    with pytest.raises(ArtifactError, match=match):
        classes_from_json(meta)


def test_classes_round_trip_in_their_dtype():
    for classes in (np.array([0, 3]), np.array(["a", "b"]), np.array([0.5, 1.5])):
        back = classes_from_json(classes_to_json(classes))
        assert back.dtype == classes.dtype and (back == classes).all()


def test_synthetic_rows_take_the_datas_dtypes_or_say_why_not():
    X_new = pd.DataFrame({"n": [1.6, 2.2], "gap": [1.0, np.nan], "c": ["a", "z"]})
    dtypes = pd.Series({"n": np.dtype("int64"), "gap": np.dtype("int64"), "c": np.dtype(object)})
    out = as_dtypes(X_new.iloc[:, :2], dtypes[["n", "gap"]])
    assert out["n"].tolist() == [2, 2] and out["n"].dtype == np.int64  # rounded, not truncated
    assert out["gap"].dtype == np.float64  # ints cannot hold the generator's missing values
    with pytest.raises(SchemaMismatchError, match="'c'.*categories"):
        as_dtypes(X_new[["c"]], pd.Series({"c": pd.CategoricalDtype(["a", "b"])}))


# ----------------------------------------------------------------------------------- 7. RNG
#: the last step is kept (with hold-out selection the closed-form copula may win, and its rows
#: do not depend on the training draws at all)
LAST_STEP = TINY.with_overrides(holdout_selection=False)


def _rows(seed: int, X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    model = ConditionalGAN(LAST_STEP, device="cpu", random_state=seed).fit(X, y)
    return model.sample(40, random_state=0)[0]


def test_fit_leaves_global_rng_state_alone():
    X, y = _table(60)
    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    numpy_state = np.random.get_state()[1].copy()
    ConditionalGAN(TINY, device="cpu", random_state=3).fit(X, y)
    GANAugmenter(preset=TINY, device="cpu").fit(X, y)  # random_state=None: fresh entropy
    assert torch.equal(torch.get_rng_state(), cpu)
    if torch.cuda.is_available():
        assert all(torch.equal(a, b) for a, b in zip(torch.cuda.get_rng_state_all(), cuda))
    assert (np.random.get_state()[1] == numpy_state).all()


def test_fits_in_threads_give_the_sequential_rows():
    X, y = _table(60)
    expected = {s: _rows(s, X, y) for s in (0, 1)}

    def meddle():  # another thread seeding and drawing from the global RNG meanwhile
        torch.manual_seed(123)
        torch.rand(1000)

    got = fit_in_threads(lambda seed: _rows(seed, X, y), meddle)
    pd.testing.assert_frame_equal(got["a"], expected[0])
    pd.testing.assert_frame_equal(got["b"], expected[0])
    pd.testing.assert_frame_equal(got["c"], expected[1])
    assert not got["a"].equals(got["c"])


def test_random_state_none_gives_fresh_rows_without_numpy_global_state():
    X, y = _table(60)
    np.random.seed(0)
    a = GANAugmenter(preset=TINY).fit_resample(X, y)[0]
    np.random.seed(0)
    b = GANAugmenter(preset=TINY).fit_resample(X, y)[0]
    assert not a.iloc[len(X):].equals(b.iloc[len(X):])


def test_local_draws_are_the_draws_of_a_seeded_global_rng():
    x = torch.randn(64, 16)
    saved = torch.get_rng_state()
    torch.manual_seed(5)
    layer, drop = torch.nn.Linear(16, 4), torch.nn.functional.dropout(x, 0.5)
    gumbel = torch.nn.functional.gumbel_softmax(x, tau=0.2, hard=True)
    torch.set_rng_state(saved)
    gen = torch.Generator().manual_seed(5)
    with local_draws(gen):
        local_layer = torch.nn.Linear(16, 4)
    local_drop = LocalDropout(0.5)
    local_drop.generator = gen
    assert torch.equal(local_layer.weight, layer.weight)
    assert torch.equal(local_drop(x), drop)
    assert torch.equal(gumbel_softmax(x, 0.2, hard=True, generator=gen), gumbel)
    assert torch.equal(torch.get_rng_state(), saved)
