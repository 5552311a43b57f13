"""The server's OpenAPI 3.1 description (``GET /openapi.json``) and its docs page (``GET /docs``).

The docs page is one self-contained HTML document rendered from the same description: no script,
no stylesheet or font from a CDN, so it works on a machine without network access.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ganaug._version import __version__

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "Malformed request (the message names the field)", 404: "Unknown model",
             406: "No acceptable media type", 413: "Too many rows, or a body too large",
             422: "Unknown class", 503: "No model loaded"}
    return {str(c): _json(_ERROR, words[c]) for c in codes}


_NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "Model name: the .onnx file's stem"}]

_SAMPLE_REQUEST = {
    "type": "object",
    "required": ["n"],
    "additionalProperties": False,
    "properties": {
        "n": {"type": "integer", "minimum": 1, "description": "Rows to generate"},
        "class": {"type": ["string", "number"],
                  "description": "Only rows of this class (default: training proportions)"},
        "seed": {"type": "integer", "minimum": 0,
                 "description": "Same seed, same rows (default: a fresh seed, returned)"},
        "format": {"enum": ["json", "csv"],
                   "description": "Default: from the Accept header, else json"},
        "where": {"type": "object",
                  "description": "Conditions on columns: column -> a value, null (missing), a "
                                 "list of values, or {\"min\": x, \"max\": y}"},
    },
    "example": {"n": 5, "class": "yes", "seed": 1},
}

_SAMPLE_RESPONSE = {
    "type": "object",
    "properties": {
        "model": {"type": "string"},
        "n": {"type": "integer"},
        "seed": {"type": "integer"},
        "columns": {"type": "array", "items": {"type": "string"}},
        "label_column": {"type": ["string", "null"],
                         "description": "Name of the class label in each row (null: no classes)"},
        "rows": {"type": "array", "items": {"type": "object"},
                 "description": "One object per row, with the label; missing values are null"},
        "classes": {"type": ["array", "null"], "description": "The label of each row, again"},
    },
}

_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype"],
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {"type": "string", "example": "FP32"},
        "data": {"type": "array"},
        "parameters": {"type": "object"},
    },
}


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint of :func:`ganaug.runtime.server.create_app`."""
    ok = {"200": _json({"type": "object"}, "OK")}
    paths: dict[str, Any] = {
        "/health": {"get": {"summary": "Status, number of models and version", "responses": ok}},
        "/health/live": {"get": {"summary": "Liveness: the process answers", "responses": ok}},
        "/health/ready": {"get": {"summary": "Readiness: at least one model is loaded",
                                  "responses": {**ok, **_errors(503)}}},
        "/metrics": {"get": {"summary": "Prometheus metrics: requests, latency, rows served",
                             "responses": {"200": {"description": "Prometheus text format",
                                                   "content": {"text/plain": {}}}}}},
        "/v1/models": {"get": {"summary": "The served models", "responses": ok}},
        "/v1/models/{name}": {"get": {"summary": "One model: columns, classes, full metadata",
                                      "parameters": _NAME, "responses": {**ok, **_errors(404)}}},
        "/v1/models/{name}/sample": {"post": {
            "summary": "Generate rows (JSON rows with their label, or CSV)",
            "parameters": _NAME,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _SAMPLE_REQUEST}}},
            "responses": {
                "200": {"description": "The rows", "content": {
                    "application/json": {"schema": _SAMPLE_RESPONSE},
                    "text/csv": {"schema": {"type": "string"}}}},
                **_errors(400, 404, 406, 413, 422)},
        }},
        "/v1/reload": {"post": {"summary": "Look for new, changed and removed model files now",
                                "responses": ok}},
        "/v2": {"get": {"summary": "Open Inference Protocol v2: server metadata", "responses": ok}},
        "/v2/health/live": {"get": {"summary": "v2 liveness", "responses": ok}},
        "/v2/health/ready": {"get": {"summary": "v2 readiness",
                                     "responses": {**ok, **_errors(503)}}},
        "/v2/models/{name}": {"get": {"summary": "v2 model metadata: input and output tensors",
                                      "parameters": _NAME, "responses": {**ok, **_errors(404)}}},
        "/v2/models/{name}/ready": {"get": {"summary": "v2 model readiness", "parameters": _NAME,
                                            "responses": {**ok, **_errors(404)}}},
        "/v2/models/{name}/infer": {"post": {
            "summary": "v2 inference: noise and condition in, numeric and codes out",
            "description": "Leave out the noise input and pass parameters.seed to have the "
                           "server draw ganaug's noise for that seed. Binary tensor data "
                           "(Inference-Header-Content-Length) is accepted and returned on request.",
            "parameters": _NAME,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["inputs"],
                "properties": {"id": {"type": "string"},
                               "inputs": {"type": "array", "items": _TENSOR},
                               "outputs": {"type": "array", "items": {"type": "object"}},
                               "parameters": {"type": "object"}},
                "example": {"inputs": [{"name": "condition", "shape": [2], "datatype": "INT64",
                                        "data": [0, 1]}], "parameters": {"seed": 1}}}}}},
            "responses": {"200": _json({"type": "object", "properties": {
                "model_name": {"type": "string"}, "outputs": {"type": "array", "items": _TENSOR}}},
                "The output tensors"), **_errors(400, 404, 413)},
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "ganaug server", "version": __version__,
                 "description": "Sample rows from exported ganaug generators."},
        "paths": paths,
        "components": {"schemas": {"Error": {"type": "object", "required": ["error"],
                                             "properties": {"error": {"type": "string"}}}}},
    }


_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem}code,pre{background:#f4f4f4;
padding:.1rem .3rem;border-radius:3px}pre{padding:.6rem;overflow-x:auto}.m{display:inline-block;
min-width:3.5rem;font-weight:bold}.get{color:#06c}.post{color:#080}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}"""


def docs_html(spec: dict[str, Any] | None = None) -> str:
    """A self-contained HTML page listing every endpoint of ``spec`` (default: this server's)."""
    spec = spec or openapi_spec()
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(spec['info']['title'])} {esc(spec['info']['version'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(spec['info']['title'])} <small>{esc(spec['info']['version'])}</small></h1>",
        (f"<p>{esc(spec['info']['description'])} The machine-readable description is "
         "<a href='openapi.json'>openapi.json</a>.</p>"),
    ]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            parts.append(f"<h2><span class='m {method}'>{method.upper()}</span> "
                         f"<code>{esc(path)}</code></h2><p>{esc(op['summary'])}</p>")
            if op.get("description"):
                parts.append(f"<p>{esc(op['description'])}</p>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schema = body["schema"]
                props = schema.get("properties", {})
                rows = "".join(
                    f"<tr><td><code>{esc(k)}</code></td><td>{esc(json.dumps(v.get('type', v.get('enum', ''))))}"
                    f"</td><td>{esc(v.get('description', ''))}</td></tr>" for k, v in props.items())
                parts.append(f"<table><tr><th>field</th><th>type</th><th>meaning</th></tr>{rows}</table>")
                if "example" in schema:
                    parts.append(f"<p>Example body:</p><pre>{esc(json.dumps(schema['example']))}</pre>")
            codes = ", ".join(esc(c) for c in op.get("responses", {}))
            parts.append(f"<p>Answers: {codes}.</p>")
    parts.append("</body></html>")
    return "".join(parts)
