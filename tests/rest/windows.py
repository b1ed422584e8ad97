"""Counting request starts per half-open one-second window."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence


def max_in_any_window(times: Sequence[float], window: float = 1.0) -> int:
    """The largest number of ``times`` inside any half-open window ``[t, t + window)``.

    The maximum is reached by a window starting at one of the times.
    """
    ordered = sorted(times)
    return max(
        (bisect_left(ordered, start + window) - index for index, start in enumerate(ordered)),
        default=0,
    )
