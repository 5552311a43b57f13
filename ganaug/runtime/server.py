"""Serve exported generators over HTTP: a Starlette application run by uvicorn.

Needs the ``serve`` extra (``pip install 'ganaug[serve]'``) and, like :mod:`ganaug.runtime`, neither
torch nor scikit-learn. ``ganaug serve PATH`` (or ``python -m ganaug.runtime.server PATH``) serves one
``.onnx`` file or every ``*.onnx`` file directly inside a directory; a model's name is its file
stem (made URL-safe, :func:`ganaug.runtime.repository.model_name`). A name in a URL is only ever
looked up in that table, never joined to a filesystem path, so nothing outside the served files is
reachable. New, changed and removed files are picked up every ``reload_interval`` seconds and on
``POST /v1/reload``.

Endpoints::

    GET  /health                     {"status": "ok", "models": 2, "version": "..."}
    GET  /health/live                200 while the process answers
    GET  /health/ready               200 with at least one model loaded, else 503
    GET  /metrics                    Prometheus: requests, latency histograms, rows served
    GET  /openapi.json, /docs        OpenAPI 3.1 description and a self-contained HTML page
    GET  /v1/models                  {"models": [summary, ...]}
    GET  /v1/models/{name}           summary + full "metadata" (schema, classes, ...)
    POST /v1/models/{name}/sample    body {"n": 1000, "class": "yes", "seed": 1, "format": "json"}
    POST /v1/reload                  look for new, changed and removed model files now
    /v2/...                          the Open Inference Protocol (KServe, Triton): ganaug.runtime.oip

``sample`` answers ``{"model", "n", "seed", "columns", "label_column", "rows", "classes"}``
(``rows``: one object per row, missing values as ``null``, with the class label under
``label_column``; ``classes``: the label of each row again, ``null`` for regression and
unconditional models, whose rows already hold the target) or a ``text/csv`` table with the label
as its last column, when ``"format": "csv"`` or the ``Accept`` header asks for it. Only ``n`` is
required; without ``class`` the classes come in training proportions; without ``seed`` a fresh
one is drawn (and returned, so the rows can be reproduced). Errors are JSON ``{"error": "..."}``:
400 for malformed JSON (also nested too deeply, or an integer over Python's 4,300-digit limit),
unknown keys, a bad ``n``, ``class``, ``seed`` or ``format``; 404 for an unknown model or path;
406 for an ``Accept`` header that takes neither JSON nor CSV; 413 for ``n`` over the cap
(``max_rows``) or a body over :data:`MAX_BODY_BYTES` (refused from its ``Content-Length`` before a
byte of it is read, and streamed with the cap when it has none); 422 for an unknown class.

The server binds to 127.0.0.1 unless told otherwise, and sends no CORS headers unless given
origins (``--cors``). Inference runs in a worker thread pool, off the event loop, and at most
``max_concurrent`` sampling calls run at once, server-wide (default
:data:`DEFAULT_MAX_CONCURRENT`; later requests wait their turn): memory and threads stay bounded
however many requests arrive, each call using up to ``n_threads`` sampling threads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ganaug._version import __version__
from ganaug.core.conditions import check_conditions_for
from ganaug.core.errors import ConditionError
from ganaug.core.labels import find_typed_label, to_python
from ganaug.core.limits import positive_int
from ganaug.core.noise import conditions_from_counts, seed_from, split_counts
from ganaug.runtime import metrics as _metrics
from ganaug.runtime import oip
from ganaug.runtime.api_errors import ApiError, json_object
from ganaug.runtime.generator import OnnxGenerator
from ganaug.runtime.openapi import docs_html, openapi_spec
from ganaug.runtime.repository import (  # noqa: F401 (discover, load_models: re-exported)
    ModelRepository,
    discover,
    load_models,
)

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route
except ImportError as _exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "serving needs starlette and uvicorn: pip install 'ganaug[serve]'"
    ) from _exc

logger = logging.getLogger("ganaug.runtime.server")

DEFAULT_MAX_ROWS = 100_000
#: sampling calls running at once, server-wide (``max_concurrent``)
DEFAULT_MAX_CONCURRENT = 4
#: seconds between checks of the model files by :func:`serve` (``--reload-interval``)
DEFAULT_RELOAD_INTERVAL = 2.0
#: request bodies larger than this are refused (413)
MAX_BODY_BYTES = 64 * 1024
#: seconds a request body may take to arrive (408 after): a stalled client must not hold a
#: connection and its worker (a 64 KiB body takes milliseconds)
DEFAULT_BODY_TIMEOUT = 5.0
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


def _conditional(gen: OnnxGenerator) -> bool:
    return gen.task != "regression" and not (len(gen.classes_) == 1 and gen.classes_[0] is None)


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


def _parse_sample_request(
    body: bytes, gen: OnnxGenerator, max_rows: int, accept: str | None = None
) -> dict[str, Any]:
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
        if not _conditional(gen):
            raise ApiError(422, 'this model has no classes: leave out "class"')
        if isinstance(label, bool) or not isinstance(label, (str, int, float)):
            # true is not class 1 (as it is not n=1): a label is one string or number
            raise ApiError(400, f'"class" must be a single label (a string or a number); got {label!r}')
        index = _class_index(gen, label)
    where = _parse_where(req.get("where"), gen)
    if gen.label_name in where and _conditional(gen):
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


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None: JSON has no such numbers (a 500 otherwise)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
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
    if not _conditional(gen):
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


def _sample(name: str, gen: OnnxGenerator, req: dict[str, Any]) -> Response:
    """Generate and serialise (runs in a worker thread)."""
    n, seed = req["n"], req["seed"]
    if not _conditional(gen):
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


def create_app(
    path: str | os.PathLike[str],
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    n_threads: int | None = None,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    cors_origins: Sequence[str] = (),
    reload_interval: float | None = None,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> Starlette:
    """The ASGI application serving the models found at ``path``.

    Parameters
    ----------
    path : path-like
        One ``.onnx`` file or a directory of them.
    max_rows : int, default=100000
        Largest ``n`` one request may ask for (413 above it).
    n_threads : int, optional
        Sampling threads per request (default: see :func:`ganaug.runtime.default_num_threads`).
    max_concurrent : int, default=4
        Sampling calls running at once, server-wide; later requests wait for a free slot.
    cors_origins : sequence of str, default=()
        Origins whose browsers may call the server (``["*"]`` for any); none by default.
    reload_interval : float, optional
        Seconds between checks of the model files for additions, changes and removals (while
        the application runs under a server); ``None`` or 0: only on ``POST /v1/reload``.
    body_timeout : float, default=5.0
        Seconds a request body may take to arrive; a stalled one gets 408 and the connection
        is closed.
    """
    if isinstance(body_timeout, bool) or not isinstance(body_timeout, (int, float)) or not body_timeout > 0:
        raise ValueError(f"body_timeout must be a positive number of seconds; got {body_timeout!r}")
    for name, value in (("max_rows", max_rows), ("max_concurrent", max_concurrent)):
        positive_int(value, name)
    if reload_interval is not None and not (
        isinstance(reload_interval, (int, float)) and reload_interval >= 0
    ):
        raise ValueError(f"reload_interval must be a non-negative number; got {reload_interval!r}")
    models = ModelRepository(path, n_threads=n_threads)
    slots = asyncio.Semaphore(max_concurrent)
    metrics = _metrics.Metrics(lambda: len(models)) if _metrics.available() else None

    def lookup(name: str) -> tuple[str, OnnxGenerator]:
        gen = models.get(name)  # a dict look-up only: names never touch the filesystem
        if gen is None:
            raise ApiError(404, f"unknown model {name!r}; served: {sorted(models)}")
        return name, gen

    def count_rows(name: str, n: int) -> None:
        if metrics is not None:
            metrics.add_rows(name, n)

    async def in_worker(fn: Any, *args: Any) -> Any:
        async with slots:
            return await run_in_threadpool(fn, *args)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": len(models), "version": __version__})

    async def live(request: Request) -> Response:
        return JSONResponse({"status": "live"})

    async def ready(request: Request) -> Response:
        ok = len(models) > 0
        return JSONResponse({"status": "ready" if ok else "no model loaded",
                             "models": sorted(models)}, status_code=200 if ok else 503)

    async def list_models(request: Request) -> Response:
        return JSONResponse({"models": [summary(k, g) for k, g in sorted(models.items())]})

    async def get_model(request: Request) -> Response:
        name, gen = lookup(request.path_params["name"])
        return JSONResponse(
            _finite({**summary(name, gen), "max_rows": max_rows, "metadata": gen.metadata})
        )

    async def sample(request: Request) -> Response:
        name, gen = lookup(request.path_params["name"])
        try:
            body = await asyncio.wait_for(read_body(request), body_timeout)
        except asyncio.TimeoutError:
            raise ApiError(408, f"the request body did not arrive within {body_timeout:g} s") from None
        req = _parse_sample_request(body, gen, max_rows, request.headers.get("accept"))
        response = await in_worker(_sample, name, gen, req)
        count_rows(name, req["n"])
        return response

    async def reload(request: Request) -> Response:
        report = await run_in_threadpool(models.refresh)
        return JSONResponse({**report.to_dict(), "models": sorted(models)})

    async def prometheus(request: Request) -> Response:
        if metrics is None:
            raise ApiError(501, "metrics need prometheus-client: pip install 'ganaug[serve]'")
        body, media = metrics.exposition()
        return Response(body, headers={"content-type": media})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_spec())

    async def docs(request: Request) -> Response:
        return HTMLResponse(docs_html())

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        # the rest of a stalled body may never come: close rather than wait to drain it
        headers = {"Connection": "close"} if exc.status == 408 else None
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        logger.exception("error while handling %s", request.url.path)
        return JSONResponse({"error": f"internal error: {type(exc).__name__}"}, status_code=500)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/health/live", live, methods=["GET"]),
        Route("/health/ready", ready, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{name}", get_model, methods=["GET"]),
        Route("/v1/models/{name}/sample", sample, methods=["POST"]),
        Route("/v1/reload", reload, methods=["POST"]),
        *oip.routes(lookup, lambda: len(models) > 0, read_body, in_worker, max_rows, count_rows),
    ]
    middleware = []
    if cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins),
                                     allow_methods=["GET", "POST"], allow_headers=["*"],
                                     expose_headers=[oip.HEADER_LENGTH]))
    if metrics is not None:  # outermost: counts every answer, CORS preflights included
        middleware.insert(0, Middleware(_metrics.MetricsMiddleware, metrics=metrics, routes=routes))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: server_error},
        lifespan=_poller(models, reload_interval),
    )
    app.state.models = models
    app.state.max_rows = max_rows
    app.state.max_concurrent = max_concurrent
    app.state.metrics = metrics
    return app


def _poller(models: ModelRepository, interval: float | None) -> Any:
    """A lifespan that refreshes ``models`` every ``interval`` seconds while the app runs."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        task = None
        if interval:
            async def poll() -> None:
                while True:
                    await asyncio.sleep(interval)
                    try:
                        await run_in_threadpool(models.refresh)
                    except Exception:  # keep polling: one bad pass must not stop reloads
                        logger.exception("reloading the models failed")

            task = asyncio.create_task(poll())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


def serve(
    path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    n_threads: int | None = None,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    cors_origins: Sequence[str] = (),
    reload_interval: float | None = DEFAULT_RELOAD_INTERVAL,
    log_level: str = "info",
    access_log: bool = True,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> None:
    """Serve the models at ``path`` with uvicorn until interrupted (binds to loopback by default).

    See :func:`create_app` for the parameters; ``reload_interval`` defaults to
    :data:`DEFAULT_RELOAD_INTERVAL` seconds here.
    """
    try:
        import uvicorn
    except ImportError:
        raise ImportError("serving needs uvicorn: pip install 'ganaug[serve]'") from None
    app = create_app(path, max_rows=max_rows, n_threads=n_threads, max_concurrent=max_concurrent,
                     cors_origins=cors_origins, reload_interval=reload_interval,
                     body_timeout=body_timeout)
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on %s: the models are reachable from other machines", host)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m ganaug.runtime.server PATH [--host H] [--port P] [--max-rows N]``."""
    parser = argparse.ArgumentParser(prog="python -m ganaug.runtime.server", description=__doc__.splitlines()[0])
    parser.add_argument("path", help="an .onnx file or a directory of them")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS)
    parser.add_argument("--threads", type=int, default=None, help="sampling threads per request")
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=DEFAULT_MAX_CONCURRENT,
        help="sampling calls running at once, server-wide",
    )
    parser.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                        help="let browsers on ORIGIN call the server ('*': any); repeatable")
    parser.add_argument("--reload-interval", type=float, default=DEFAULT_RELOAD_INTERVAL,
                        help="seconds between checks for new or changed model files (0: never)")
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=DEFAULT_BODY_TIMEOUT,
        help="seconds a request body may take to arrive (408 after)",
    )
    args = parser.parse_args(argv)
    serve(
        args.path,
        host=args.host,
        port=args.port,
        max_rows=args.max_rows,
        n_threads=args.threads,
        max_concurrent=args.max_concurrent,
        cors_origins=args.cors,
        reload_interval=args.reload_interval,
        log_level=args.log_level,
        body_timeout=args.body_timeout,
    )


if __name__ == "__main__":
    main()
