"""Prometheus metrics for the HTTP server (``GET /metrics``, prometheus-client).

Each application gets its own registry, so several servers (or tests) in one process do not mix
their counts. Routes are labelled by their template (``/v1/models/{name}/sample``), never by the
raw path, so a client cannot grow the label set with made-up URLs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

try:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        generate_latest,
    )
except ImportError:  # pragma: no cover - exercised only without the serve extra
    CollectorRegistry = None  # type: ignore[assignment,misc]

#: request latency buckets, seconds (a 1-row request takes about a millisecond; 1e5 rows ~ 0.2 s)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


def available() -> bool:
    """Whether prometheus-client is installed."""
    return CollectorRegistry is not None


class Metrics:
    """The server's metrics: requests, latency, rows served, models loaded.

    Parameters
    ----------
    n_models : callable
        Returns the number of models served now (read at each scrape).
    """

    def __init__(self, n_models: Callable[[], int]) -> None:
        if not available():
            raise ImportError("metrics need prometheus-client: pip install 'ganaug[serve]'")
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ganaug_requests", "HTTP requests answered, by route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "ganaug_request_duration_seconds", "Time to answer a request, by route template.",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.rows = Counter(
            "ganaug_rows_served", "Rows generated and sent, by model.", ["model"],
            registry=self.registry,
        )
        models = Gauge("ganaug_models_loaded", "Models served now.", registry=self.registry)
        models.set_function(lambda: float(n_models()))

    def add_rows(self, model: str, n: int) -> None:
        """Count ``n`` rows served by ``model``."""
        self.rows.labels(model=model).inc(n)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def route_template(routes: Sequence[Any], scope: dict[str, Any]) -> str:
    """The path template of the route that matches ``scope``, or ``"other"``."""
    from starlette.routing import Match

    for route in routes:
        match, _ = route.matches(scope)
        if match != Match.NONE:
            return getattr(route, "path", "other")
    return "other"


class MetricsMiddleware:
    """ASGI middleware counting every HTTP request and its latency into ``metrics``."""

    def __init__(self, app: Any, metrics: Metrics, routes: Sequence[Any]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(self.routes, scope)
            method = scope.get("method", "")
            method = method if method in _METHODS else "other"  # client-chosen: bound it
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=route).observe(
                time.perf_counter() - start
            )
