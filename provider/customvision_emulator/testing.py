"""Using the emulator from Python: ``run_emulator`` and the admin client.

>>> with run_emulator(training_seconds=0.3) as emu:
...     emu.admin.inject_fault(status=503, count=1, operation="TrainProject")
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .server import BackgroundServer
from .settings import DEFAULT_TRAINING_KEY, TEST_DEFAULTS, Settings

__all__ = [
    "DEFAULT_TRAINING_KEY",
    "TEST_DEFAULTS",
    "AdminClient",
    "RunningEmulator",
    "run_emulator",
]


class AdminClient:
    """Client of the ``/_emulator/`` admin API (no key needed)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        params = {k: v for k, v in query.items() if v is not None}
        target = f"{self.url}/_emulator/{path}"
        if params:
            target += "?" + urllib.parse.urlencode(params)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(target, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise ValueError(f"admin {method} {path}: {err.code} {err.read().decode()}") from None
        return json.loads(raw) if raw else None

    def health(self) -> dict[str, Any]:
        """``GET /_emulator/health``."""
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def reset(self) -> None:
        """Empty state, no faults, no forced outcomes, log cleared (settings are kept)."""
        self._call("POST", "reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings live (``requests_per_second``, ``training_seconds``, ...)."""
        result: dict[str, Any] = self._call("POST", "settings", settings)
        return result

    def settings(self) -> dict[str, Any]:
        """The current settings."""
        result: dict[str, Any] = self._call("GET", "settings")
        return result

    def inject_fault(
        self,
        status: int | None = None,
        *,
        count: int | None = None,
        fraction: float | None = None,
        operation: str | None = None,
        retry_after: int | None = None,
        drop_connection: bool = False,
        drop_after_handling: bool = False,
        delay_ms: float | None = None,
        seed: int | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Make the next ``count`` requests (or a ``fraction`` of them) fail or stall.

        Without ``count`` or ``fraction`` the fault hits once. ``operation`` restricts it to
        one operationId. ``seed`` makes a fraction reproducible. ``drop_connection`` closes
        the connection before the request is handled; ``drop_after_handling`` handles it (the
        state changes) and then closes the connection without an answer.
        """
        spec = {
            "status": status,
            "count": count,
            "fraction": fraction,
            "operation": operation,
            "retry_after": retry_after,
            "drop_connection": drop_connection or None,
            "drop_after_handling": drop_after_handling or None,
            "delay_ms": delay_ms,
            "seed": seed,
            "code": code,
            "message": message,
        }
        result: dict[str, Any] = self._call(
            "POST", "faults", {k: v for k, v in spec.items() if v is not None}
        )
        return result

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._call("DELETE", "faults")

    def faults(self) -> list[dict[str, Any]]:
        """The active faults."""
        result: list[dict[str, Any]] = self._call("GET", "faults")
        return result

    def force_outcome(self, operation: str, outcome: str) -> None:
        """Force the outcome of the next ``TrainProject`` or ``ImportProject`` (e.g. Failed)."""
        self._call("POST", "outcomes", {"operation": operation, "outcome": outcome})

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The request log (optionally one operation's)."""
        result: list[dict[str, Any]] = self._call("GET", "requests", operation=operation)
        return result

    def counters(self) -> dict[str, dict[str, int]]:
        """``{operationId: {status: count}}``."""
        result: dict[str, dict[str, int]] = self._call("GET", "counters")
        return result

    def clear_log(self) -> None:
        """Forget the request log and counters."""
        self._call("DELETE", "requests")

    def state(self) -> dict[str, Any]:
        """The whole state in the service's JSON shapes."""
        result: dict[str, Any] = self._call("GET", "state")
        return result


@dataclass
class RunningEmulator:
    """A running emulator: its base URL (no trailing slash), key and admin client."""

    url: str
    training_key: str
    admin: AdminClient
    settings: Settings = field(repr=False)


@contextmanager
def run_emulator(**settings: Any) -> Iterator[RunningEmulator]:
    """Run an emulator in a background thread on a free port of 127.0.0.1 until exit.

    Keywords are :class:`Settings` fields (``training_seconds=0.3``, ``data_dir=...``).
    """
    settings.setdefault("port", 0)
    server = BackgroundServer(Settings(**settings))
    server.start()
    try:
        yield RunningEmulator(
            url=server.url,
            training_key=server.settings.training_key,
            admin=AdminClient(server.url),
            settings=server.settings,
        )
    finally:
        server.stop()
