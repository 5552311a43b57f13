"""The sample endpoint of :mod:`ganaug.runtime.server`: the request body read with a cap, its keys
checked (400, 413, 422), the response format negotiated (JSON or CSV), the rows generated and
serialised; also a served model's JSON summary."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ganaug.core.conditions import check_conditions_for
from ganaug.core.errors import ConditionError
from ganaug.core.labels import find_typed_label, to_python
from ganaug.core.noise import conditions_from_counts, seed_from, split_counts
from ganaug.core.protocol import has_label
from ganaug.runtime.api_errors import ApiError, json_object
from ganaug.runtime.generator import OnnxGenerator

#: request bodies larger than this are refused (413)
MAX_BODY_BYTES = 64 * 1024
SAMPLE_KEYS = frozenset({"n", "class", "seed", "format", "where"})
_MAX_SEED = 2**63 - 1


def summary(name: str, gen: OnnxGenerator) -> dict[str, Any]:
    """A short JSON description of a served model."""
    meta = gen.metadata
    return {
        "name": name,
        "task": gen.task,
        "target": gen.target,
        "columns": [c.name for c in gen.schema.columns],
        "dtypes": {str(c.name): c.dtype for c in gen.schema.columns},
        "container": gen.schema.container,
        "classes": [to_python(c) for c in gen.classes_],
        "class_counts": [int(c) for c in gen.class_counts_],
        "noise_dim": gen.noise_dim,
        "ganaug_version": meta.get("ganaug_version"),
        "format_version": meta.get("format_version"),
    }


def _too_large() -> ApiError:
    return ApiError(413, f"request body is larger than {MAX_BODY_BYTES} bytes")


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, at most ``limit`` bytes (413 above it).

    A ``Content-Length`` over the limit is refused before a byte is read (a client that
    announces 10 GB and sends 7 bytes gets its answer at once); a body without one is read
    chunk by chunk and refused as soon as it passes the limit, so memory never grows with it.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, f"invalid Content-Length header {declared!r}")
        if int(declared) > limit:
            raise _too_large()
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large()
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "the client disconnected before sending the whole body") from None
    return b"".join(chunks)


def parse_sample_request(
    body: bytes, gen: OnnxGenerator, max_rows: int, accept: str | None = None
) -> dict[str, Any]:
    """The checked body of ``POST /v1/models/{name}/sample``: ``{"n", "seed", "format", "index",
    "where"}`` (an :class:`~ganaug.runtime.api_errors.ApiError` with its status otherwise)."""
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    req = json_object(body, SAMPLE_KEYS, '{"n": 100}')
    if "n" not in req:
        raise ApiError(400, '"n" (the number of rows) is required')
    n = req["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ApiError(400, f'"n" must be a positive integer; got {n!r}')
    if n > max_rows:
        raise ApiError(413, f'"n"={n} is over this server\'s limit of {max_rows} rows per request')
    seed = req.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_SEED):
        raise ApiError(400, f'"seed" must be a non-negative integer; got {seed!r}')
    fmt = req.get("format") or negotiate_format(accept)
    if fmt not in ("json", "csv"):
        raise ApiError(400, f'"format" must be "json" or "csv"; got {fmt!r}')
    label = req.get("class")
    index = None
    if label is not None:
        if not has_label(gen):
            raise ApiError(422, 'this model has no classes: leave out "class"')
        if isinstance(label, bool) or not isinstance(label, (str, int, float)):
            # true is not class 1 (as it is not n=1): a label is one string or number
            raise ApiError(400, f'"class" must be a single label (a string or a number); got {label!r}')
        index = _class_index(gen, label)
    where = _parse_where(req.get("where"), gen)
    if gen.label_name in where and has_label(gen):
        if index is not None:
            raise ApiError(400, 'give the class either as "class" or in "where", not both')
        index = _class_index(gen, where.pop(gen.label_name))
    return {"n": n, "seed": seed_from(seed), "format": fmt, "index": index, "where": where}


def _parse_where(where: Any, gen: OnnxGenerator) -> dict[str, Any]:
    """``"where"``: column -> a value, null (missing), a list of values, or ``{"min", "max"}``."""
    if where is None:
        return {}
    if not isinstance(where, dict):
        raise ApiError(400, f'"where" must be an object of column -> condition; got {where!r}')
    out: dict[str, Any] = {}
    for column, value in where.items():
        if isinstance(value, dict):
            extra = sorted(set(value) - {"min", "max"})
            bounds = [value.get("min"), value.get("max")]
            if extra or not all(b is None or (isinstance(b, (int, float)) and not isinstance(b, bool)) for b in bounds):
                raise ApiError(400, f'"where" on {column!r}: a range is {{"min": number, "max": number}}')
            value = tuple(bounds)
        elif isinstance(value, list):
            if not all(isinstance(v, (str, int, float)) for v in value):
                raise ApiError(400, f'"where" on {column!r}: a list holds strings or numbers')
        elif value is not None and not isinstance(value, (str, int, float)):
            raise ApiError(400, f'"where" on {column!r}: {value!r} is not a value')
        out[column] = value
    try:
        check_conditions_for(gen.schema, {k: v for k, v in out.items() if k != gen.label_name})
    except ConditionError as exc:
        raise ApiError(422, str(exc)) from None
    return out


def _class_index(gen: OnnxGenerator, label: Any) -> int:
    index = find_typed_label(label, gen.classes_)  # "1" for a class 1: typed labels are strings
    if index is None:
        known = [to_python(c) for c in gen.classes_]
        raise ApiError(422, f"unknown class {label!r}: this model knows {known}")
    return index


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None: JSON has no such numbers (a 500 otherwise)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def _label_column(columns: Sequence[str], preferred: Any = None) -> str:
    """The label column's name: the model's class column if it has a free one, else "label"."""
    if isinstance(preferred, str) and preferred and preferred not in columns:
        return preferred
    name = "label"
    while name in columns:
        name = f"_{name}"
    return name


def label_column(gen: OnnxGenerator, columns: Sequence[str]) -> str | None:
    """Name of the class label in served rows; None when the rows carry no class (regression)."""
    if not has_label(gen):
        return None
    # the class column's name at fit (the metadata's "target"), "label" when it had none
    return _label_column(columns, gen.metadata.get("class_column") or gen.label_name)


def negotiate_format(accept: str | None) -> str:
    """``"json"`` or ``"csv"`` from an ``Accept`` header (406 when it accepts neither).

    JSON wins ties (``*/*`` or no header); ``q=0`` excludes a type.
    """
    if not accept or not accept.strip():
        return "json"
    quality = {"json": -1.0, "csv": -1.0}
    specificity = {"json": -1, "csv": -1}
    matches = {"json": ("application/json", "application/*", "*/*"),
               "csv": ("text/csv", "text/*", "*/*")}
    for item in accept.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        for fmt, types in matches.items():
            if media.lower() in types:
                rank = len(types) - types.index(media.lower())  # the most specific match counts
                if rank > specificity[fmt]:
                    specificity[fmt], quality[fmt] = rank, q
    best = max(("json", "csv"), key=lambda f: (quality[f], f == "json"))
    if quality[best] <= 0:
        raise ApiError(406, f"cannot answer with {accept!r}: this endpoint sends application/json "
                            "or text/csv")
    return best


def sample_response(name: str, gen: OnnxGenerator, req: dict[str, Any]) -> Response:
    """Generate and serialise (runs in a worker thread)."""
    n, seed = req["n"], req["seed"]
    if not has_label(gen):
        conditions = np.zeros(n, dtype=np.int64)
    elif req["index"] is not None:
        conditions = np.full(n, req["index"], dtype=np.int64)
    else:
        conditions = conditions_from_counts(split_counts(n, gen.class_counts_))
    try:
        X = gen.generate(conditions, random_state=seed, where=req.get("where") or None)
    except ConditionError as exc:  # too rare to meet: the request asks for the impossible
        raise ApiError(422, str(exc)) from None
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    frame.columns = [str(c) for c in frame.columns]
    columns = list(frame.columns)
    label = label_column(gen, columns)
    labels = gen.classes_[conditions] if label is not None else None
    if labels is not None:
        frame = frame.assign(**{label: labels})
    if req["format"] == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv; charset=utf-8")
    rows = frame.to_json(orient="records", double_precision=15, default_handler=str)
    classes = "null" if labels is None else pd.Series(labels).to_json(
        orient="values", default_handler=str)
    head = json.dumps({"model": name, "n": n, "seed": seed, "columns": columns,
                       "label_column": label})
    body = f'{head[:-1]}, "rows": {rows}, "classes": {classes}}}'
    return Response(body, media_type="application/json")
