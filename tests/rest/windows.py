"""Helpers of the pacing tests: request starts per half-open one-second window, and
calls made from several threads at once."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence


def max_in_any_window(times: Sequence[float], window: float = 1.0) -> int:
    """The largest number of ``times`` inside any half-open window ``[t, t + window)``.

    The maximum is reached by a window starting at one of the times.
    """
    ordered = sorted(times)
    return max(
        (bisect_left(ordered, start + window) - index for index, start in enumerate(ordered)),
        default=0,
    )


def on_threads(
    call: Callable[[], object], each: int, threads: int = 8, timeout: float = 60
) -> list[BaseException]:
    """Call ``call`` ``each`` times on each of ``threads`` threads started together (joined
    within ``timeout``); return what the threads raised (a thread stops at its first)."""
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(each):
                call()
        except BaseException as exc:  # pragma: no cover - reported to the caller
            failures.append(exc)

    started = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=timeout)
    return failures
