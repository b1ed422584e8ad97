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
from pulumi_customvision._lifecycle import ProviderError
from pulumi_customvision._rest import errors, models
from pulumi_customvision.image_regions import (
    Entry,
    ImageRegionsArgs,
    Region,
    RegionWriter,
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
    assert [e.code for e in outcome.unclear_errors] == ["ConnectionDropped"]

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


# --------------------------------------------------------------------------- RegionWriter.create


class _Undo:
    def __init__(self) -> None:
        self.steps: list[str] = []

    def on_failure(self, description: str, undo: object, /) -> None:
        self.steps.append(description)


class _RegionService:
    """A fake client: the regions it holds, and a script of what each create call does.

    Each scripted step is ``"ok"`` (create, answer normally), ``"lost"`` (answer lost before
    the service acted), ``"lost-after"`` (the service acted, the answer was lost),
    ``"silent"`` (the service acted, the answer lists nothing), ``"no-id"`` (acted, lists
    the regions as created without their ids) or ``"unreadable"`` (acted, 200 with a body
    that is not a summary). After the script every call is ``"ok"``.
    """

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.regions: dict[tuple[str, tuple[str, float, float, float, float]], str] = {}
        self.calls = 0
        self.lookups = 0

    def _apply(
        self, entries: list[models.ImageRegionCreateEntry]
    ) -> models.ImageRegionCreateSummary:
        created, duplicated = [], []
        for e in entries:
            key = (e.image_id, (e.tag_id, e.left, e.top, e.width, e.height))
            if key in self.regions:
                duplicated.append(e)
                continue
            self.regions[key] = rid = str(uuid.uuid4())
            created.append(models.ImageRegionCreateResult(region_id=rid, **e.model_dump()))
        return models.ImageRegionCreateSummary(created=created, duplicated=duplicated, exceeded=[])

    def create_image_regions(
        self, project_id: str, entries: list[models.ImageRegionCreateEntry]
    ) -> models.ImageRegionCreateSummary:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "lost":
            raise _lost()
        summary = self._apply(entries)
        if step == "lost-after":
            raise _lost()
        if step == "silent":
            return models.ImageRegionCreateSummary(created=[], duplicated=[], exceeded=[])
        if step == "no-id":
            for region in summary.created:
                region.region_id = None
        if step == "unreadable":
            raise errors.UnexpectedResponse(
                "UnexpectedShape",
                "the response does not have the documented shape",
                None,
                "CreateImageRegions",
            )
        return summary

    def get_images_by_ids(self, project_id: str, image_ids: list[str]) -> list[models.Image]:
        self.lookups += 1
        return [
            models.Image(
                id=image_id,
                regions=[
                    models.ImageRegion(
                        region_id=rid, tag_id=tag, left=left, top=top, width=width, height=height
                    )
                    for (iid, (tag, left, top, width, height)), rid in self.regions.items()
                    if iid == image_id
                ],
            )
            for image_id in image_ids
        ]


def _lost() -> errors.TransportError:
    exc = errors.TransportError("ConnectionDropped", "dropped", None, "CreateImageRegions")
    exc.may_have_succeeded = True
    return exc


def _entries(n: int) -> list[Entry]:
    return [Entry(IMAGE, TAG, i * 1000, 0, 1000, 1000) for i in range(n)]


def _writer(service: _RegionService) -> RegionWriter:
    return RegionWriter(service, PROJECT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "script",
    [
        ("lost", "lost"),
        ("lost-after",),
        ("lost", "lost-after"),
        ("silent",),
        ("no-id",),
        ("unreadable",),
        ("silent", "lost"),
    ],
)
def test_unclear_rounds_converge_within_three_sends(script: tuple[str, ...]) -> None:
    service = _RegionService(*script)
    owned = _writer(service).create(_entries(3), _Undo())
    assert sorted(owned.values()) == sorted(service.regions.values())
    assert len(owned) == 3 and len(service.regions) == 3
    assert service.calls <= 3


def test_three_lost_rounds_give_up_naming_the_reason() -> None:
    service = _RegionService("lost", "lost", "lost")
    with pytest.raises(ProviderError) as caught:
        _writer(service).create(_entries(2), _Undo())
    message = str(caught.value)
    assert "2 regions could not be created: 3 times" in message
    assert "ConnectionDropped" in message and "\n" not in message
    assert service.calls == 3 and not service.regions


def test_an_answer_that_lists_nothing_is_never_success() -> None:
    """The service acted but the answer lists nothing, every time: looked up, adopted."""
    service = _RegionService("silent", "silent", "silent")
    undo = _Undo()
    owned = _writer(service).create(_entries(2), undo)
    assert len(owned) == 2 and service.calls == 1 and service.lookups == 1
    assert undo.steps == ["delete 2 created regions"]


def test_an_answer_that_lists_nothing_for_regions_not_made_fails() -> None:
    """An answer listing nothing while nothing was made: sent again, then a clear error."""

    class Mute(_RegionService):
        def create_image_regions(
            self, project_id: str, entries: list[models.ImageRegionCreateEntry]
        ) -> models.ImageRegionCreateSummary:
            self.calls += 1
            return models.ImageRegionCreateSummary(created=[], duplicated=[], exceeded=[])

    service = Mute()
    with pytest.raises(ProviderError, match=r"3 times .* did not list 1 of the regions sent"):
        _writer(service).create(_entries(1), _Undo())
    assert service.calls == 3


def test_no_new_round_once_the_budget_is_spent() -> None:
    service = _RegionService("lost", "lost")
    with pytest.raises(ProviderError, match=r"could not be created: once"):
        _writer(service).create(_entries(1), _Undo(), remaining_seconds=lambda: 0.0)
    assert service.calls == 1


def test_rounds_are_bounded_by_the_argument() -> None:
    service = _RegionService("lost", "lost")
    with pytest.raises(ProviderError, match=r"2 times"):
        _writer(service).create(_entries(1), _Undo(), rounds=2)
    assert service.calls == 2
