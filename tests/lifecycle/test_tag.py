"""Tag through the engine driver against the emulator: the whole lifecycle."""

from __future__ import annotations

import pytest

from customvision_emulator.samples import png
from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from pulumi_customvision.tag import TagProvider
from tests.engine import CheckFailedError, ProviderError, Stack
from tests.lifecycle.conftest import declare, emulator_project


def tag(project_id: str, name: str, **inputs: object) -> dict[str, object]:
    return {"bolt": declare(TagProvider(), "Tag", project_id=project_id, name=name, **inputs)}


def emulator_tags(emu: RunningEmulator, project_id: str) -> dict[str, dict[str, object]]:
    return {t["id"]: t for t in emulator_project(emu, project_id)["tags"]}


def test_tag_lifecycle(
    stack: Stack, customvision_emulator: RunningEmulator, project_id: str, client: TrainingClient
) -> None:
    emu = customvision_emulator

    # create (the driver also runs a second `up` and asserts it is empty)
    log = stack.up(tag(project_id, "bolt", description="M6 bolts"))
    assert log.ops() == {"bolt": "create"}
    tag_id = stack.id("bolt")
    assert emulator_tags(emu, project_id)[tag_id]["name"] == "bolt"
    outputs = stack.outputs("bolt")
    assert outputs["image_count"] == 0 and outputs["endpoint"] == emu.url

    # rename in place: one UpdateTag, same id
    emu.admin.clear_log()
    log = stack.up(tag(project_id, "hex-bolt", description="M6 bolts"))
    assert log.ops() == {"bolt": "update"} and stack.id("bolt") == tag_id
    assert [r["operation"] for r in emu.admin.requests() if r["method"] != "GET"] == ["UpdateTag"]
    assert emulator_tags(emu, project_id)[tag_id]["name"] == "hex-bolt"

    # dropping the description clears it
    stack.up(tag(project_id, "hex-bolt"))
    assert not emulator_tags(emu, project_id)[tag_id]["description"]

    # refresh sees an out-of-band rename; the next up repairs it
    client.update_tag(project_id, tag_id, name="renamed-by-hand")
    log = stack.refresh()
    assert stack.outputs("bolt")["name"] == "renamed-by-hand"
    log = stack.up(tag(project_id, "hex-bolt"))
    assert log.ops() == {"bolt": "update"}
    assert emulator_tags(emu, project_id)[tag_id]["name"] == "hex-bolt"

    # a new project replaces the tag (create the new one, then delete the old one)
    other = client.create_project("other").id
    log = stack.up(tag(other, "hex-bolt"))
    assert log.ops() == {"bolt": "replace"}
    assert tag_id not in emulator_tags(emu, project_id)
    assert list(emulator_tags(emu, other)) == [stack.id("bolt")]

    # refresh notices an out-of-band delete: the tag leaves the state
    client.delete_tag(other, stack.id("bolt"))
    stack.refresh()
    assert "bolt" not in stack.resources
    stack.up(tag(other, "hex-bolt"))
    assert len(emulator_tags(emu, other)) == 1

    # destroy leaves the emulator without the tag
    stack.destroy()
    assert emulator_tags(emu, other) == {}


def test_delete_tolerates_a_tag_that_is_already_gone(
    stack: Stack, project_id: str, client: TrainingClient
) -> None:
    stack.up(tag(project_id, "bolt"))
    client.delete_tag(project_id, stack.id("bolt"))
    stack.destroy()
    assert stack.resources == {}


def test_a_tag_that_labels_images_is_adopted_only_when_asked(
    stack: Stack, customvision_emulator: RunningEmulator, project_id: str, client: TrainingClient
) -> None:
    existing = client.create_tag(project_id, "bolt")
    client.create_images_from_data(project_id, [png(1)], tag_ids=[existing.id])
    with pytest.raises(ProviderError, match=r"tag named 'bolt' on 1 images.*adopt_existing=True"):
        stack.up(tag(project_id, "bolt"))
    assert stack.resources == {}

    stack.up(tag(project_id, "bolt", adopt_existing=True, description="adopted"))
    assert stack.id("bolt") == existing.id
    assert emulator_tags(customvision_emulator, project_id)[existing.id]["description"] == "adopted"


def test_an_unused_tag_of_the_same_name_is_adopted_so_a_crashed_create_converges(
    stack: Stack, customvision_emulator: RunningEmulator, project_id: str, client: TrainingClient
) -> None:
    leftover = client.create_tag(project_id, "bolt")
    stack.up(tag(project_id, "bolt", description="M6"))
    assert stack.id("bolt") == leftover.id
    assert list(emulator_tags(customvision_emulator, project_id)) == [leftover.id]


def test_unknown_project_and_bad_input_give_one_clear_sentence(
    stack: Stack, customvision_emulator: RunningEmulator
) -> None:
    missing = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f"
    with pytest.raises(ProviderError) as failure:
        stack.up(tag(missing, "bolt"))
    assert "could not create the tag" in failure.value.message
    assert "\n" not in failure.value.message
    print(failure.value.message)
    customvision_emulator.admin.clear_log()
    with pytest.raises(CheckFailedError) as checked:
        stack.up(tag("not-an-id", "bolt", type="Odd"))
    reasons = {f.property: f.reason for f in checked.value.failures}
    assert set(reasons) == {"project_id", "type"}
    assert customvision_emulator.admin.requests() == []


def test_preview_with_an_unknown_project_plans_a_create_without_calls(
    stack: Stack, customvision_emulator: RunningEmulator
) -> None:
    from tests.engine import UNKNOWN

    log = stack.preview(tag(UNKNOWN, "bolt"))
    assert log.ops() == {"bolt": "create"}
    assert customvision_emulator.admin.requests() == []
