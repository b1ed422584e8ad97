"""Iteration (adopting an existing iteration) through the engine driver against the emulator."""

from __future__ import annotations

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from tests.engine import CheckFailedError, ProviderError, Stack
from tests.lifecycle.model_support import (
    PREDICTION_ID,
    Servers,
    client_for,
    config,
    emulator_iterations,
    iteration,
    last_line,
    servers_fixture,  # noqa: F401 - the `servers` fixture
    stack_fixture,  # noqa: F401 - the `stack` fixture (unpaced, shared servers)
    train_now,
    trainable_project,
    writes,
)

OTHER_PREDICTION_ID = PREDICTION_ID.replace("accounts/prediction", "accounts/prediction-2")


def test_iteration_lifecycle(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    v1 = train_now(client, pid, name="v1")

    # adopt by name, rename and publish; the second up is empty
    decl = {"project_id": pid, "source_name": "v1", "name": "live-model"}
    decl.update(publish_name="parts", prediction_resource_id=PREDICTION_ID)
    log = stack.up({"live": iteration(**decl)})
    assert log.ops() == {"live": "create"} and stack.id("live") == v1.id
    state = emulator_iterations(emu, pid)[v1.id]
    assert (state["name"], state["publishName"]) == ("live-model", "parts")
    assert state["originalPublishResourceId"] == PREDICTION_ID
    outputs = stack.outputs("live")
    assert outputs["status"] == "Completed" and outputs["publish_name"] == "parts"

    # in place: rename, then a new publish name (unpublish, publish), then another target
    emu.admin.clear_log()
    decl["name"] = "live-model-2"
    assert stack.up({"live": iteration(**decl)}).ops() == {"live": "update"}
    assert writes(emu) == ["UpdateIteration"]
    emu.admin.clear_log()
    decl["publish_name"] = "parts-2"
    stack.up({"live": iteration(**decl)})
    assert writes(emu) == ["UnpublishIteration", "PublishIteration"]
    assert emulator_iterations(emu, pid)[v1.id]["publishName"] == "parts-2"
    decl["prediction_resource_id"] = OTHER_PREDICTION_ID
    stack.up({"live": iteration(**decl)})
    assert emulator_iterations(emu, pid)[v1.id]["originalPublishResourceId"] == (
        OTHER_PREDICTION_ID
    )

    # removing the publish settings unpublishes
    unpublished = {**decl, "publish_name": None, "prediction_resource_id": None}
    stack.up({"live": iteration(**unpublished)})
    assert emulator_iterations(emu, pid)[v1.id]["publishName"] is None
    stack.up({"live": iteration(**decl)})

    # refresh: renamed and unpublished out of band -> drift, repaired by the next up
    client.update_iteration(pid, v1.id, name="by-hand")
    client.unpublish_iteration(pid, v1.id)
    log = stack.refresh()
    assert {"name", "publish_name"} <= set(log.step("live").changed_keys)
    assert stack.up({"live": iteration(**decl)}).ops() == {"live": "update"}
    state = emulator_iterations(emu, pid)[v1.id]
    assert (state["name"], state["publishName"]) == ("live-model-2", "parts-2")

    # another selector replaces: the new choice takes the publish name over
    v2 = train_now(client, pid, name="v2")
    decl2 = {**decl, "source_name": "v2", "name": None}
    log = stack.up({"live": iteration(**decl2)})
    assert log.step("live").op == "replace" and log.step("live").replaces == ["source_name"]
    iterations = emulator_iterations(emu, pid)
    assert iterations[v2.id]["publishName"] == "parts-2"
    assert iterations[v1.id]["publishName"] is None and iterations[v1.id]["name"] == "live-model-2"

    # refresh notices a deleted iteration
    client.unpublish_iteration(pid, v2.id)
    client.delete_iteration(pid, v2.id)
    assert stack.refresh().ops() == {"live": "deleted"}

    # latest=True picks the newest completed one; destroy unpublishes and keeps it
    stack.up({"live": iteration(project_id=pid, latest=True, **_publish())})
    assert stack.id("live") == v1.id
    stack.destroy()
    state = emulator_iterations(emu, pid)[v1.id]
    assert state["publishName"] is None and state["name"] == "live-model-2"


def _publish() -> dict[str, str]:
    return {"publish_name": "parts", "prediction_resource_id": PREDICTION_ID}


def test_adopt_by_id_and_leave_an_unmanaged_publication(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    v1 = train_now(client, pid)
    client.publish_iteration(pid, v1.id, "by-someone-else", PREDICTION_ID)
    stack.up({"it": iteration(project_id=pid, iteration_id=v1.id)})
    assert stack.outputs("it")["publish_name"] == "by-someone-else"
    stack.destroy()
    assert emulator_iterations(emu, pid)[v1.id]["publishName"] == "by-someone-else"


def test_selectors_and_is_default_are_checked(stack: Stack, client: TrainingClient) -> None:
    pid = client.create_project("p").id
    with pytest.raises(CheckFailedError) as caught:
        stack.up({"it": iteration(project_id=pid, source_name="v1", latest=True)})
    assert "exactly one of iteration_id, source_name or latest" in str(caught.value)
    with pytest.raises(CheckFailedError) as caught:
        stack.up({"it": iteration(project_id=pid, latest=True, is_default=True)})
    (failure,) = caught.value.failures
    assert failure.property == "is_default" and "publish_name" in failure.reason
    with pytest.raises(CheckFailedError) as caught:
        stack.up({"it": iteration(project_id=pid, latest=True, publish_name="x")})
    assert "publish_name and prediction_resource_id go together" in str(caught.value)


def test_unknown_name_lists_the_iterations(stack: Stack, client: TrainingClient) -> None:
    pid = trainable_project(client)
    train_now(client, pid, name="v1")
    with pytest.raises(ProviderError) as caught:
        stack.up({"it": iteration(project_id=pid, source_name="v9")})
    assert last_line(caught.value) == (
        f"project {pid} has no iteration named 'v9' (it has: 'v1'); check source_name, "
        "or train or import it first"
    )


def test_is_default_on_api_v2(
    customvision_emulator: RunningEmulator, servers: Servers, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    v1 = train_now(client, pid, name="v1")
    v2 = train_now(client, pid, name="v2")
    stack = servers.stack(config(emu, **{"customvision:apiVersion": "2.0"}))

    client_v2 = client_for(emu, "2.0")  # the state dump has the v3 shape, without isDefault

    def is_default(iteration_id: str) -> bool | None:
        return client_v2.get_iteration(pid, iteration_id).is_default

    emu.admin.clear_log()
    stack.up({"it": iteration(project_id=pid, source_name="v1", is_default=True)})
    updates = emu.admin.requests(operation="UpdateIteration")
    assert updates and all(r["api_version"].lstrip("v") == "2.0" for r in updates)
    assert is_default(v1.id) is True and v1.id in emulator_iterations(emu, pid)
    assert stack.outputs("it")["is_default"] is True

    # another iteration made default out of band: drift, repaired
    client_v2.update_iteration(pid, v2.id, name="v2", is_default=True)
    assert "is_default" in stack.refresh().step("it").changed_keys
    stack.up({"it": iteration(project_id=pid, source_name="v1", is_default=True)})
    assert is_default(v1.id) is True and is_default(v2.id) is False

    # in place: no longer the default
    stack.up({"it": iteration(project_id=pid, source_name="v1", is_default=False)})
    assert is_default(v1.id) is False
    stack.destroy()
    assert v1.id in emulator_iterations(emu, pid)
