"""The error the HTTP server answers as JSON ``{"error": message}`` (shared by its modules)."""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """An error answered as JSON ``{"error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_object(body: bytes, allowed: frozenset[str], shape: str) -> dict[str, Any]:
    """``body`` parsed as a JSON object with keys from ``allowed`` (400 otherwise).

    ``shape`` shows what is expected, in the message for a body that is not an object.
    """
    try:
        value = json.loads(body) if body.strip() else None
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, or an integer over
        # Python's digit limit (int_max_str_digits)
        raise ApiError(400, f"malformed JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"the body must be a JSON object such as {shape}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ApiError(400, f"unknown keys {unknown}; allowed: {sorted(allowed)}")
    return value
