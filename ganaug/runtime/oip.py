"""The KServe / Triton Open Inference Protocol (v2, REST) for the served generators.

Each model is served as its ONNX graph, exactly as Triton serves the model repository that
``ganaug export --triton DIR`` writes, so one client works against both:

=========== ======== ===================== ==============================================
tensor      datatype shape                 meaning
=========== ======== ===================== ==============================================
noise       FP32     [batch, noise_dim]    standard normal noise (input)
condition   INT64    [batch]               class index (input)
numeric     FP32     [batch, n_numeric]    numeric columns, NaN where missing (output)
codes       INT64    [batch, n_categorical] category index per categorical column (output)
=========== ======== ===================== ==============================================

``docs/onnx-format.md`` says how to turn outputs into rows (the column names, categories and
classes are in ``GET /v1/models/{name}``). One extension for clients without ganaug's noise
recipe: leave out ``noise`` and pass the request parameter ``"seed"``; the server then draws the
noise of that seed, so the rows are those of ``POST /v1/models/{name}/sample`` with the same seed
and classes. Tensors travel as JSON ``data`` or with the binary tensor data extension
(``Inference-Header-Content-Length``), as ``tritonclient`` sends them by default.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from ganaug._version import __version__
from ganaug.core.noise import noise_rows, seed_from
from ganaug.runtime.api_errors import ApiError, json_object
from ganaug.runtime.generator import OnnxGenerator

#: the only version of each model (Triton's repository layout ``<name>/1/model.onnx``)
MODEL_VERSION = "1"
PLATFORM = "onnxruntime_onnx"
HEADER_LENGTH = "Inference-Header-Content-Length"
#: request bodies: the JSON header, then at most this many bytes per requested row
_BYTES_PER_VALUE = 24
_HEADER_BYTES = 64 * 1024
#: the most bytes one inference request may send (413 above)
MAX_BODY_BYTES = 64 * 1024 * 1024

_NUMPY = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32}
#: the datatypes each input accepts (converted exactly: no float noise as integers)
_ACCEPTED = {"noise": ("FP32", "FP64"), "condition": ("INT64", "INT32")}
_REQUEST_KEYS = frozenset({"id", "inputs", "outputs", "parameters"})


def tensor_specs(gen: OnnxGenerator) -> dict[str, list[dict[str, Any]]]:
    """The model's inputs and outputs as v2 metadata (``-1`` is the batch dimension)."""
    outputs = gen.metadata.get("outputs", {})
    widths = {name: len(outputs.get(name, {}).get("columns", [])) for name in ("numeric", "codes")}
    return {
        "inputs": [
            {"name": "noise", "datatype": "FP32", "shape": [-1, gen.noise_dim]},
            {"name": "condition", "datatype": "INT64", "shape": [-1]},
        ],
        "outputs": [
            {"name": "numeric", "datatype": "FP32", "shape": [-1, widths["numeric"]]},
            {"name": "codes", "datatype": "INT64", "shape": [-1, widths["codes"]]},
        ],
    }


def server_metadata() -> dict[str, Any]:
    """``GET /v2``."""
    return {"name": "ganaug", "version": __version__, "extensions": ["binary_tensor_data"]}


def model_metadata(name: str, gen: OnnxGenerator) -> dict[str, Any]:
    """``GET /v2/models/{name}``."""
    return {"name": name, "versions": [MODEL_VERSION], "platform": PLATFORM, **tensor_specs(gen)}


def body_limit(gen: OnnxGenerator, max_rows: int) -> int:
    """Largest request body: ``max_rows`` rows of noise and conditions as JSON text, at most
    :data:`MAX_BODY_BYTES` (bodies are read before a sampling slot is taken, so this bounds the
    memory of requests waiting their turn; binary tensors need a sixth of the JSON size)."""
    return min(MAX_BODY_BYTES, _HEADER_BYTES + max_rows * (gen.noise_dim + 1) * _BYTES_PER_VALUE)


def _split_body(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    if header_length is None:
        head, rest = body, b""
    else:
        if not header_length.strip().isdigit() or int(header_length) > len(body):
            raise ApiError(400, f"invalid {HEADER_LENGTH} header {header_length!r} for a body "
                                f"of {len(body)} bytes")
        head, rest = body[: int(header_length)], body[int(header_length):]
    request = json_object(head, _REQUEST_KEYS, '{"inputs": [...]}')
    return request, rest


def _shape(tensor: dict[str, Any], name: str) -> tuple[int, ...]:
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ApiError(400, f'input {name!r}: "shape" must be a list of non-negative integers; '
                            f"got {shape!r}")
    return tuple(shape)


def _input_array(tensor: dict[str, Any], binary: bytes, offset: int) -> tuple[np.ndarray, int]:
    """One input tensor as an array of its declared shape, and the new offset into ``binary``."""
    name = tensor["name"]
    datatype = tensor.get("datatype")
    accepted = _ACCEPTED[name]
    if datatype not in accepted:
        raise ApiError(400, f"input {name!r} must have datatype {' or '.join(accepted)}; "
                            f"got {datatype!r}")
    dtype = np.dtype(_NUMPY[datatype])
    shape = _shape(tensor, name)
    count = int(np.prod(shape, dtype=np.int64))
    params = tensor.get("parameters") or {}
    if not isinstance(params, dict):
        raise ApiError(400, f'input {name!r}: "parameters" must be an object')
    size = params.get("binary_data_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size != count * dtype.itemsize:
            raise ApiError(400, f"input {name!r}: binary_data_size {size!r} does not match shape "
                                f"{list(shape)} of {datatype} ({count * dtype.itemsize} bytes)")
        if offset + size > len(binary):
            raise ApiError(400, f"input {name!r}: the body holds fewer binary bytes than declared")
        array = np.frombuffer(binary, dtype=dtype.newbyteorder("<"), count=count, offset=offset)
        return array.reshape(shape), offset + size
    if "data" not in tensor:
        raise ApiError(400, f'input {name!r} needs "data" (or binary data)')
    try:
        array = np.asarray(tensor["data"])
    except ValueError as exc:  # ragged nesting
        raise ApiError(400, f'input {name!r}: "data" is not a regular array: {exc}') from None
    allowed = "iuf" if dtype.kind == "f" else "iu"  # no float class indices, no booleans
    if array.dtype.kind not in allowed and array.size:
        raise ApiError(400, f'input {name!r}: "data" must hold {datatype} numbers')
    if array.size != count:
        raise ApiError(400, f"input {name!r}: {array.size} values do not fill shape {list(shape)}")
    if dtype.kind in "iu" and array.size and (array.min() < np.iinfo(dtype).min
                                              or array.max() > np.iinfo(dtype).max):
        raise ApiError(400, f"input {name!r}: values out of {datatype} range")
    return array.astype(dtype).reshape(shape), offset


def parse_infer_request(
    body: bytes, header_length: str | None, gen: OnnxGenerator, max_rows: int
) -> dict[str, Any]:
    """Validate an inference request: ``{"id", "noise", "condition", "outputs", "binary"}``.

    Raises
    ------
    ApiError
        400 for a malformed request (naming the input and what is wrong), 413 for more than
        ``max_rows`` rows.
    """
    request, binary = _split_body(body, header_length)
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(t, dict) for t in inputs):
        raise ApiError(400, '"inputs" must be a list of tensors {"name", "shape", "datatype", "data"}')
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for tensor in inputs:
        name = tensor.get("name")
        if name not in _ACCEPTED:
            raise ApiError(400, f"unknown input {name!r}; this model's inputs: noise, condition")
        if name in arrays:
            raise ApiError(400, f"input {name!r} is given twice")
        arrays[name], offset = _input_array(tensor, binary, offset)
    if offset != len(binary):
        raise ApiError(400, f"the body has {len(binary) - offset} binary bytes no input declared")
    if "condition" not in arrays:
        raise ApiError(400, 'input "condition" (the class index of each row) is required')
    condition = arrays["condition"]
    if condition.ndim != 1:
        raise ApiError(400, f'input "condition" must have shape [batch]; got {list(condition.shape)}')
    rows = len(condition)
    if rows > max_rows:
        raise ApiError(413, f"{rows} rows is over this server's limit of {max_rows} rows per request")
    params = request.get("parameters") or {}
    if not isinstance(params, dict):
        raise ApiError(400, '"parameters" must be an object')
    noise = arrays.get("noise")
    if noise is None:
        seed = params.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                 or not 0 <= seed < 2**63):
            raise ApiError(400, f'parameter "seed" must be a non-negative integer; got {seed!r}')
        noise = noise_rows(seed_from(seed), 0, rows, gen.noise_dim)
    elif noise.ndim != 2 or noise.shape != (rows, gen.noise_dim):
        raise ApiError(400, f'input "noise" must have shape [{rows}, {gen.noise_dim}] '
                            f"(one row per condition); got {list(noise.shape)}")
    n_classes = len(gen.classes_)
    if rows and (condition.min() < 0 or condition.max() >= n_classes):
        raise ApiError(400, f'input "condition" holds class indices outside [0, {n_classes})')
    if not np.isfinite(noise).all():
        raise ApiError(400, 'input "noise" holds NaN or infinite values')
    wanted = request.get("outputs")
    names = ["numeric", "codes"]
    binary_all = params.get("binary_data_output") is True
    flags = {n: binary_all for n in names}
    if wanted is not None:
        if not isinstance(wanted, list) or not all(isinstance(o, dict) for o in wanted):
            raise ApiError(400, '"outputs" must be a list of {"name": ...} objects')
        names = []
        for out in wanted:
            if out.get("name") not in flags:
                raise ApiError(400, f"unknown output {out.get('name')!r}; this model's outputs: "
                                    "numeric, codes")
            names.append(out["name"])
            out_params = out.get("parameters") or {}
            if isinstance(out_params, dict) and "binary_data" in out_params:
                flags[out["name"]] = out_params["binary_data"] is True
    request_id = request.get("id")
    return {"id": request_id if isinstance(request_id, str) else None,
            "noise": np.ascontiguousarray(noise, dtype=np.float32),
            "condition": np.ascontiguousarray(condition, dtype=np.int64),
            "outputs": [(n, flags[n]) for n in names]}


def infer(name: str, gen: OnnxGenerator, req: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """Run the graph and encode the response (runs in a worker thread): body and headers."""
    if len(req["condition"]):
        numeric, codes = gen.run(req["noise"], req["condition"])
    else:
        numeric = np.zeros((0, len(gen.metadata["outputs"]["numeric"]["columns"])), np.float32)
        codes = np.zeros((0, len(gen.metadata["outputs"]["codes"]["columns"])), np.int64)
    tensors = {"numeric": ("FP32", numeric), "codes": ("INT64", codes)}
    outputs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for out_name, binary in req["outputs"]:
        datatype, array = tensors[out_name]
        entry: dict[str, Any] = {"name": out_name, "datatype": datatype, "shape": list(array.shape)}
        if binary:
            raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:  # JSON has no NaN: a missing value is null
            flat = array.ravel()
            data = flat.tolist()
            if flat.dtype.kind == "f" and not np.isfinite(flat).all():
                data = [v if np.isfinite(v) else None for v in data]
            entry["data"] = data
        outputs.append(entry)
    response: dict[str, Any] = {"model_name": name, "model_version": MODEL_VERSION,
                                "outputs": outputs}
    if req["id"] is not None:
        response["id"] = req["id"]
    head = json.dumps(response).encode()
    if not chunks:
        return head, {"content-type": "application/json"}
    return head + b"".join(chunks), {"content-type": "application/octet-stream",
                                     HEADER_LENGTH: str(len(head))}


Lookup = Callable[[str], tuple[str, OnnxGenerator]]


def routes(
    lookup: Lookup,
    ready: Callable[[], bool],
    read_body: Callable[[Any, int], Awaitable[bytes]],
    run: Callable[..., Awaitable[Any]],
    max_rows: int,
    on_rows: Callable[[str, int], None] = lambda name, n: None,
) -> list[Any]:
    """The v2 routes, given the server's model lookup, body reader and worker-thread runner."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def server_meta(request: Request) -> Response:
        return JSONResponse(server_metadata())

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def server_ready(request: Request) -> Response:
        ok = ready()
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    def _model(request: Request) -> tuple[str, OnnxGenerator]:
        version = request.path_params.get("version")
        if version is not None and version != MODEL_VERSION:
            raise ApiError(404, f"unknown version {version!r}; served: [{MODEL_VERSION!r}]")
        return lookup(request.path_params["name"])

    async def model_meta(request: Request) -> Response:
        return JSONResponse(model_metadata(*_model(request)))

    async def model_ready(request: Request) -> Response:
        name, _ = _model(request)
        return JSONResponse({"name": name, "ready": True})

    async def infer_route(request: Request) -> Response:
        name, gen = _model(request)
        body = await read_body(request, body_limit(gen, max_rows))
        req = parse_infer_request(body, request.headers.get(HEADER_LENGTH), gen, max_rows)
        content, headers = await run(infer, name, gen, req)
        on_rows(name, len(req["condition"]))
        media = headers.pop("content-type")
        return Response(content, media_type=media, headers=headers)

    return [
        Route("/v2", server_meta, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", server_ready, methods=["GET"]),
        Route("/v2/models/{name}", model_meta, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", model_meta, methods=["GET"]),
        Route("/v2/models/{name}/ready", model_ready, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}/ready", model_ready, methods=["GET"]),
        Route("/v2/models/{name}/infer", infer_route, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", infer_route, methods=["POST"]),
    ]
