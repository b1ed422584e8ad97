"""Process-wide request pacing, one bucket per (endpoint, kind).

Custom Vision limits each key to a number of transactions per second (10 on the paid tier,
2 on the free tier) and TrainProject separately. Every attempt of every request, retries
included, first takes a slot from the bucket of its endpoint; TrainProject also takes one
from the "training" bucket. All clients of the process share the buckets, so several
resources created in parallel (Pulumi runs them in threads) stay under the limit together.

A bucket is a token bucket with a burst of one: slots are handed out at least ``1 / rate``
seconds apart (plus a 3 % safety margin against network jitter), in arrival order. A
thread that wakes up late for its slot does not crowd the next one: actual starts are also
gated to be ``1 / rate`` apart. So in any half-open one-second window at most ``rate``
requests start (``ceil(rate)`` for a fractional rate). A rate of ``0`` or ``None`` turns
the bucket off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = [
    "KIND_REQUESTS",
    "KIND_TRAINING",
    "SAFETY_MARGIN",
    "RateLimiter",
    "limiter_for",
    "reset_limiters",
]

KIND_REQUESTS = "requests"
"""The bucket every request takes a slot from."""

KIND_TRAINING = "training"
"""The additional bucket of TrainProject."""

SAFETY_MARGIN = 0.03
"""Intervals are ``(1 + SAFETY_MARGIN) / rate``: N + 1 starts span at least 1.03 s, so
jitter on the way (up to ~30 ms at any rate) cannot make the service count N + 1 in a second."""


class RateLimiter:
    """Hands out start times at most ``rate`` per second, in order, to any number of threads.

    ``clock`` and ``sleep`` default to :func:`time.monotonic` and :func:`time.sleep`; tests
    pass a fake clock.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        margin: float = SAFETY_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._margin = margin
        self._next_start = float("-inf")  # the next slot to hand out
        self._last_start = float("-inf")  # when the last request actually started
        self._hold_until = float("-inf")  # no start before this (429 Retry-After)
        self._interval = 0.0
        self._rate: float | None = None
        self.set_rate(rate)

    @property
    def rate(self) -> float | None:
        """Requests per second, or ``None`` when the limiter is off."""
        return self._rate

    def set_rate(self, rate: float | None) -> None:
        """Change the rate (``0``/``None``: off). Slots already handed out stay valid."""
        if rate is not None and rate < 0:
            raise ValueError(f"a rate limit must be positive or 0 (off), not {rate}")
        with self._lock:
            self._rate = rate if rate else None
            self._interval = (1.0 + self._margin) / rate if rate else 0.0

    def reserve(self) -> float:
        """Take the next slot and return how many seconds to wait before starting."""
        with self._lock:
            if self._rate is None:
                return 0.0
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
            return start - now

    def acquire(self) -> float:
        """Wait for the next slot, then until the previous start is ``1 / rate`` ago (a
        thread woken late for an earlier slot may have just started); return the wait."""
        waited = self.reserve()
        if waited > 0:
            self._sleep(waited)
        while True:
            with self._lock:
                if self._rate is None:
                    return waited
                now = self._clock()
                gap = max(self._last_start + self._interval, self._hold_until) - now
                if gap <= 0:
                    self._last_start = now
                    return waited
            self._sleep(gap)
            waited += gap

    def hold_off(self, seconds: float) -> None:
        """Start nothing for the next ``seconds`` (the service said 429 Retry-After)."""
        with self._lock:
            if self._rate is None or seconds <= 0:
                return
            until = self._clock() + seconds
            self._hold_until = max(self._hold_until, until)
            self._next_start = max(self._next_start, until)

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self._rate})"


_registry_lock = threading.Lock()
_registry: dict[tuple[str, str], RateLimiter] = {}


def limiter_for(endpoint: str, kind: str, rate: float | None) -> RateLimiter:
    """Return the process-wide limiter of ``(endpoint, kind)``, set to ``rate``.

    The same endpoint always gets the same limiter, whichever client asks; the last rate
    configured wins (clients of one endpoint normally share one configuration).
    """
    key = (endpoint.rstrip("/").lower(), kind)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(rate)
            return limiter
    if limiter.rate != (rate if rate else None):
        limiter.set_rate(rate)
    return limiter


def reset_limiters() -> None:
    """Forget every process-wide limiter (for tests)."""
    with _registry_lock:
        _registry.clear()
