"""The error the HTTP server answers as JSON ``{"error": message}`` (shared by its modules)."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered as JSON ``{"error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
