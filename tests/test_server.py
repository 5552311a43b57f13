"""ganaug.runtime.server against a real uvicorn process on 127.0.0.1 (errors, traversal, concurrency)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from ganaug.gan.export import export_onnx
from ganaug.gan.presets import PRESETS

TINY = PRESETS["default"].with_overrides(
    generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=32, epochs=2, noise_dim=8
)
ROOT = Path(__file__).resolve().parents[1]
MAX_ROWS = 500


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """A served directory with a classification and a regression model, and a file outside it."""
    from ganaug import GANAugmenter
    from ganaug.gan.synthesizer import ConditionalGAN

    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "score": np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),
        }
    )
    y = rng.choice(np.array([1, 2]), n, p=[0.7, 0.3])
    root = tmp_path_factory.mktemp("serve")
    served = root / "models"
    served.mkdir()
    # TorchScript export only for speed here; tests/test_export.py covers the default exporter
    model = ConditionalGAN(TINY, random_state=0).fit(X, y)
    export_onnx(model, served / "people.onnx", exporter="torchscript")
    reg = GANAugmenter(preset=TINY, task="regression", random_state=0).fit(X[["age"]], X["age"] * 1.5 + 0.5)
    export_onnx(reg, served / "prices.onnx", exporter="torchscript")
    shutil.copy(served / "people.onnx", root / "secret.onnx")  # outside: must stay unreachable
    (served / "notes.txt").write_text("not a model")
    (served / "broken.onnx").write_bytes(b"garbage")  # skipped at startup with a warning
    return served


@pytest.fixture(scope="module")
def server(models_dir):
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "ganaug.runtime.server", str(models_dir), "--port", str(port),
           "--max-rows", str(MAX_ROWS), "--threads", "1", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early: {proc.stdout.read().decode()[-3000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /health within 60 s")
            time.sleep(0.1)
        yield base, port, models_dir
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server[0], timeout=30) as c:
        yield c


def test_health_and_models(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["models"] == 2
    listing = client.get("/v1/models").json()["models"]
    assert [m["name"] for m in listing] == ["people", "prices"]
    people = client.get("/v1/models/people").json()
    assert people["columns"] == ["age", "city", "score"]
    assert people["classes"] == [1, 2] and people["task"] == "classification"
    assert people["metadata"]["schema"]["columns"][0]["name"] == "age"
    assert people["max_rows"] == MAX_ROWS
    assert client.get("/v1/models/prices").json()["task"] == "regression"


def test_sample_json_and_csv(client):
    r = client.post("/v1/models/people/sample", json={"n": 50, "seed": 3})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["model"] == "people" and body["n"] == 50 and body["seed"] == 3
    assert body["columns"] == ["age", "city", "score"]
    assert len(body["rows"]) == 50 and len(body["classes"]) == 50
    assert body["label_column"] == "label"
    assert set(body["rows"][0]) == {"age", "city", "score", "label"}  # the label in each row
    assert [row["label"] for row in body["rows"]] == body["classes"]
    assert all(isinstance(row["age"], int) for row in body["rows"])
    assert any(row["score"] is None for row in body["rows"])  # NaN -> null
    assert body["classes"].count(1) == 35 and body["classes"].count(2) == 15  # training shares
    assert client.post("/v1/models/people/sample", json={"n": 50, "seed": 3}).json() == body
    one = client.post("/v1/models/people/sample", json={"n": 7, "class": 2, "seed": 1}).json()
    assert one["classes"] == [2] * 7
    as_text = client.post("/v1/models/people/sample", json={"n": 7, "class": "2", "seed": 1}).json()
    assert as_text == one
    csv = client.post("/v1/models/people/sample", json={"n": 20, "format": "csv", "seed": 3})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "age,city,score,label" and len(lines) == 21
    reg = client.post("/v1/models/prices/sample", json={"n": 5}).json()
    assert reg["columns"] == ["age", "__target__"] and reg["classes"] is None and len(reg["rows"]) == 5
    assert reg["label_column"] is None and set(reg["rows"][0]) == {"age", "__target__"}


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, "malformed JSON"),
        (b"", 400, "JSON object"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"seed": 1}', 400, '"n"'),
        (b'{"n": 0}', 400, "positive integer"),
        (b'{"n": -5}', 400, "positive integer"),
        (b'{"n": "ten"}', 400, "positive integer"),
        (b'{"n": 2.5}', 400, "positive integer"),
        (b'{"n": true}', 400, "positive integer"),
        (b'{"n": 501}', 413, "limit of 500"),
        (b'{"n": 5, "class": "nope"}', 422, "unknown class"),
        (b'{"n": 5, "class": [1]}', 400, "single label"),
        (b'{"n": 5, "seed": -1}', 400, "seed"),
        (b'{"n": 5, "format": "xml"}', 400, "format"),
        (b'{"n": 5, "rows": 3}', 400, "unknown keys"),
    ],
)
def test_sample_errors(client, body, status, message):
    r = client.post("/v1/models/people/sample", content=body,
                    headers={"content-type": "application/json"})
    assert r.status_code == status
    assert message in r.json()["error"]


def test_unknown_model_and_paths(client, server):
    r = client.post("/v1/models/nobody/sample", json={"n": 1})
    assert r.status_code == 404 and "unknown model" in r.json()["error"]
    assert client.get("/v1/models/broken").status_code == 404  # invalid file was skipped
    assert client.post("/v1/models/prices/sample", json={"n": 1, "class": 1}).status_code == 422
    assert client.get("/nowhere").json() == {"error": "Not Found"}
    # traversal attempts, sent raw so that no client normalises the path
    conn = http.client.HTTPConnection("127.0.0.1", server[1], timeout=10)
    try:
        for path in ("/v1/models/..%2Fsecret", "/v1/models/..%2Fsecret/sample",
                     "/v1/models/../secret", "/v1/models/..%2F..%2Fetc%2Fpasswd",
                     "/v1/models/%2E%2E%2Fsecret/sample", "/v1/models/../x"):
            method = "POST" if path.endswith("sample") else "GET"
            conn.request(method, path, body=b'{"n": 1}' if method == "POST" else None)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 404, path
    finally:
        conn.close()


def test_binds_loopback_only(server):
    import inspect

    from ganaug.runtime import server as srv

    assert inspect.signature(srv.serve).parameters["host"].default == "127.0.0.1"
    with socket.create_connection(("127.0.0.1", server[1]), timeout=5):
        pass


def test_concurrent_clients(server):
    base = server[0]

    def worker(i: int) -> list[tuple[int, int]]:
        out = []
        with httpx.Client(base_url=base, timeout=60) as c:
            for j in range(100):
                n = 1 + (i + j) % 5
                r = c.post("/v1/models/people/sample", json={"n": n, "seed": j})
                out.append((r.status_code, len(r.json()["rows"]) - n if r.status_code == 200 else -1))
        return out

    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = [r for chunk in pool.map(worker, range(8)) for r in chunk]
    assert len(results) == 800
    assert all(status == 200 and diff == 0 for status, diff in results)
    assert time.monotonic() - start < 120


def test_create_app_in_process(models_dir, tmp_path):
    from ganaug.runtime.server import create_app, discover

    assert sorted(discover(models_dir)) == ["broken", "people", "prices"]
    app = create_app(models_dir / "people.onnx", max_rows=10)
    assert list(app.state.models) == ["people"] and app.state.max_rows == 10
    with pytest.raises(ValueError, match="reload_interval"):
        create_app(models_dir, reload_interval=-1)
    with pytest.raises(ValueError, match="no ganaug"):
        create_app(tmp_path)
    with pytest.raises(ValueError, match="max_rows"):
        create_app(models_dir, max_rows=0)


# ------------------------------------------------------------ Open Inference Protocol (v2)
def _triton(server):
    http = pytest.importorskip("tritonclient.http")
    return http, http.InferenceServerClient(f"127.0.0.1:{server[1]}")


def test_v2_with_tritonclient(server, client):
    http, triton = _triton(server)
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready("people") and not triton.is_model_ready("nobody")
    assert triton.get_server_metadata()["name"] == "ganaug"
    meta = triton.get_model_metadata("people")
    noise_dim = client.get("/v1/models/people").json()["noise_dim"]
    assert meta["platform"] == "onnxruntime_onnx" and meta["versions"] == ["1"]
    assert meta["inputs"] == [
        {"name": "noise", "datatype": "FP32", "shape": [-1, noise_dim]},
        {"name": "condition", "datatype": "INT64", "shape": [-1]},
    ]
    assert [(o["name"], o["datatype"], o["shape"]) for o in meta["outputs"]] == [
        ("numeric", "FP32", [-1, 2]), ("codes", "INT64", [-1, 1])]

    from ganaug.runtime import OnnxGenerator

    noise = np.random.default_rng(0).standard_normal((6, noise_dim)).astype(np.float32)
    condition = np.array([0, 1, 0, 1, 1, 0], dtype=np.int64)
    expected = OnnxGenerator(server[2] / "people.onnx", n_threads=1).run(noise, condition)
    for binary in (True, False):  # binary tensor data (tritonclient's default) and JSON
        inputs = [http.InferInput("noise", list(noise.shape), "FP32"),
                  http.InferInput("condition", [6], "INT64")]
        inputs[0].set_data_from_numpy(noise, binary_data=binary)
        inputs[1].set_data_from_numpy(condition, binary_data=binary)
        outputs = [http.InferRequestedOutput(n, binary_data=binary) for n in ("numeric", "codes")]
        result = triton.infer("people", inputs, outputs=outputs, request_id="r1")
        np.testing.assert_array_equal(result.as_numpy("numeric"), expected[0])
        np.testing.assert_array_equal(result.as_numpy("codes"), expected[1])
        assert result.get_response()["id"] == "r1"
    # no outputs named: tritonclient asks for all of them, binary
    everything = triton.infer("people", inputs)
    np.testing.assert_array_equal(everything.as_numpy("codes"), expected[1])


def test_v2_seed_gives_the_rows_of_v1_sample(server, client):
    http, triton = _triton(server)
    v1 = client.post("/v1/models/people/sample", json={"n": 20, "seed": 5}).json()
    classes = client.get("/v1/models/people").json()["classes"]
    condition = np.array([classes.index(c) for c in v1["classes"]], dtype=np.int64)
    inputs = [http.InferInput("condition", [20], "INT64")]
    inputs[0].set_data_from_numpy(condition)
    result = triton.infer("people", inputs, parameters={"seed": 5})
    numeric = result.as_numpy("numeric")
    assert numeric[:, 0].tolist() == [row["age"] for row in v1["rows"]]
    score = [np.nan if row["score"] is None else row["score"] for row in v1["rows"]]
    np.testing.assert_allclose(numeric[:, 1], score, rtol=1e-6)
    cities = client.get("/v1/models/people").json()["metadata"]["schema"]["columns"][1]["categories"]
    assert [cities[c] for c in result.as_numpy("codes")[:, 0]] == [r["city"] for r in v1["rows"]]


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"inputs": "x"}, 400, '"inputs"'),
        ({"inputs": [{"name": "condition", "shape": [2], "datatype": "FP32", "data": [0, 1]}]},
         400, "INT64"),
        ({"inputs": [{"name": "condition", "shape": [3], "datatype": "INT64", "data": [0, 1]}]},
         400, "do not fill"),
        ({"inputs": [{"name": "condition", "shape": [2], "datatype": "INT64", "data": [0, 7]}]},
         400, "outside [0, 2)"),
        ({"inputs": [{"name": "condition", "shape": [1], "datatype": "INT64", "data": [0]},
                     {"name": "noise", "shape": [1, 3], "datatype": "FP32", "data": [0, 0, 0]}]},
         400, "noise"),
        ({"inputs": [{"name": "condition", "shape": [1], "datatype": "INT64", "data": ["a"]}]},
         400, "INT64 numbers"),
        ({"inputs": [{"name": "image", "shape": [1], "datatype": "FP32", "data": [0]}]},
         400, "unknown input"),
        ({"inputs": [{"name": "condition", "shape": [1], "datatype": "INT64", "data": [0]}],
          "outputs": [{"name": "probabilities"}]}, 400, "unknown output"),
        ({"inputs": [{"name": "condition", "shape": [501], "datatype": "INT64",
                      "data": [0] * 501}]}, 413, "limit of 500"),
        ({"inputs": [{"name": "condition", "shape": [1], "datatype": "INT64", "data": [0]}],
          "parameters": {"seed": -3}}, 400, "seed"),
    ],
)
def test_v2_bad_requests_get_4xx(client, body, status, message):
    r = client.post("/v2/models/people/infer", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]


def test_v2_bad_binary_and_unknown_names(client):
    header = json.dumps({"inputs": [{"name": "condition", "shape": [2], "datatype": "INT64",
                                     "parameters": {"binary_data_size": 16}}]}).encode()
    short = client.post("/v2/models/people/infer", content=header + b"\0" * 8,
                        headers={"Inference-Header-Content-Length": str(len(header))})
    assert short.status_code == 400 and "fewer binary bytes" in short.json()["error"]
    lying = client.post("/v2/models/people/infer", content=header,
                        headers={"Inference-Header-Content-Length": "99999"})
    assert lying.status_code == 400
    assert client.post("/v2/models/people/infer", content=b"{nope").status_code == 400
    assert client.get("/v2/models/nobody").status_code == 404
    assert client.get("/v2/models/people/versions/7").status_code == 404
    assert client.get("/v2/models/people/versions/1/ready").json() == {"name": "people", "ready": True}
