"""Serving conventions of ganaug.runtime.server, in process: health, OpenAPI and docs page,
Prometheus metrics, CORS, the Accept header, the label column, model reload, Triton export.

The Open Inference Protocol (v2) is tested with tritonclient against a real server in
tests/test_server.py.
"""

from __future__ import annotations

import re
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnx")
pytest.importorskip("starlette")
pytest.importorskip("httpx")
pytest.importorskip("prometheus_client")

with warnings.catch_warnings():  # starlette 1.x asks for httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from ganaug.gan.export import export_onnx
from ganaug.gan.presets import PRESETS
from ganaug.runtime.sample_endpoint import _label_column
from ganaug.runtime.server import (
    create_app,
    negotiate_format,
)

TINY = PRESETS["default"].with_overrides(
    generator_hidden=(32, 32), discriminator_hidden=(32, 32), batch_size=32, epochs=2, noise_dim=8
)


@pytest.fixture(scope="module")
def onnx_files(tmp_path_factory):
    """Two exported models (classification, and one without categorical columns)."""
    from ganaug.gan.synthesizer import ConditionalGAN

    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame({"age": rng.integers(18, 80, n), "city": rng.choice(["a", "b", "c"], n),
                      "score": rng.normal(size=n)})
    y = rng.choice(np.array(["no", "yes"]), n, p=[0.7, 0.3])
    root = tmp_path_factory.mktemp("models")
    people = export_onnx(ConditionalGAN(TINY, random_state=0).fit(X, y), root / "people.onnx",
                         exporter="torchscript")
    plain = export_onnx(ConditionalGAN(TINY, random_state=0).fit(X[["age", "score"]], y),
                        root / "plain.onnx", exporter="torchscript")
    return {"people": people, "plain": plain}


@pytest.fixture
def served(onnx_files, tmp_path):
    """A directory holding a copy of people.onnx (and its sidecar)."""
    directory = tmp_path / "served"
    directory.mkdir()
    _copy(onnx_files["people"], directory / "people.onnx")
    return directory


def _copy(src: Path, dst: Path) -> None:
    shutil.copy(src, dst)
    sidecar = src.with_name(src.name + ".json")
    if sidecar.exists():
        shutil.copy(sidecar, dst.with_name(dst.name + ".json"))


def test_health_live_and_ready(served):
    client = TestClient(create_app(served, n_threads=1))
    assert client.get("/health/live").json() == {"status": "live"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["models"] == ["people"]
    (served / "people.onnx").unlink()
    assert client.post("/v1/reload").json()["removed"] == ["people"]
    gone = client.get("/health/ready")
    assert gone.status_code == 503 and gone.json()["status"] == "no model loaded"
    assert client.get("/health/live").status_code == 200  # alive, just not ready
    assert client.get("/v2/health/ready").status_code == 503


def test_openapi_lists_every_route_and_docs_page_is_self_contained(served):
    app = create_app(served, n_threads=1)
    client = TestClient(app)
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"] == "ganaug server"
    routes = {r.path for r in app.routes} - {"/openapi.json", "/docs"}
    routes = {p for p in routes if "/versions/" not in p}  # v2's versioned aliases
    assert routes == set(spec["paths"])
    sample = spec["paths"]["/v1/models/{name}/sample"]["post"]
    from ganaug.runtime.server import SAMPLE_KEYS

    schema = sample["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == SAMPLE_KEYS  # every key the server accepts, no other
    assert set(sample["responses"]) >= {"200", "400", "404", "406", "413", "422"}
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in html
    # nothing fetched from elsewhere: no scripts, stylesheets, fonts or images from a network
    assert not re.search(r"<script|<link|<img|@import|url\(", html)
    assert not re.search(r"(src|href)=['\"]?https?:", html)


def test_metrics_count_requests_latency_and_rows(served):
    client = TestClient(create_app(served, n_threads=1))
    for n in (3, 4):
        assert client.post("/v1/models/people/sample", json={"n": n, "seed": 1}).status_code == 200
    assert client.post("/v1/models/people/sample", json={"n": 0}).status_code == 400
    assert client.get("/v1/models/nobody").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    infer = {"inputs": [{"name": "condition", "shape": [5], "datatype": "INT64",
                         "data": [0, 1, 0, 1, 1]}], "parameters": {"seed": 2}}
    assert client.post("/v2/models/people/infer", json=infer).status_code == 200
    text = client.get("/metrics").text

    def value(line_start: str) -> float:
        match = re.search(rf"^{re.escape(line_start)} (\S+)$", text, re.MULTILINE)
        assert match, line_start
        return float(match.group(1))

    route = 'route="/v1/models/{name}/sample"'
    assert value(f'ganaug_requests_total{{method="POST",{route},status="200"}}') == 2
    assert value(f'ganaug_requests_total{{method="POST",{route},status="400"}}') == 1
    assert value('ganaug_requests_total{method="GET",route="/v1/models/{name}",status="404"}') == 1
    assert value('ganaug_requests_total{method="GET",route="other",status="404"}') == 1
    assert value(f'ganaug_request_duration_seconds_count{{method="POST",{route}}}') == 3
    assert value(f'ganaug_request_duration_seconds_bucket{{le="+Inf",method="POST",{route}}}') == 3
    assert value('ganaug_rows_served_total{model="people"}') == 3 + 4 + 5
    assert value("ganaug_models_loaded") == 1
    assert "nobody" not in text and "/no/such/path" not in text  # labels are route templates


def test_cors_only_when_asked(served):
    origin = "http://localhost:3000"
    plain = TestClient(create_app(served, n_threads=1))
    assert "access-control-allow-origin" not in plain.get("/v1/models", headers={"origin": origin}).headers
    client = TestClient(create_app(served, n_threads=1, cors_origins=[origin]))
    got = client.get("/v1/models", headers={"origin": origin})
    assert got.headers["access-control-allow-origin"] == origin
    preflight = client.options("/v1/models/people/sample", headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    other = client.get("/v1/models", headers={"origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "accept, expected",
    [(None, "json"), ("*/*", "json"), ("application/json", "json"), ("text/csv", "csv"),
     ("text/*", "csv"), ("text/csv;q=0.5, application/json", "json"),
     ("application/json;q=0.2, text/csv", "csv"), ("text/csv, */*;q=0.1", "csv"),
     ("text/html, application/*;q=0.9", "json")],
)
def test_accept_header_negotiation(accept, expected):
    assert negotiate_format(accept) == expected


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "application/json;q=0"])
def test_accept_header_refused(accept):
    from ganaug.runtime.api_errors import ApiError

    with pytest.raises(ApiError) as info:
        negotiate_format(accept)
    assert info.value.status == 406


def test_accept_header_on_sample(served):
    client = TestClient(create_app(served, n_threads=1))
    url, body = "/v1/models/people/sample", {"n": 4, "seed": 1}
    csv = client.post(url, json=body, headers={"accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "age,city,score,label" and len(csv.text.splitlines()) == 5
    js = client.post(url, json=body, headers={"accept": "application/json"})
    assert js.headers["content-type"].startswith("application/json") and len(js.json()["rows"]) == 4
    # the same rows either way
    frame = pd.read_csv(__import__("io").StringIO(csv.text))
    assert frame["label"].tolist() == [r["label"] for r in js.json()["rows"]]
    refused = client.post(url, json=body, headers={"accept": "application/xml"})
    assert refused.status_code == 406 and "text/csv" in refused.json()["error"]
    # an explicit "format" wins over the header
    forced = client.post(url, json={**body, "format": "json"}, headers={"accept": "text/csv"})
    assert forced.headers["content-type"].startswith("application/json")


def test_label_column_name():
    assert _label_column(["age", "city"]) == "label"
    assert _label_column(["age", "label"]) == "_label"
    assert _label_column(["age", "city"], "churn") == "churn"  # the model's class column
    assert _label_column(["age", "churn"], "churn") == "label"  # never overwrite a feature


def test_reload_on_request_and_by_polling(served, onnx_files):
    app = create_app(served, n_threads=1)  # no polling: only POST /v1/reload
    client = TestClient(app)
    _copy(onnx_files["plain"], served / "plain.onnx")
    assert client.get("/v1/models/plain").status_code == 404  # not looked for yet
    report = client.post("/v1/reload").json()
    assert report["added"] == ["plain"] and report["models"] == ["people", "plain"]
    assert client.get("/v1/models/plain").json()["columns"] == ["age", "score"]
    assert client.post("/v1/reload").json()["added"] == []  # unchanged files are not reloaded
    # a file replaced in place (other content) is reloaded
    _copy(onnx_files["people"], served / "plain.onnx")
    assert client.post("/v1/reload").json()["updated"] == ["plain"]
    assert client.get("/v1/models/plain").json()["columns"] == ["age", "city", "score"]
    # a broken replacement is dropped, not served stale, and reported
    (served / "plain.onnx").write_bytes(b"garbage")
    report = client.post("/v1/reload").json()
    assert report["removed"] == ["plain"] and "plain" in report["failed"]
    assert client.get("/v1/models/plain").status_code == 404

    polled = create_app(served, n_threads=1, reload_interval=0.05)
    with TestClient(polled) as live:  # the lifespan runs the poller
        (served / "plain.onnx").unlink()
        _copy(onnx_files["plain"], served / "fresh.onnx")
        deadline = time.monotonic() + 30
        while live.get("/v1/models/fresh").status_code != 200:
            assert time.monotonic() < deadline, "the poller did not pick up fresh.onnx"
            time.sleep(0.05)
        (served / "fresh.onnx").unlink()
        while live.get("/v1/models/fresh").status_code != 404:
            assert time.monotonic() < deadline, "the poller did not drop fresh.onnx"
            time.sleep(0.05)


def test_served_names_are_url_safe(onnx_files, tmp_path):
    from ganaug.runtime.repository import discover, model_name

    for stem in ("parquet-.._data_churn.parquet", "../x", "a..b", "..", "we ird/na:me"):
        name = model_name(stem)
        assert ".." not in name and "/" not in name and "\\" not in name and ":" not in name
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name), name
    _copy(onnx_files["plain"], tmp_path / "parquet-.._data_churn.parquet.onnx")
    assert list(discover(tmp_path)) == ["parquet-data_churn.parquet"]


def test_triton_repository_matches_the_graph(onnx_files, tmp_path):
    import onnx

    from ganaug.runtime.triton import write_model_repository

    types = {onnx.TensorProto.FLOAT: "TYPE_FP32", onnx.TensorProto.INT64: "TYPE_INT64"}
    for key, file in onnx_files.items():
        entry = write_model_repository(file, tmp_path / "repo")
        assert entry == tmp_path / "repo" / key
        assert sorted(p.relative_to(entry).as_posix() for p in entry.rglob("*")) == [
            "1", "1/model.onnx", "1/model.onnx.json", "config.pbtxt"]
        assert (entry / "1" / "model.onnx").read_bytes() == file.read_bytes()
        config = (entry / "config.pbtxt").read_text()
        assert f'name: "{key}"' in config and 'platform: "onnxruntime_onnx"' in config
        assert "max_batch_size: 0" in config
        graph = onnx.load(entry / "1" / "model.onnx").graph
        for kind, tensors in (("input", graph.input), ("output", graph.output)):
            block = re.search(rf"^{kind} \[\n(.*?)^\]", config, re.MULTILINE | re.DOTALL).group(1)
            entries = re.findall(
                r'name: "([^"]+)"\s+data_type: (\w+)\s+dims: \[ ([^\]]*) \]', block)
            expected = [
                (t.name, types[t.type.tensor_type.elem_type],
                 ", ".join(str(d.dim_value) if d.HasField("dim_value") else "-1"
                           for d in t.type.tensor_type.shape.dim))
                for t in tensors
            ]
            assert entries == expected, kind
    # the server's v2 metadata describes the same tensors (widths of this model are fixed)
    client = TestClient(create_app(onnx_files["people"], n_threads=1))
    meta = client.get("/v2/models/people").json()
    config = (tmp_path / "repo" / "people" / "config.pbtxt").read_text()
    for tensor in meta["inputs"] + meta["outputs"]:
        dims = ", ".join(str(d) for d in tensor["shape"])
        assert f'name: "{tensor["name"]}"\n    data_type: TYPE_{tensor["datatype"]}\n    dims: [ {dims} ]' in config


def test_v2_body_limit_is_capped(onnx_files):
    from ganaug.runtime import OnnxGenerator, oip

    gen = OnnxGenerator(onnx_files["people"], n_threads=1)
    small = oip.body_limit(gen, 10)
    assert small < oip.MAX_BODY_BYTES and small >= 10 * (gen.noise_dim + 1) * 4
    assert oip.body_limit(gen, 10**9) == oip.MAX_BODY_BYTES
    # a declared body over the cap is refused before it is read
    client = TestClient(create_app(onnx_files["people"], n_threads=1, max_rows=10))
    r = client.post("/v2/models/people/infer", content=b"{}",
                    headers={"content-length": str(small + 1)})
    assert r.status_code == 413
