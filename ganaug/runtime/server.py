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
import logging
import os
from collections.abc import Sequence
from typing import Any

from ganaug._version import __version__
from ganaug.core.limits import positive_int
from ganaug.runtime import metrics as _metrics
from ganaug.runtime import oip
from ganaug.runtime.api_errors import ApiError
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
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route
except ImportError as _exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "serving needs starlette and uvicorn: pip install 'ganaug[serve]'"
    ) from _exc

# after the check above: the endpoint needs starlette too
from ganaug.runtime.sample_endpoint import (  # noqa: F401 (SAMPLE_KEYS, ...: re-exported)
    MAX_BODY_BYTES,
    SAMPLE_KEYS,
    finite,
    label_column,
    negotiate_format,
    parse_sample_request,
    read_body,
    sample_response,
    summary,
)

logger = logging.getLogger("ganaug.runtime.server")

DEFAULT_MAX_ROWS = 100_000
#: sampling calls running at once, server-wide (``max_concurrent``)
DEFAULT_MAX_CONCURRENT = 4
#: seconds between checks of the model files by :func:`serve` (``--reload-interval``)
DEFAULT_RELOAD_INTERVAL = 2.0
#: seconds a request body may take to arrive (408 after): a stalled client must not hold a
#: connection and its worker (a 64 KiB body takes milliseconds)
DEFAULT_BODY_TIMEOUT = 5.0


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
            finite({**summary(name, gen), "max_rows": max_rows, "metadata": gen.metadata})
        )

    async def sample(request: Request) -> Response:
        name, gen = lookup(request.path_params["name"])
        try:
            body = await asyncio.wait_for(read_body(request), body_timeout)
        except asyncio.TimeoutError:
            raise ApiError(408, f"the request body did not arrive within {body_timeout:g} s") from None
        req = parse_sample_request(body, gen, max_rows, request.headers.get("accept"))
        response = await in_worker(sample_response, name, gen, req)
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
