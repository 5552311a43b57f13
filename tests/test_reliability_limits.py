"""Reliability probes, round three: one-class labels, unbounded sizes, and the weak spots of
the inputs (unlabeled NaN, an output that is its input, a non-number in a numeric column, a
huge .onnx file). Each case once crashed, hung or did something silently wrong; each is kept
here with the typed error (naming the column, field, file or limit) or the rows it now gives.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import TINY, city_table
from ganaug import GANAugmenter
from ganaug.cli import main
from ganaug.core.errors import ArtifactError, DataError, LabelError, SizeLimitError
from ganaug.core.limits import MAX_ROWS, check_rows_in_memory, parse_json
from ganaug.gan.export import export_onnx
from ganaug.runtime import OnnxGenerator


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A tiny augmenter on the city table, saved as an artifact and exported to ONNX."""
    X, y = city_table(60)
    aug = GANAugmenter(preset=TINY, random_state=0).fit(X, y)
    root = tmp_path_factory.mktemp("limits")
    aug.save(root / "art")
    export_onnx(aug.model_, root / "m.onnx", exporter="torchscript")
    X.assign(label=y).to_csv(root / "city.csv", index=False)
    return aug, root


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


# ------------------------------------------------------------------ 1. one class
@pytest.mark.parametrize(
    "labels",
    [np.array(["p"] * 40, dtype=object), pd.Series(["p"] * 40), np.zeros(40, dtype=int)],
    ids=["object-array", "series", "int"],
)
def test_one_class_is_refused_by_the_sampler(labels):
    X, _ = city_table(40)
    with pytest.raises(LabelError, match=r"single class \('p'\)|single class \(0\)"):
        GANAugmenter(preset=TINY, random_state=0).fit_resample(X, labels)


@pytest.mark.parametrize("command", ["pretrain", "augment"])
def test_one_class_is_refused_by_the_cli(tmp_path, command):
    X, _ = city_table(40)
    X.assign(label="p").to_csv(tmp_path / "one.csv", index=False)
    result = _cli(command, str(tmp_path / "one.csv"), "--target", "label", "--epochs", "1",
                  "-o", str(tmp_path / ("out.csv" if command == "augment" else "art")))
    assert result.exit_code == 1
    assert "single class ('p')" in result.output and "Traceback" not in result.output


def test_one_class_is_refused_by_the_distributed_path(tmp_path):
    """The function each torchrun rank runs (and the streamed, single-process pretrain)."""
    pytest.importorskip("pyarrow")
    from ganaug.scaleout import pretrain

    X, _ = city_table(40)
    X.assign(label="p").to_parquet(tmp_path / "one.parquet")
    for stream in (True, False):
        with pytest.raises(LabelError, match=r"target column 'label' has a single class \('p'\)"):
            pretrain(str(tmp_path / "one.parquet"), "label", tmp_path / "art", epochs=1, stream=stream)
    assert not (tmp_path / "art").exists()


# ------------------------------------------------------------------ 2. unbounded sizes
@pytest.mark.parametrize("n", [10**15, 2 * 10**9], ids=["1e15", "2e9"])
def test_huge_samples_are_refused_up_front(fitted, n):
    aug, root = fitted
    samplers = [aug.sample, aug.model_.sample, OnnxGenerator(root / "m.onnx").sample]
    for sample in samplers:
        with pytest.raises(SizeLimitError, match=r"rows would need about .* of memory .* available") as info:
            sample(n)
        assert info.value.requested == n and 0 < info.value.limit < n


def test_huge_samples_of_a_regression_model_are_refused(tmp_path):
    X, _ = city_table(40)
    aug = GANAugmenter(preset=TINY, task="regression", random_state=0).fit(X[["age", "city"]], X["income"])
    onnx_path = export_onnx(aug.model_, tmp_path / "r.onnx", task="regression", exporter="torchscript")
    for sample in (aug.sample, OnnxGenerator(onnx_path).sample):
        with pytest.raises(SizeLimitError, match="rows would need about"):
            sample(10**15)


def test_a_row_count_past_the_limit_is_refused(fitted):
    aug, root = fitted
    for n in (np.uint64(2**63), 2**63, MAX_ROWS + 1):
        with pytest.raises(SizeLimitError, match=r"more than the limit of 9,007,199,254,740,992"):
            aug.sample(n)
        with pytest.raises(SizeLimitError, match=r"\(2\*\*53\) rows per request"):
            next(OnnxGenerator(root / "m.onnx").iter_samples(n))


def test_memory_check_passes_what_fits():
    assert check_rows_in_memory(1000, 100) == 1000
    assert check_rows_in_memory(0, 100) == 0


@pytest.mark.parametrize("generator", [False, True], ids=["trained", "pretrained-onnx"])
def test_a_huge_augment_ratio_is_refused_before_training(fitted, generator):
    _aug, root = fitted
    X, y = city_table(60)
    params = {"generator": str(root / "m.onnx")} if generator else {"preset": TINY}
    with pytest.raises(SizeLimitError, match=r"rows to add \(sampling_strategy, augment_ratio\).*lower augment_ratio"):
        GANAugmenter(augment_ratio=1e12, random_state=0, **params).fit_resample(X, y)


def test_cli_refuses_huge_sizes(fitted, tmp_path):
    _aug, root = fitted
    model = str(root / "m.onnx")
    # to stdout the rows are streamed chunk by chunk: memory stays bounded, the rows come at once
    proc = subprocess.Popen([sys.executable, "-c", "from ganaug.cli import main; main()", "sample", model,
                             "-n", "1000000000000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    lines = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()  # the reader goes away (as `| head` does): the command stops
    proc.wait(timeout=120)
    assert lines[0].decode().strip() == "age,income,city,label" and lines[2].count(b",") == 3
    result = _cli("sample", model, "-n", "9223372036854775808", "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 1 and "(2**53) rows per request" in result.output
    # streamed to a file: the disk, not the memory, is the limit
    result = _cli("sample", model, "-n", "1000000000000000", "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 1 and "as CSV and" in result.output and "free" in result.output
    assert not (tmp_path / "x.csv").exists()
    result = _cli("augment", str(root / "city.csv"), "--target", "label", "--generator", model,
                  "--ratio", "1e12", "-o", str(tmp_path / "y.csv"))
    assert result.exit_code == 1 and "lower augment_ratio" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------- 7. weak spots of the inputs
def test_unlabeled_nan_marker_in_the_api():
    X, y = city_table(60)
    y = y.astype(object)
    y[::5] = np.nan  # 12 unlabeled rows
    aug = GANAugmenter(preset=TINY, random_state=0, unlabeled_value=np.nan)
    X_res, y_res = aug.fit_resample(X, y)
    assert aug.n_unlabeled_ == 12
    assert not pd.isna(y_res).any() and set(y_res) == {"yes", "no"}
    labeled = pd.Series(y).dropna()
    assert len(X_res) == 2 * labeled.value_counts().max()
    with pytest.raises(DataError, match="12 missing class label"):  # without the marker
        GANAugmenter(preset=TINY, random_state=0).fit_resample(X, y)


def test_unlabeled_nan_marker_in_the_cli(tmp_path):
    X, y = city_table(60)
    frame = X.assign(label=y)
    frame.loc[::5, "label"] = np.nan
    frame.to_csv(tmp_path / "semi.csv", index=False)
    out = tmp_path / "out.csv"
    args = ["augment", str(tmp_path / "semi.csv"), "--target", "label", "--epochs", "1", "-o", str(out)]
    result = _cli(*args)
    assert result.exit_code == 1 and "has 12 missing values" in result.output
    assert "--unlabeled-value nan" in result.output
    result = _cli(*args, "--unlabeled-value", "nan")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert "12 unlabeled rows" in result.output and written["label"].notna().all()


def test_augment_refuses_to_overwrite_its_input(tmp_path):
    X, y = city_table(60)
    path = tmp_path / "d.csv"
    X.assign(label=y).to_csv(path, index=False)
    before = path.read_bytes()
    for data, output in ((str(path), str(path)), (f"csv:{path}", str(tmp_path / "." / "d.csv"))):
        result = _cli("augment", data, "--target", "label", "--epochs", "1", "-o", output)
        assert result.exit_code == 2 and "is the input file" in result.output
    assert path.read_bytes() == before


def test_a_string_in_a_numeric_column_is_named():
    from ganaug.learn.features import GANFeatures

    X, y = city_table(60)
    features = GANFeatures(preset=TINY, random_state=0).fit(X, y)
    X_bad = X.astype({"age": object})
    X_bad.loc[3, "age"] = "abc"
    with pytest.raises(DataError, match=r"column 'age' holds 'abc' \(row 3\), which is not a number"):
        features.transform(X_bad)


def test_a_huge_onnx_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as fh:  # sparse: 3 GiB on paper, no blocks on disk
        fh.truncate(3 * 2**30)
    with pytest.raises(ArtifactError, match=r"huge.onnx is 3.0 GiB, over the 2.0 GiB limit"):
        OnnxGenerator(path)
    result = _cli("sample", str(path), "-n", "5")
    assert result.exit_code == 1 and "over the 2.0 GiB limit" in result.output


# ------------------------------------------------------------------ parser limits (shared)
def test_parse_json_names_the_field():
    deep = '{"a": 1, "history": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with pytest.raises(ArtifactError, match="f: field 'history' is nested too deeply"):
        parse_json(deep, "f")
    digits = '{"class_counts": [1' + "0" * 5000 + ", 12]}"
    with pytest.raises(ArtifactError, match=r"field 'class_counts\[0\]' is an integer of 5,001 digits"):
        parse_json(digits, "f")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        parse_json('{"a": ', "f")
    assert parse_json('{"a": [1, 2.5, "x"]}', "f") == {"a": [1, 2.5, "x"]}


def test_server_answers_a_stalled_body_with_408(fitted):
    """Headers and a partial body, then nothing: the server answers 408 and closes, rather
    than holding the connection until the client gives up."""
    pytest.importorskip("uvicorn")
    httpx = pytest.importorskip("httpx")
    _, root = fitted
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "ganaug.runtime.server", str(root / "m.onnx"), "--port", str(port),
           "--threads", "1", "--log-level", "warning", "--body-timeout", "0.5"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env)
    try:
        for _ in range(300):  # up to 60 s to start
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, "the server exited"
                time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"POST /v1/models/m/sample HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n" + b'{"n": ')
            answer = b""
            while True:  # read until the server closes the connection
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"did not arrive within 0.5 s" in answer
        # the server is still healthy for everyone else
        response = httpx.post(f"http://127.0.0.1:{port}/v1/models/m/sample", json={"n": 3}, timeout=30)
        assert response.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_an_identifier_column_gets_a_warning_at_fit():
    from ganaug.errors import IdentifierColumnWarning
    from ganaug.gan.codec import TableCodec

    rng = np.random.default_rng(0)
    ids = np.delete(np.arange(1000, 1130), rng.choice(130, 10, replace=False))  # 120 ids, gaps
    X = pd.DataFrame({"id": ids, "x": rng.normal(size=120), "k": rng.integers(0, 5, 120)})
    with pytest.warns(IdentifierColumnWarning, match=r"column 'id' looks like a row identifier"):
        TableCodec().fit(X)
    with warnings.catch_warnings():  # no warning for a count, a float, or a spread-out integer
        warnings.simplefilter("error", IdentifierColumnWarning)
        TableCodec().fit(X[["x", "k"]].assign(big=rng.choice(10**9, 120, replace=False)))
