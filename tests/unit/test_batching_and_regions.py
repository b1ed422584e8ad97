"""Pure tests: the batching helpers and the canonical form of region sets (no service)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from pulumi_customvision._batching import (
    chunked,
    run_batches,
    run_batches_partial,
    run_creates,
    run_deletes,
)
from pulumi_customvision._rest import errors
from pulumi_customvision.image_regions import (
    ImageRegionsArgs,
    Region,
    compact,
    full_id,
    region_key,
    revision_of,
    short_id,
    to_micro,
)
from pulumi_customvision.images import ImagesArgs, image_format

PROJECT = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f"
IMAGE = "4d6eb844-42ee-42bc-bd6f-c32455ef07c9"
TAG = "b607964f-7bd6-4a3b-a869-6791fb6aab87"


def test_chunked() -> None:
    assert chunked(range(5), 2) == [[0, 1], [2, 3], [4]]
    assert chunked([], 64) == []
    with pytest.raises(ValueError):
        chunked([1], 0)


def test_run_batches_runs_concurrently_and_keeps_order() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def call(batch: list[int]) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return sum(batch)

    assert run_batches(call, chunked(range(20), 2), workers=4) == [
        i + i + 1 for i in range(0, 20, 2)
    ]
    assert peak > 1


def test_a_failure_stops_new_batches_and_keeps_what_succeeded() -> None:
    started: list[int] = []

    def call(batch: int) -> int:
        started.append(batch)
        if batch == 1:
            raise RuntimeError("boom")
        return batch * 10

    answers, failure = run_batches_partial(call, [0, 1, 2, 3], workers=1)
    assert answers == [0, None, None, None] and str(failure) == "boom"
    assert started == [0, 1]
    with pytest.raises(RuntimeError, match="boom"):
        run_batches(call, [0, 1, 2])


def test_run_deletes_tolerates_not_found() -> None:
    seen: list[list[str]] = []

    def delete(batch: list[str]) -> None:
        seen.append(batch)
        raise errors.NotFound("NotFound", "gone", 404)

    run_deletes(delete, ["b", "a", "a", "c"], 2)
    assert sorted(map(tuple, seen)) == [("a", "b"), ("c",)]


def test_run_creates_sorts_out_lost_answers() -> None:
    def call(batch: int) -> int:
        if batch == 2:
            lost = errors.TransportError("ConnectionDropped", "dropped", None)
            lost.may_have_succeeded = True
            raise lost
        return batch * 10

    outcome = run_creates(call, [1, 2, 3], workers=1)
    assert outcome.answered == [(1, 10), (3, 30)]
    assert outcome.unclear == [2] and outcome.failure is None

    def refused(batch: int) -> int:
        raise errors.BadRequest("BadRequest", "no", 400)

    assert isinstance(run_creates(refused, [1]).failure, errors.BadRequest)


def test_canonical_rounding() -> None:
    assert to_micro(0.1234564) == 123456
    assert to_micro(0.1234566) == 123457
    assert to_micro(1.0) == 1_000_000


def _args(regions: list[dict[str, object]]) -> ImageRegionsArgs:
    return ImageRegionsArgs.model_validate({"project_id": PROJECT, "regions": regions})


def test_the_stored_form_is_compact_and_round_trips() -> None:
    regions = [
        {"image_id": IMAGE, "tag_id": TAG, "left": 0.5, "top": 0.25, "width": 0.125, "height": 0.5},
        {"image_id": IMAGE, "tag_name": "bolt", "left": 0, "top": 0, "width": 1, "height": 1},
        Region(image_id=IMAGE.upper(), tag_id=TAG, left=0.1, top=0.1, width=0.1, height=0.1),
    ]
    args = _args(regions)  # type: ignore[arg-type]
    stored = args.model_dump(mode="json")["regions"]
    assert stored == {
        "tags": [{"id": TAG}, {"name": "bolt"}],
        "images": {
            IMAGE: [
                "0 100000 100000 100000 100000",
                "0 500000 250000 125000 500000",
                "1 0 0 1000000 1000000",
            ]
        },
    }
    again = ImageRegionsArgs.model_validate({"project_id": PROJECT, "regions": stored})
    assert again == args
    assert revision_of(again.regions) == revision_of(args.regions)
    assert compact(again.regions) == stored


def test_reordering_is_no_change_and_any_change_is() -> None:
    a = {"image_id": IMAGE, "tag_id": TAG, "left": 0.5, "top": 0.25, "width": 0.1, "height": 0.5}
    b = {**a, "left": 0.1}
    assert revision_of(_args([a, b]).regions) == revision_of(_args([b, a]).regions)
    assert revision_of(_args([a, b]).regions) != revision_of(_args([a]).regions)
    assert revision_of(_args([a]).regions) != revision_of(_args([{**a, "top": 0.250001}]).regions)
    # below the canonical rounding (millionths) is no change
    assert revision_of(_args([a]).regions) == revision_of(_args([{**a, "top": 0.2500004}]).regions)


def test_region_keys_and_short_ids() -> None:
    key = region_key(TAG, 1, 2, 3, 4)
    assert len(key) == 8 and key == region_key(TAG.upper(), 1, 2, 3, 4)
    assert key != region_key(TAG, 1, 2, 3, 5)
    rid = str(uuid.uuid4())
    assert len(short_id(rid)) == 22 and full_id(short_id(rid)) == rid and full_id(rid) == rid


def test_images_args_normalize_and_refuse() -> None:
    args = ImagesArgs.model_validate(
        {"project_id": PROJECT, "urls": ["https://b/2.jpg", "https://a/1.jpg"], "tag_ids": [TAG]}
    )
    assert args.urls == ("https://a/1.jpg", "https://b/2.jpg")
    with pytest.raises(ValueError, match="listed twice"):
        ImagesArgs.model_validate({"project_id": PROJECT, "urls": ["https://a/1.jpg"] * 2})
    assert image_format(b"\x89PNG\r\n\x1a\n....") == "PNG"
    assert image_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert image_format(b"RIFF....WEBP") is None
