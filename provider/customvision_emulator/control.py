"""The emulator's controls: rate limits, fault injection and the request log."""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


class TokenBuckets:
    """One token bucket per key; ``rate`` tokens a second, as many in a burst (at least one)."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate: float) -> int:
        """Take a token: 0 when allowed, else the whole seconds to wait (>= 1, Retry-After)."""
        if rate <= 0:
            return 0
        capacity = max(1.0, rate)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0
            self._state[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))

    def clear(self) -> None:
        """Refill every bucket."""
        with self._lock:
            self._state.clear()


@dataclass
class Fault:
    """An injected failure: a status, a dropped connection and/or a delay."""

    status: int | None = None
    retry_after: int | None = None
    drop_connection: bool = False
    drop_after_handling: bool = False
    delay_ms: float = 0.0
    count: int | None = None
    fraction: float | None = None
    operation: str | None = None
    code: str | None = None
    message: str | None = None
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def public(self) -> dict[str, Any]:
        """JSON view for the admin API."""
        return {
            "status": self.status,
            "retry_after": self.retry_after,
            "drop_connection": self.drop_connection,
            "drop_after_handling": self.drop_after_handling,
            "delay_ms": self.delay_ms,
            "count": self.count,
            "fraction": self.fraction,
            "operation": self.operation,
            "code": self.code,
            "message": self.message,
            "seed": self.seed,
        }


class Faults:
    """The active faults, checked in the order they were added."""

    _FIELDS = (
        "status",
        "retry_after",
        "drop_connection",
        "drop_after_handling",
        "delay_ms",
        "count",
        "fraction",
        "operation",
        "code",
        "message",
        "seed",
    )

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> Fault:
        """Add a fault from its JSON description; without count or fraction it fires once."""
        unknown = set(spec) - set(self._FIELDS)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        fault = Fault(**{k: v for k, v in spec.items() if v is not None})
        if not (
            fault.status or fault.drop_connection or fault.drop_after_handling or fault.delay_ms
        ):
            raise ValueError(
                "a fault needs status, drop_connection, drop_after_handling or delay_ms"
            )
        if fault.fraction is not None and not 0 <= fault.fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        if fault.count is None and fault.fraction is None:
            fault.count = 1
        fault.rng = random.Random(fault.seed)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        """The active faults as JSON."""
        with self._lock:
            return [f.public() for f in self._faults]

    def pick(self, operation: str | None) -> Fault | None:
        """The fault that hits this request, if any (consumes one of a counted fault)."""
        with self._lock:
            for fault in self._faults:
                if fault.operation and fault.operation.lower() != (operation or "").lower():
                    continue
                if fault.count is not None:
                    if fault.count <= 0:
                        continue
                    fault.count -= 1
                    if fault.count == 0 and fault.fraction is None:
                        self._faults.remove(fault)
                    return fault
                if fault.fraction is not None and fault.rng.random() < fault.fraction:
                    return fault
            return None


class RequestLog:
    """The last requests (bounded) and counters per operation and status."""

    def __init__(self, limit: int = 100_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._counters: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def add(
        self,
        started: float,
        method: str,
        path: str,
        operation: str | None,
        api_version: str | None,
        status: int,
    ) -> None:
        """Record one answered (or dropped: status 0) request."""
        entry = {
            "time": started,
            "method": method,
            "path": path,
            "operation": operation,
            "api_version": api_version,
            "status": status,
        }
        with self._lock:
            self._entries.append(entry)
            per_op = self._counters.setdefault(operation or "(unknown)", {})
            per_op[str(status)] = per_op.get(str(status), 0) + 1

    def entries(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The log, optionally only one operation's requests."""
        with self._lock:
            return [
                dict(e)
                for e in self._entries
                if operation is None or (e["operation"] or "").lower() == operation.lower()
            ]

    def counters(self) -> dict[str, dict[str, int]]:
        """``{operation: {status: count}}``."""
        with self._lock:
            return {op: dict(c) for op, c in self._counters.items()}

    def clear(self) -> None:
        """Forget the log and the counters."""
        with self._lock:
            self._entries.clear()
            self._counters.clear()
