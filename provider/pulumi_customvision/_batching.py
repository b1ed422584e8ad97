"""Service-sized batches, run several at a time within the client's rate limit.

The Training API takes images and regions in batches (64 per create, 64 region ids per
delete, 256 image ids per read). A collection resource splits its work with
:func:`chunked` and runs the batches with :func:`run_batches`: a small thread pool keeps
several calls in flight, and the client's process-wide rate limiter (``_rest/ratelimit.py``)
spaces their start times, so a large collection goes at the rate limit and no faster.

When a batch fails, no further batch is started, the batches already in flight finish,
and the answers of those that succeeded are kept, so that the caller
can undo exactly what was made (:func:`run_batches_partial`).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ._rest import errors as rest_errors

B = TypeVar("B")
R = TypeVar("R")
T = TypeVar("T")

DEFAULT_WORKERS = 8
"""Calls in flight at once. The rate limiter, not this number, sets the pace: a few calls
in flight cover the service's latency (at 10 requests/s and 100 ms, two would do)."""


def chunked(items: Iterable[T], size: int) -> list[list[T]]:
    """``items`` in consecutive lists of at most ``size``."""
    if size < 1:
        raise ValueError(f"a batch size must be at least 1, not {size}")
    listed = list(items)
    return [listed[i : i + size] for i in range(0, len(listed), size)]


_SKIPPED: Any = object()


def run_batches_partial(
    call: Callable[[B], R], batches: Sequence[B], *, workers: int = DEFAULT_WORKERS
) -> tuple[list[R | None], Exception | None]:
    """Run ``call`` on every batch, several at a time, and keep what succeeded.

    Returns the answers in batch order (``None`` for a batch that failed or was skipped)
    and the first failure (lowest batch index), or ``None`` if every batch succeeded. After
    a failure no further batch is started; the batches in flight finish, so the answers
    show everything that was done.
    """
    stop = threading.Event()

    def run(batch: B) -> R:
        if stop.is_set():
            return _SKIPPED  # type: ignore[no-any-return]
        try:
            return call(batch)
        except Exception:
            stop.set()
            raise

    answers: list[R | None] = [None] * len(batches)
    failure: Exception | None = None

    def collect(index: int, outcome: Callable[[], R]) -> None:
        nonlocal failure
        try:
            result = outcome()
        except Exception as exc:
            failure = failure or exc
            return
        if result is not _SKIPPED:
            answers[index] = result

    if len(batches) <= 1 or workers <= 1:
        for index, batch in enumerate(batches):
            collect(index, functools.partial(run, batch))
    else:
        with ThreadPoolExecutor(
            max_workers=min(workers, len(batches)), thread_name_prefix="customvision-batch"
        ) as pool:
            futures = [pool.submit(run, batch) for batch in batches]
            for index, future in enumerate(futures):
                collect(index, future.result)
    return answers, failure


def run_batches(
    call: Callable[[B], R], batches: Sequence[B], *, workers: int = DEFAULT_WORKERS
) -> list[R]:
    """Run ``call`` on every batch, several at a time; return the answers in batch order.

    Raises:
        Exception: the first failure of a batch, as it was raised (later batches are not
            started).
    """
    answers, failure = run_batches_partial(call, batches, workers=workers)
    if failure is not None:
        raise failure
    return answers  # type: ignore[return-value]


def run_deletes(
    delete: Callable[[list[str]], None],
    ids: Iterable[str],
    size: int,
    *,
    workers: int = DEFAULT_WORKERS,
) -> None:
    """Delete ``ids`` in batches of ``size``; ids that are already gone are not an error.

    Raises:
        Exception: the first batch that failed for another reason than "not found".
    """

    def one(batch: list[str]) -> None:
        with contextlib.suppress(rest_errors.NotFound):
            delete(batch)

    run_batches(one, chunked(sorted(set(ids)), size), workers=workers)


class Undo:
    """Undo steps for an update (the lifecycle's ``Context.on_failure`` covers creates).

    It has the same ``on_failure(description, step)`` signature, so a helper that registers
    undo steps works in both.
    """

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def on_failure(self, description: str, step: Callable[[], object]) -> None:
        """Register how to undo a step if a later step fails."""
        self._steps.append((description, step))

    def roll_back(self) -> list[str]:
        """Undo the registered steps, newest first; return what could not be undone."""
        left: list[str] = []
        for description, step in reversed(self._steps):
            try:
                step()
            except rest_errors.NotFound:
                pass
            except Exception as exc:
                left.append(f"{description} ({exc})")
        self._steps.clear()
        return left
