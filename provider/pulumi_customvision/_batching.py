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
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ._rest import TrainingClient, models
from ._rest import errors as rest_errors
from ._rest.client import MAX_IDS_PER_GET

CREATE_ROUNDS = 3
"""How many times in all an image or region whose creating call got no clear answer is
sent (as ``Context.create_or_find`` sends a single object): safe, because the lookup in
between adopts what a lost answer made, and the service answers ``duplicated`` (regions)
or ``OKDuplicate`` (images) for what it already has."""

B = TypeVar("B")
R = TypeVar("R")
T = TypeVar("T")
_B = TypeVar("_B")
_R = TypeVar("_R")

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
    call: Callable[[_B], _R], batches: Sequence[_B], *, workers: int = DEFAULT_WORKERS
) -> tuple[list[_R | None], Exception | None]:
    """Run ``call`` on every batch, several at a time, and keep what succeeded.

    Returns the answers in batch order (``None`` for a batch that failed or was skipped)
    and the first failure (lowest batch index), or ``None`` if every batch succeeded. After
    a failure no further batch is started; the batches in flight finish, so the answers
    show everything that was done.
    """
    stop = threading.Event()

    def run(batch: _B) -> _R:
        if stop.is_set():
            return _SKIPPED  # type: ignore[no-any-return]
        try:
            return call(batch)
        except Exception:
            stop.set()
            raise

    answers: list[_R | None] = [None] * len(batches)
    failure: Exception | None = None

    def collect(index: int, outcome: Callable[[], _R]) -> None:
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
    call: Callable[[_B], _R], batches: Sequence[_B], *, workers: int = DEFAULT_WORKERS
) -> list[_R]:
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


@dataclass
class Creates(Generic[B, R]):
    """The outcome of creating calls run with :func:`run_creates`.

    Attributes:
        answered: ``(batch, answer)`` for every call that answered.
        unclear: The batches whose call may or may not have been applied (the answer was
            lost); the caller looks up what exists instead of repeating them blindly.
        failure: The first other failure, or ``None``.
        unclear_errors: Why the ``unclear`` batches are unclear (the errors raised, with
            ``may_have_succeeded`` set), in no particular order.
    """

    answered: list[tuple[B, R]]
    unclear: list[B]
    failure: Exception | None
    unclear_errors: list[rest_errors.CustomVisionError] = field(default_factory=list)


def run_creates(
    call: Callable[[B], R], batches: Sequence[B], *, workers: int = DEFAULT_WORKERS
) -> Creates[B, R]:
    """Run creating calls (never repeated by the client) and sort out their outcomes."""
    unclear = [False] * len(batches)
    errors: list[rest_errors.CustomVisionError] = []

    def one(item: tuple[int, B]) -> list[R]:
        index, batch = item
        try:
            return [call(batch)]
        except rest_errors.CustomVisionError as exc:
            if not exc.may_have_succeeded:
                raise
            unclear[index] = True
            errors.append(exc)  # list.append is atomic: safe from the pool's threads
            return []

    answers, failure = run_batches_partial(one, list(enumerate(batches)), workers=workers)
    return Creates(
        answered=[(b, a[0]) for b, a in zip(batches, answers, strict=True) if a],
        unclear=[b for b, lost in zip(batches, unclear, strict=True) if lost],
        failure=failure,
        unclear_errors=errors,
    )


class ProjectWriter:
    """Batched writes to the images of one project (the base of the Images and ImageRegions
    writers): the client, the project, and the lookup both need before and after writing."""

    def __init__(self, client: TrainingClient, project_id: str) -> None:
        self.client = client
        self.project_id = project_id

    def existing(self, image_ids: Iterable[str]) -> dict[str, models.Image]:
        """GetImagesByIds, 256 ids per call, concurrently: the images that exist, by id."""
        answers = run_batches(
            lambda batch: self.client.get_images_by_ids(self.project_id, batch),
            chunked(sorted(set(image_ids)), MAX_IDS_PER_GET),
        )
        return {image.id.lower(): image for answer in answers for image in answer}


class Registrar(Protocol):
    """Where undo steps are registered (the lifecycle's ``Context``)."""

    def on_failure(self, description: str, undo: Callable[[], object], /) -> None:
        """Register how to undo a step if a later step fails."""
