"""ProjectExport through the engine driver against the emulator."""

from __future__ import annotations

import time

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from tests.engine import ProviderError, Ref, Secret, Stack
from tests.lifecycle.model_support import (
    export,
    last_line,
    project,
    servers_fixture,  # noqa: F401 - the `servers` fixture
    stack_fixture,  # noqa: F401 - the `stack` fixture (unpaced, shared servers)
    train_now,
    trainable_project,
)


def test_export_lifecycle(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    source = trainable_project(client)
    train_now(client, source, name="v1")

    # create; the second up is empty
    emu.admin.clear_log()
    log = stack.up({"export": export(project_id=source, triggers={"model": "v1"})})
    assert log.ops() == {"export": "create"}
    assert [r["status"] for r in emu.admin.requests(operation="ExportProject")] == [200]
    state = stack.state("export")
    assert isinstance(state.outputs["token"], Secret)
    outputs = stack.outputs("export")
    assert outputs["iteration_count"] == 1 and outputs["image_count"] == 10
    assert outputs["tag_count"] == 2 and outputs["region_count"] == 0
    assert outputs["estimated_import_time_ms"] > 0 and outputs["exported_at"].endswith("Z")
    token = outputs["token"]

    # the token imports (checked in the emulator: a new project with the iteration)
    imported = client.import_project(token, name="copy")
    assert imported.status == "Importing"

    # refresh keeps the state (nothing in the service reflects an export)
    assert stack.refresh().step("export").changed_keys == []

    # a change of triggers exports anew; so does another project
    log = stack.up({"export": export(project_id=source, triggers={"model": "v2"})})
    assert log.step("export").op == "replace" and log.step("export").replaces == ["triggers"]
    assert stack.outputs("export")["token"] != token
    other = client.create_project("other").id
    log = stack.up({"export": export(project_id=other, triggers={"model": "v2"})})
    assert log.step("export").replaces == ["project_id"]
    assert stack.outputs("export")["iteration_count"] == 0
    assert len(emu.admin.requests(operation="ExportProject")) == 3

    # destroy deletes nothing in the service
    before = emu.admin.state()
    stack.destroy()
    assert emu.admin.state() == before


def test_export_of_a_project_from_the_same_stack(
    customvision_emulator: RunningEmulator, stack: Stack
) -> None:
    emu = customvision_emulator
    stack.up(
        {
            "dev": project(name="dev"),
            "export": export(project_id=Ref("dev", "id")),
        }
    )
    assert stack.outputs("export")["image_count"] == 0
    stack.destroy()
    assert emu.admin.state()["projects"] == []


def test_export_waits_while_the_project_trains(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    source = trainable_project(client)
    emu.admin.configure(training_seconds=1.0)
    client.train_project(source)
    started = time.monotonic()
    stack.up({"export": export(project_id=source)})
    assert time.monotonic() - started >= 0.5
    statuses = [r["status"] for r in emu.admin.requests(operation="ExportProject")]
    assert statuses[0] == 400 and statuses[-1] == 200
    assert stack.outputs("export")["iteration_count"] == 1


def test_export_of_an_unknown_project_is_one_clear_sentence(
    customvision_emulator: RunningEmulator, stack: Stack
) -> None:
    with pytest.raises(ProviderError) as caught:
        stack.up({"export": export(project_id="0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f")})
    message = last_line(caught.value)
    assert message.startswith("could not create the project export: ExportProject failed")
    assert "NotFoundProject" in message and "does not exist" in message
    assert stack.resources == {}
