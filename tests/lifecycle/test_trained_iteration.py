"""TrainedIteration through the engine driver against the emulator.

Besides the lifecycle, the failure modes of a training: a failed training, nothing to
train, not enough data, the iteration cap, a budget that runs out, and a provider that
dies while it waits (the next `up` adopts the training instead of training again).
"""

from __future__ import annotations

import time

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from tests.engine import CheckFailedError, ProviderError, Stack
from tests.engine.stack import wait_until
from tests.lifecycle.model_support import (
    PREDICTION_ID,
    Servers,
    add_training_data,
    config,
    emulator_iterations,
    last_line,
    servers_fixture,  # noqa: F401 - the `servers` fixture
    stack_fixture,  # noqa: F401 - the `stack` fixture (unpaced, shared servers)
    train_now,
    trainable_project,
    trained,
    writes,
)


def trainings(emu: RunningEmulator) -> list[int]:
    """Statuses of the TrainProject calls the emulator saw."""
    return [r["status"] for r in emu.admin.requests(operation="TrainProject")]


def test_trained_iteration_lifecycle(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    decl = {"project_id": pid, "name": "v1", "triggers": {"data": 1}}
    decl.update(publish_name="parts", prediction_resource_id=PREDICTION_ID)

    # create: one training, named and published; the second up is empty
    log = stack.up({"model": trained(**decl)})
    assert log.ops() == {"model": "create"}
    assert trainings(emu) == [200]
    iid = stack.id("model")
    state = emulator_iterations(emu, pid)[iid]
    assert (state["name"], state["status"], state["publishName"]) == ("v1", "Completed", "parts")
    outputs = stack.outputs("model")
    assert outputs["status"] == "Completed" and outputs["trained_at"]
    assert outputs["domain_id"] and outputs["classification_type"] == "Multilabel"
    assert outputs["publish_name"] == "parts" and outputs["exportable_to"] == []
    assert outputs["training_time_in_minutes"] >= 1

    # in place: rename; move the publication
    emu.admin.clear_log()
    decl["name"] = "v1-final"
    assert stack.up({"model": trained(**decl)}).ops() == {"model": "update"}
    assert writes(emu) == ["UpdateIteration"]
    decl["publish_name"] = "parts-2"
    stack.up({"model": trained(**decl)})
    assert emulator_iterations(emu, pid)[iid]["publishName"] == "parts-2"

    # refresh: drift (renamed, unpublished) repaired by the next up
    client.update_iteration(pid, iid, name="by-hand")
    client.unpublish_iteration(pid, iid)
    assert {"name", "publish_name"} <= set(stack.refresh().step("model").changed_keys)
    stack.up({"model": trained(**decl)})
    state = emulator_iterations(emu, pid)[iid]
    assert (state["name"], state["publishName"]) == ("v1-final", "parts-2")

    # new triggers: a new training that takes over the name and the publication, then the
    # old iteration is deleted
    add_training_data(client, pid, seed=1)
    emu.admin.clear_log()
    decl["triggers"] = {"data": 2}
    log = stack.up({"model": trained(**decl)})
    assert log.step("model").op == "replace" and log.step("model").replaces == ["triggers"]
    assert trainings(emu) == [200]
    new = stack.id("model")
    iterations = emulator_iterations(emu, pid)
    assert list(iterations) == [new]
    assert (iterations[new]["name"], iterations[new]["publishName"]) == ("v1-final", "parts-2")

    # refresh notices an out-of-band delete; destroy of a present one deletes it
    client.unpublish_iteration(pid, new)
    client.delete_iteration(pid, new)
    assert stack.refresh().ops() == {"model": "deleted"}
    add_training_data(client, pid, seed=2)
    stack.up({"model": trained(**decl)})
    stack.destroy()
    assert emulator_iterations(emu, pid) == {}


def test_unset_name_keeps_the_service_name(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    stack.up({"model": trained(project_id=pid)})
    assert stack.outputs("model")["name"] == "Iteration 1"
    assert [i["name"] for i in emulator_iterations(emu, pid).values()] == ["Iteration 1"]


@pytest.mark.parametrize(
    ("api_version", "reason"),
    [
        ("3.3", "status Failed; API v3.3 gives no details, v3.4-preview does"),
        ("3.4-preview", "Training failed (outcome forced by the emulator)"),
    ],
)
def test_failed_training_leaves_nothing_behind(
    customvision_emulator: RunningEmulator,
    servers: Servers,
    api_version: str,
    reason: str,
    client: TrainingClient,
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    stack = servers.stack(config(emu, **{"customvision:apiVersion": api_version}))
    emu.admin.force_outcome("TrainProject", "Failed")
    with pytest.raises(ProviderError) as caught:
        stack.up({"model": trained(project_id=pid, name="v1")})
    assert last_line(caught.value) == (
        f"the training failed ({reason}); the failed iteration was deleted: fix the data "
        "(or the training inputs) and run `pulumi up` again"
    )
    assert emulator_iterations(emu, pid) == {} and stack.resources == {}


def test_training_not_needed(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    stack.up({"first": trained("first", project_id=pid, name="v1")})
    first = stack.id("first")

    with pytest.raises(ProviderError) as caught:
        stack.up(
            {
                "first": trained("first", project_id=pid, name="v1"),
                "second": trained("second", project_id=pid),
            }
        )
    assert "set force_train=True to train anyway" in last_line(caught.value)
    assert "second" not in stack.resources

    # use_latest adopts the latest completed iteration (and renames it as asked)
    stack.up({"second": trained("second", project_id=pid, on_training_not_needed="use_latest")})
    assert stack.id("second") == first
    assert trainings(emu)[-1] == 400 and trainings(emu).count(200) == 1


def test_force_train_trains_again(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    stack.up({"a": trained("a", project_id=pid)})
    stack.up(
        {"a": trained("a", project_id=pid), "b": trained("b", project_id=pid, force_train=True)}
    )
    assert stack.id("a") != stack.id("b") and trainings(emu) == [200, 200]


def test_not_enough_data_says_what_is_missing(stack: Stack, client: TrainingClient) -> None:
    pid = client.create_project("empty").id
    client.create_tag(pid, "lonely")
    with pytest.raises(ProviderError) as caught:
        stack.up({"model": trained(project_id=pid)})
    message = last_line(caught.value)
    assert message.startswith("the project does not have the data to train: Not enough data")
    assert "lonely" in message and "add tagged images" in message


def test_iteration_cap_says_how_to_free_room(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    emu.admin.configure(training_seconds=0.0)
    for _ in range(20):
        client.train_project(pid, force_train=True)
        wait_until(
            lambda: (
                emulator_iterations(emu, pid)
                and all(i["status"] != "Training" for i in emulator_iterations(emu, pid).values())
            )
        )
    with pytest.raises(ProviderError) as caught:
        stack.up({"model": trained(project_id=pid, force_train=True)})
    assert last_line(caught.value).startswith(
        "the project already has 20 iterations, the most the service keeps: delete old ones"
    )


def test_training_inputs_are_checked(
    customvision_emulator: RunningEmulator, servers: Servers, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = client.create_project("p").id
    with pytest.raises(CheckFailedError) as caught:
        stack.up(
            {
                "model": trained(
                    project_id=pid,
                    training_type="Advanced",
                    notification_email_address="not-an-address",
                )
            }
        )
    text = str(caught.value)
    assert "needs reserved_budget_in_hours" in text or "not an email address" in text
    assert "not an email address" in text

    with pytest.raises(CheckFailedError) as caught:
        stack.up({"model": trained(project_id=pid, training_type="Advanced")})
    assert "training_type='Advanced' needs reserved_budget_in_hours" in str(caught.value)

    old = servers.stack(config(emu, **{"customvision:apiVersion": "3.1"}))
    tag = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f"
    with pytest.raises(CheckFailedError) as caught:
        old.up({"model": trained(project_id=pid, selected_tags=[tag])})
    (failure,) = caught.value.failures
    assert failure.property == "selected_tags" and "3.2 or later" in failure.reason


def test_selected_tags_and_training_parameters_reach_the_service(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    tags = [t.id for t in client.get_tags(pid)]
    stack.up(
        {
            "model": trained(
                project_id=pid,
                training_type="Advanced",
                reserved_budget_in_hours=1,
                notification_email_address="ml@example.com",
                selected_tags=tags,
            )
        }
    )
    state = emulator_iterations(emu, pid)[stack.id("model")]
    assert state["trainingType"] == "Advanced" and state["reservedBudgetInHours"] == 1


def test_timeout_then_the_next_up_adopts_the_training(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    emu.admin.configure(training_seconds=3.0)

    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        stack.up({"model": trained(project_id=pid, name="v1", timeouts={"create": "1s"})})
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 0.5 + 0.5  # budget + one poll interval (+ start-up slack)
    message = last_line(caught.value)
    assert message.startswith("gave up waiting for the training of 'Iteration 1'")
    assert "run `pulumi up` again to keep waiting (it will not train twice)" in message
    assert stack.resources == {}
    (training,) = emulator_iterations(emu, pid).values()
    assert training["status"] == "Training" and training["name"].startswith("Iteration 1 [pulumi:")

    stack.up({"model": trained(project_id=pid, name="v1", timeouts={"create": "30s"})})
    assert trainings(emu) == [200]
    assert stack.id("model") == training["id"]
    assert emulator_iterations(emu, pid)[training["id"]]["name"] == "v1"


def test_provider_crash_while_training_is_adopted_by_the_next_up(
    customvision_emulator: RunningEmulator, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    emu.admin.configure(training_seconds=3.0)
    decl = {"model": trained(project_id=pid, name="v1")}
    with Stack(config(emu)) as stack:
        op = stack.up_in_background(decl)
        # Killed while it waits: after TrainProject and the claim (UpdateIteration). The
        # window between those two calls is test_an_unclaimed_running_training_is_adopted.
        wait_until(lambda: emu.admin.requests(operation="UpdateIteration"), timeout=20)
        stack.server.kill()
        with pytest.raises(ProviderError) as caught:
            op.wait()
        assert caught.value.crashed
        assert stack.resources == {}

        stack.restart_server()
        stack.up(decl)
        created = [r for r in emu.admin.requests(operation="TrainProject") if r["status"] == 200]
        assert len(created) == 1
        (iteration,) = emulator_iterations(emu, pid).values()
        assert stack.id("model") == iteration["id"]
        assert (iteration["name"], iteration["status"]) == ("v1", "Completed")


def test_lost_train_answer_adopts_the_training_it_started(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    emu.admin.inject_fault(drop_after_handling=True, operation="TrainProject", count=1)
    stack.up({"model": trained(project_id=pid, name="v1")})
    assert len(emu.admin.requests(operation="TrainProject")) == 1
    (only,) = emulator_iterations(emu, pid).values()
    assert only["id"] == stack.id("model") and only["name"] == "v1"


def test_an_unclaimed_running_training_is_adopted(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    """The crash window between TrainProject and the claim: the training carries no marker."""
    emu = customvision_emulator
    pid = trainable_project(client)
    emu.admin.configure(training_seconds=1.0)
    started = client.train_project(pid)
    stack.up({"model": trained(project_id=pid, name="v1")})
    assert trainings(emu) == [200, 400] and stack.id("model") == started.id
    assert emulator_iterations(emu, pid)[started.id]["name"] == "v1"


def test_another_resources_training_is_waited_for(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = trainable_project(client)
    emu.admin.configure(training_seconds=1.0)
    other = client.train_project(pid)
    client.update_iteration(pid, other.id, name="Iteration 1 [pulumi:0123456789ab]")
    stack.up({"model": trained(project_id=pid, force_train=True)})
    assert stack.id("model") != other.id
    assert trainings(emu) == [200, 400, 200]
    assert len(emulator_iterations(emu, pid)) == 2


def test_after_the_final_renaming_the_next_up_cannot_claim_the_iteration(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    """The documented window: a crash after the final renaming leaves an iteration with the
    final name and no marker (as a replacement's predecessor looks). The next `up` asks the
    service to train: nothing changed, so an error, or with use_latest that iteration."""
    emu = customvision_emulator
    pid = trainable_project(client)
    left = train_now(client, pid, name="v1")  # what the interrupted create left
    with pytest.raises(ProviderError) as caught:
        stack.up({"m": trained("m", project_id=pid, name="v1")})
    assert "set force_train=True to train anyway" in last_line(caught.value)
    stack.up({"m": trained("m", project_id=pid, name="v1", on_training_not_needed="use_latest")})
    assert stack.id("m") == left.id and list(emulator_iterations(emu, pid)) == [left.id]

    # with force_train a second training runs and takes the name over; the first one stays,
    # renamed aside (a replacement's predecessor looks the same, and is deleted after)
    stack.destroy()
    left = train_now(client, pid, name="v1")
    stack.up({"m": trained("m", project_id=pid, name="v1", force_train=True)})
    names = {i: it["name"] for i, it in emulator_iterations(emu, pid).items()}
    assert names == {stack.id("m"): "v1", left.id: f"v1 (superseded by {stack.id('m')[:8]})"}
