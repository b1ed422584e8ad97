"""Pacing: at most N starts in any half-open one-second window, shared by threads."""

from __future__ import annotations

import itertools
import math
import threading
import time

import pytest

from pulumi_customvision._rest import ratelimit
from pulumi_customvision._rest.ratelimit import RateLimiter, limiter_for
from tests.conftest import FakeClock

from .windows import max_in_any_window, on_threads


def test_window_counter() -> None:
    assert max_in_any_window([0.0, 0.5, 0.999, 1.0, 1.5]) == 3
    assert max_in_any_window([0.0, 1.0, 2.0]) == 1
    assert max_in_any_window([]) == 0


@pytest.mark.parametrize("rate", [1, 2, 10, 7.5, 100])
def test_starts_per_window_never_exceed_the_rate(rate: float) -> None:
    clock = FakeClock(1000.0)
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(int(rate * 5) + 3):
        limiter.acquire()
        starts.append(clock.now)
    assert max_in_any_window(starts) <= math.ceil(rate)
    # and it is not much slower than the rate: N starts take about (N - 1) / rate seconds
    assert starts[-1] - starts[0] <= (len(starts) - 1) * 1.05 / rate


def test_idle_time_does_not_build_up_a_burst() -> None:
    clock = FakeClock(1000.0)
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 60  # idle for a minute
    starts = []
    for _ in range(12):
        limiter.acquire()
        starts.append(clock.now)
    assert max_in_any_window(starts) <= 5


def test_zero_or_none_disables() -> None:
    for rate in (0, None):
        clock = FakeClock(1000.0)
        limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
        for _ in range(100):
            assert limiter.acquire() == 0
        assert clock.now == 1000.0


def test_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="positive or 0"):
        RateLimiter(-1)


def test_hold_off_delays_the_next_slots() -> None:
    clock = FakeClock(1000.0)
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.hold_off(2.0)
    limiter.acquire()
    assert clock.now >= 1002.0


def test_threads_share_one_limiter_in_real_time() -> None:
    limiter = RateLimiter(20)
    starts: list[float] = []
    lock = threading.Lock()

    def start() -> None:
        limiter.acquire()
        with lock:
            starts.append(time.monotonic())

    assert not on_threads(start, each=5, timeout=30)
    assert len(starts) == 40
    assert max_in_any_window(starts) <= 20


def test_limiters_are_shared_per_endpoint_and_kind() -> None:
    ratelimit.reset_limiters()
    try:
        a = limiter_for("https://x.example/", ratelimit.KIND_REQUESTS, 10)
        b = limiter_for("https://X.example", ratelimit.KIND_REQUESTS, 10)
        c = limiter_for("https://x.example", ratelimit.KIND_TRAINING, 2)
        d = limiter_for("https://y.example", ratelimit.KIND_REQUESTS, 10)
        assert a is b and a is not c and a is not d
        assert limiter_for("https://x.example", ratelimit.KIND_REQUESTS, 3) is a
        assert a.rate == 3
    finally:
        ratelimit.reset_limiters()


def test_a_start_woken_late_does_not_crowd_the_next_one() -> None:
    clock = FakeClock(1000.0)
    oversleep = {"seconds": 0.0}

    def late_sleep(seconds: float) -> None:
        clock.sleep(seconds + oversleep["seconds"])

    limiter = RateLimiter(10, clock=clock, sleep=late_sleep)
    starts = []
    for lateness in (0.0, 0.08, 0.0, 0.0):
        oversleep["seconds"] = lateness
        limiter.acquire()
        starts.append(clock.now)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 0.1, gaps
