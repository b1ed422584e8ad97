"""ImageRegions through the engine driver against the emulator: lifecycle, scale, adoption."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from customvision_emulator.samples import png
from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient, models
from pulumi_customvision.image_regions import ImageRegionsProvider, full_id
from pulumi_customvision.images import ImagesProvider
from tests.engine import CheckFailedError, ProviderError, ProviderServer, Ref, Resource, Stack
from tests.lifecycle.conftest import (
    declare,
    emulator_project,
    emulator_regions,
    stack_config,
    write_counts,
)

_seeds = iter(range(1, 1 << 40))


def seed_images(client: TrainingClient, project_id: str, count: int) -> list[str]:
    """``count`` new images in the project, through the REST client (64 per call)."""
    ids: list[str] = []
    for start in range(0, count, 64):
        batch = [(f"{i}.png", png(next(_seeds))) for i in range(min(64, count - start))]
        summary = client.create_images_from_data(project_id, batch)
        ids += [r.image.id for r in summary.images if r.image is not None]
    assert len(ids) == count
    return ids


def regions_decl(project_id: str, regions: list[dict[str, Any]]) -> dict[str, Resource]:
    return {
        "labels": declare(
            ImageRegionsProvider(), "ImageRegions", project_id=project_id, regions=regions
        )
    }


def box(image_id: str, tag: dict[str, str], n: int) -> dict[str, Any]:
    """The n-th distinct small box on an image (n < 300)."""
    return {
        "image_id": image_id,
        **tag,
        "left": (n % 20) * 0.04,
        "top": (n // 20) * 0.05,
        "width": 0.03,
        "height": 0.04,
    }


def service_regions(
    emu: RunningEmulator, project_id: str
) -> set[tuple[str, str, float, float, float, float]]:
    """Every region in the emulator's project: (image, tag, left, top, width, height)."""
    return set(emulator_regions(emu, project_id))


def expected(
    regions: list[dict[str, Any]], tag_ids: dict[str, str]
) -> set[tuple[str, str, float, float, float, float]]:
    return {
        (
            r["image_id"],
            r.get("tag_id") or tag_ids[r["tag_name"]],
            round(r["left"], 6),
            round(r["top"], 6),
            round(r["width"], 6),
            round(r["height"], 6),
        )
        for r in regions
    }


@pytest.fixture(scope="module")
def unpaced_server(customvision_emulator_server: RunningEmulator) -> Iterator[ProviderServer]:
    """A provider server whose client does not pace requests (the test emulator has no limit)."""
    config = stack_config(customvision_emulator_server, **{"customvision:requestsPerSecond": "0"})
    with ProviderServer(config) as server:
        yield server


@pytest.fixture
def unpaced_stack(
    customvision_emulator: RunningEmulator, unpaced_server: ProviderServer
) -> Iterator[Stack]:
    """An empty stack on :func:`unpaced_server`, for the tests with many calls."""
    with Stack(server=unpaced_server) as s:
        yield s


@pytest.fixture
def tags(client: TrainingClient, project_id: str) -> dict[str, str]:
    return {name: client.create_tag(project_id, name).id for name in ("bolt", "nut")}


def test_image_regions_lifecycle(
    stack: Stack,
    customvision_emulator: RunningEmulator,
    client: TrainingClient,
    project_id: str,
    tags: dict[str, str],
) -> None:
    emu = customvision_emulator
    images = seed_images(client, project_id, 3)
    bolt, nut = {"tag_id": tags["bolt"]}, {"tag_name": "nut"}
    regions = [
        box(images[0], bolt, 0),
        box(images[0], nut, 1),
        box(images[1], bolt, 0),
        box(images[2], nut, 5),
    ]
    # someone else's region on the same image: never touched
    foreign = client.create_image_regions(
        project_id,
        [
            models.ImageRegionCreateEntry(
                image_id=images[2], tag_id=tags["bolt"], left=0.5, top=0.5, width=0.5, height=0.5
            )
        ],
    ).created[0]

    # create (the driver runs a second up and asserts it is empty)
    log = stack.up(regions_decl(project_id, regions))
    assert log.ops() == {"labels": "create"}
    outputs = stack.outputs("labels")
    assert outputs["count"] == 4 and len(outputs["revision"]) == 64
    assert service_regions(emu, project_id) == expected(regions, tags) | {
        (images[2], tags["bolt"], 0.5, 0.5, 0.5, 0.5)
    }
    revision = outputs["revision"]

    # reordering the list is no change
    log = stack.up(regions_decl(project_id, list(reversed(regions))))
    assert log.ops() == {"labels": "same"}

    # update: remove one, add one; only the difference is sent
    emu.admin.clear_log()
    changed = [*regions[1:], box(images[1], nut, 7)]
    log = stack.up(regions_decl(project_id, changed))
    assert log.ops() == {"labels": "update"}
    assert write_counts(emu) == {"DeleteImageRegions": 1, "CreateImageRegions": 1}
    assert service_regions(emu, project_id) - {
        (images[2], tags["bolt"], 0.5, 0.5, 0.5, 0.5)
    } == expected(changed, tags)
    assert stack.outputs("labels")["count"] == 4 and stack.outputs("labels")["revision"] != revision
    revision = stack.outputs("labels")["revision"]

    # refresh: a region deleted out of band is drift, and the next up puts it back
    lost = full_id(next(iter(stack.outputs("labels")["region_ids"][images[1]].values())))
    client.delete_image_regions(project_id, [lost])
    log = stack.refresh()
    assert log.step("labels").op == "read"
    assert set(log.step("labels").changed_keys) >= {"count", "region_ids", "revision"}
    assert stack.outputs("labels")["count"] == 3
    emu.admin.clear_log()
    log = stack.up(regions_decl(project_id, changed))
    assert log.ops() == {"labels": "update"}
    assert write_counts(emu) == {"CreateImageRegions": 1}
    assert stack.outputs("labels")["revision"] == revision
    assert service_regions(emu, project_id) - {
        (images[2], tags["bolt"], 0.5, 0.5, 0.5, 0.5)
    } == expected(changed, tags)

    # refresh without drift changes nothing
    log = stack.refresh()
    assert log.step("labels").changed_keys == []

    # destroy deletes what it owns (tolerating a region already gone); the foreign one stays
    client.delete_image_regions(
        project_id, [full_id(next(iter(stack.outputs("labels")["region_ids"][images[0]].values())))]
    )
    stack.destroy()
    assert service_regions(emu, project_id) == {(images[2], tags["bolt"], 0.5, 0.5, 0.5, 0.5)}
    assert foreign.region_id is not None


def test_check_names_each_problem(stack: Stack, project_id: str, tags: dict[str, str]) -> None:
    image = "4d6eb844-42ee-42bc-bd6f-c32455ef07c9"
    good = box(image, {"tag_id": tags["bolt"]}, 0)
    bad = [
        good,
        dict(good),  # identical
        {**good, "left": 0.9, "width": 0.2},
        {**good, "top": -0.1},
        {**good, "tag_name": "nut"},
        {**good, "image_id": "not-an-id", "left": 0.5},
    ]
    with pytest.raises(CheckFailedError) as failed:
        stack.up(regions_decl(project_id, bad))
    text = str(failed.value)
    assert "regions.2: left + width is 0.9 + 0.2, more than 1" in text
    assert "regions.3.top" in text
    assert "regions.4: give exactly one of tag_id and tag_name" in text
    assert "regions.5.image_id" in text and "'not-an-id' is not an id" in text
    with pytest.raises(CheckFailedError, match=r"regions.1 is the same region as regions.0"):
        stack.up(regions_decl(project_id, [good, dict(good)]))
    # coordinates that round to the same millionth are the same region
    with pytest.raises(CheckFailedError, match="same region"):
        stack.up(regions_decl(project_id, [good, {**good, "left": good["left"] + 1e-8}]))


def test_unknown_tag_name_fails_before_any_region_is_made(
    stack: Stack,
    customvision_emulator: RunningEmulator,
    client: TrainingClient,
    project_id: str,
    tags: dict[str, str],
) -> None:
    images = seed_images(client, project_id, 1)
    with pytest.raises(ProviderError, match="no tag named 'washer'"):
        stack.up(regions_decl(project_id, [box(images[0], {"tag_name": "washer"}, 0)]))
    assert service_regions(customvision_emulator, project_id) == set()


def test_a_thousand_regions(
    unpaced_stack: Stack,
    customvision_emulator: RunningEmulator,
    client: TrainingClient,
    project_id: str,
    tags: dict[str, str],
) -> None:
    emu, stack = customvision_emulator, unpaced_stack
    images = seed_images(client, project_id, 250)
    tag_refs = [{"tag_id": tags["bolt"]}, {"tag_name": "nut"}]
    regions = [box(images[i % 250], tag_refs[i % 2], i // 250) for i in range(1000)]
    emu.admin.clear_log()
    stack.up(regions_decl(project_id, regions))
    assert emu.admin.counters()["CreateImageRegions"] == {"200": 16}
    assert stack.outputs("labels")["count"] == 1000
    assert len(service_regions(emu, project_id)) == 1000
    size = len(json.dumps(stack.state("labels").plain_outputs())) + len(
        json.dumps(stack.state("labels").plain_inputs())
    )
    assert size < 120_000, size

    # add 10 and remove 10: one CreateImageRegions and one DeleteImageRegions
    added = [box(images[i], tag_refs[0], 250 + i) for i in range(10)]
    changed = regions[10:] + added
    emu.admin.clear_log()
    log = stack.up(regions_decl(project_id, changed))
    assert log.ops() == {"labels": "update"}
    assert write_counts(emu) == {"CreateImageRegions": 1, "DeleteImageRegions": 1}
    assert service_regions(emu, project_id) == expected(changed, tags)

    # reordering makes no call at all
    shuffled = list(changed)
    random.Random(5).shuffle(shuffled)
    emu.admin.clear_log()
    log = stack.up(regions_decl(project_id, shuffled), expect_empty_second_up=False)
    assert log.ops() == {"labels": "same"}
    assert write_counts(emu) == {}

    # regions the project already has are adopted, not an error
    extra = [box(images[100 + i], tag_refs[0], 280 + i) for i in range(5)]
    client.create_image_regions(
        project_id,
        [
            models.ImageRegionCreateEntry(
                image_id=r["image_id"],
                tag_id=tags["bolt"],
                left=r["left"],
                top=r["top"],
                width=r["width"],
                height=r["height"],
            )
            for r in extra
        ],
    )
    stack.up(regions_decl(project_id, changed + extra))
    assert stack.outputs("labels")["count"] == 1005
    assert service_regions(emu, project_id) == expected(changed + extra, tags)
    owned = {
        rid
        for per_image in stack.outputs("labels")["region_ids"].values()
        for rid in per_image.values()
    }
    assert len(owned) == 1005

    stack.destroy()
    assert service_regions(emu, project_id) == set()


def test_exceeded_batch_is_rolled_back(
    stack: Stack,
    customvision_emulator: RunningEmulator,
    client: TrainingClient,
    project_id: str,
    tags: dict[str, str],
) -> None:
    emu = customvision_emulator
    images = seed_images(client, project_id, 3)
    bolt = {"tag_id": tags["bolt"]}
    # the first image already holds 298 regions (made outside Pulumi)
    crowd = [box(images[0], bolt, n) for n in range(298)]
    for start in range(0, 298, 64):
        client.create_image_regions(
            project_id,
            [
                models.ImageRegionCreateEntry(
                    image_id=images[0],
                    tag_id=tags["bolt"],
                    left=r["left"],
                    top=r["top"],
                    width=r["width"],
                    height=r["height"],
                )
                for r in crowd[start : start + 64]
            ],
        )
    before = service_regions(emu, project_id)
    # 150 regions on the other images, and 5 more on the crowded one: 3 of them exceed
    wanted = [box(images[1 + i % 2], bolt, i // 2) for i in range(150)]
    wanted += [
        {
            **box(images[0], bolt, 0),
            "left": 0.9,
            "top": 0.9,
            "width": 0.01 * (k + 1),
            "height": 0.05,
        }
        for k in range(5)
    ]
    with pytest.raises(ProviderError) as failed:
        stack.up(regions_decl(project_id, wanted))
    assert f"{images[0]} (3 over)" in str(failed.value)
    assert "300 regions per image" in str(failed.value)
    assert "labels" not in stack.resources
    assert service_regions(emu, project_id) == before

    # the same in an update: the set stays as it was
    stack.up(regions_decl(project_id, wanted[:150]))
    kept = service_regions(emu, project_id)
    with pytest.raises(ProviderError, match=r"3 over"):
        stack.up(regions_decl(project_id, [*wanted, box(images[2], bolt, 200)]))
    assert service_regions(emu, project_id) == kept
    assert stack.outputs("labels")["count"] == 150


def test_program_with_region_objects_and_image_outputs(
    customvision_emulator: RunningEmulator, client: TrainingClient, project_id: str, tmp_path: Any
) -> None:
    """The resource classes as a program uses them: Region objects holding Outputs."""
    import pulumi

    import pulumi_customvision as cv
    from tests.engine.mocks import ProviderMocks, run_program

    emu = customvision_emulator
    files = []
    for n in range(3):
        path = tmp_path / f"part{n}.png"
        path.write_bytes(png(next(_seeds)))
        files.append(str(path))
    bolt_id = client.create_tag(project_id, "bolt").id

    def program() -> None:
        imgs = cv.Images("imgs", project_id=project_id, files=files)
        labels = cv.ImageRegions(
            "labels",
            project_id=project_id,
            regions=[
                cv.Region(
                    image_id=imgs.ids[files[0]],
                    tag_id=bolt_id,
                    left=0.1,
                    top=0.2,
                    width=0.3,
                    height=0.3,
                ),
                cv.Region(
                    image_id=imgs.ids[files[1]],
                    tag_name="bolt",
                    left=0.5,
                    top=0.5,
                    width=0.25,
                    height=0.25,
                ),
                {
                    "image_id": imgs.ids[files[2]],
                    "tag_id": bolt_id,
                    "left": 0,
                    "top": 0,
                    "width": 1,
                    "height": 1,
                },
            ],
        )
        pulumi.export("count", labels.count)
        pulumi.export("revision", labels.revision)
        pulumi.export("images", imgs.count)

    result = run_program(program, ProviderMocks(stack_config(emu)))
    assert result.exports["count"] == 3 and result.exports["images"] == 3
    assert len(result.exports["revision"]) == 64
    assert len(service_regions(emu, project_id)) == 3


@pytest.mark.parametrize("when", ["drop_connection", "drop_after_handling"])
def test_lost_answer_is_reconciled_not_repeated(
    when: str,
    stack: Stack,
    customvision_emulator: RunningEmulator,
    client: TrainingClient,
    project_id: str,
    tags: dict[str, str],
) -> None:
    """A CreateImageRegions whose answer is lost: look the regions up, send only what is missing."""
    emu = customvision_emulator
    images = seed_images(client, project_id, 50)
    regions = [box(images[i % 50], {"tag_id": tags["bolt"]}, i // 50) for i in range(200)]
    emu.admin.inject_fault(operation="CreateImageRegions", count=1, **{when: True})
    stack.up(regions_decl(project_id, regions))
    assert stack.outputs("labels")["count"] == 200
    assert service_regions(emu, project_id) == expected(regions, tags)
    sent = emu.admin.counters()["CreateImageRegions"]
    # 4 batches; the one whose answer was lost is re-sent only if it had not been applied
    assert sum(sent.values()) == (5 if when == "drop_connection" else 4)
    stack.destroy()
    assert service_regions(emu, project_id) == set()


def test_preview_with_unknown_image_ids(
    stack: Stack, client: TrainingClient, project_id: str, tags: dict[str, str]
) -> None:
    """Image ids not known yet (images created in the same run) pass check and diff."""
    from tests.engine import UNKNOWN

    images = seed_images(client, project_id, 2)
    bolt = {"tag_id": tags["bolt"]}
    pending = [box(UNKNOWN, bolt, 0), box(UNKNOWN, bolt, 0)]  # identical until known
    log = stack.preview(regions_decl(project_id, pending))
    assert log.ops() == {"labels": "create"}
    stack.up(regions_decl(project_id, [box(images[0], bolt, 0)]))
    log = stack.preview(regions_decl(project_id, [box(images[0], bolt, 0), *pending]))
    assert log.ops() == {"labels": "update"}
    log = stack.preview(regions_decl(project_id, [box(images[0], bolt, 0)]))
    assert log.ops() == {"labels": "same"}


def test_regions_move_to_a_reuploaded_image(
    stack: Stack,
    customvision_emulator: RunningEmulator,
    project_id: str,
    tags: dict[str, str],
    tmp_path: Any,
) -> None:
    """Regions on ``Images.ids[src]``: a file whose content changes is uploaded again with a
    new id, and the next ``up`` puts its regions on the new image."""
    emu = customvision_emulator
    paths = [tmp_path / f"part{n}.png" for n in range(2)]
    for path in paths:
        path.write_bytes(png(next(_seeds)))
    srcs = [str(path) for path in paths]
    bolt = {"tag_id": tags["bolt"]}
    regions = [box(Ref("imgs", "ids", srcs[0]), bolt, 0), box(Ref("imgs", "ids", srcs[0]), bolt, 1)]
    regions.append(box(Ref("imgs", "ids", srcs[1]), bolt, 0))
    decls = {
        "imgs": declare(ImagesProvider(), "Images", project_id=project_id, files=srcs),
        **regions_decl(project_id, regions),
    }

    def resolved(ids: dict[str, str]) -> list[dict[str, Any]]:
        return [{**r, "image_id": ids[r["image_id"].path[0]]} for r in regions]

    assert stack.up(decls).ops() == {"imgs": "create", "labels": "create"}
    ids = stack.outputs("imgs")["ids"]
    assert service_regions(emu, project_id) == expected(resolved(ids), tags)

    paths[0].write_bytes(png(next(_seeds)))
    # the preview cannot know the new id yet: the regions' image ids are unknown
    assert stack.preview(decls).ops() == {"imgs": "update", "labels": "update"}
    assert stack.up(decls).ops() == {"imgs": "update", "labels": "update"}
    new_ids = stack.outputs("imgs")["ids"]
    assert new_ids[srcs[0]] != ids[srcs[0]] and new_ids[srcs[1]] == ids[srcs[1]]
    images = {image["id"] for image in emulator_project(emu, project_id)["images"]}
    assert images == set(new_ids.values())
    assert service_regions(emu, project_id) == expected(resolved(new_ids), tags)
    assert stack.outputs("labels")["count"] == 3

    stack.destroy()
    assert emulator_project(emu, project_id)["images"] == []
