"""Errors the emulated service answers with, in the service's two body shapes."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A service error: ``{"code", "message"}`` with the status the code family implies."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else status_for(code)

    def body(self) -> dict[str, Any]:
        """The service's error body (``CustomVisionError`` in the specs)."""
        return {"code": self.code, "message": self.message}


def status_for(code: str) -> int:
    """The HTTP status of a ``CustomVisionErrorCodes`` value, by its family prefix."""
    for prefix, status in (
        ("BadRequest", 400),
        ("UnsupportedMediaType", 415),
        ("Forbidden", 403),
        ("NotFound", 404),
        ("Conflict", 409),
    ):
        if code.startswith(prefix):
            return status
    return 500


def gateway_body(status: int, message: str) -> dict[str, Any]:
    """The API gateway's error shape, used for 401 (key) and 429 (throttling)."""
    return {"error": {"code": str(status), "message": message}}


UNAUTHORIZED_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
