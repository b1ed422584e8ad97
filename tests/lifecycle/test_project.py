"""Project through the engine driver against the emulator: create, import, drift, destroy."""

from __future__ import annotations

import time

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision import domains
from pulumi_customvision._rest import TrainingClient
from pulumi_customvision.project import ProjectArgs, token_digest
from tests.engine import CheckFailedError, ProviderError, Secret, Stack, unwrap_secrets
from tests.lifecycle.model_support import (
    PREDICTION_ID,
    Servers,
    add_training_data,
    config,
    emulator_project,
    last_line,
    project,
    servers_fixture,  # noqa: F401 - the `servers` fixture
    stack_fixture,  # noqa: F401 - the `stack` fixture (unpaced, shared servers)
    train_now,
    trainable_project,
    writes,
)


def projects_named(emu: RunningEmulator, name: str) -> list[dict[str, object]]:
    return [p for p in emu.admin.state()["projects"] if p["name"] == name]


def test_project_lifecycle(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    decl = {
        "name": "parts",
        "description": "bolts and nuts",
        "domain_id": domains.GENERAL_COMPACT_CLASSIFICATION,
        "classification_type": "Multilabel",
    }

    # create (the driver runs a second up and asserts it is empty)
    log = stack.up({"dev": project(**decl)})
    assert log.ops() == {"dev": "create"}
    pid = stack.id("dev")
    state = emulator_project(emu, pid)
    assert state is not None and state["name"] == "parts"
    assert state["settings"]["domainId"] == domains.GENERAL_COMPACT_CLASSIFICATION
    outputs = stack.outputs("dev")
    assert outputs["status"] == "Succeeded" and outputs["endpoint"] == emu.url
    assert outputs["settings"]["classification_type"] == "Multilabel"

    # every in-place update: name, description, top-level domain inputs, settings
    emu.admin.clear_log()
    decl.update(name="parts-v2", description="only bolts", classification_type="Multiclass")
    decl["settings"] = {"target_export_platforms": ["ONNX", "CoreML"]}
    log = stack.up({"dev": project(**decl)})
    assert log.ops() == {"dev": "update"} and stack.id("dev") == pid
    assert writes(emu) == ["UpdateProject"]
    state = emulator_project(emu, pid)
    assert state is not None
    assert (state["name"], state["description"]) == ("parts-v2", "only bolts")
    assert state["settings"]["classificationType"] == "Multiclass"
    assert sorted(state["settings"]["targetExportPlatforms"]) == ["CoreML", "ONNX"]

    # refresh sees an out-of-band rename; the next up renames it back
    client.update_project(pid, name="renamed-by-hand")
    log = stack.refresh()
    assert "name" in log.step("dev").changed_keys
    assert stack.outputs("dev")["name"] == "renamed-by-hand"
    assert stack.up({"dev": project(**decl)}).ops() == {"dev": "update"}
    assert emulator_project(emu, pid)["name"] == "parts-v2"  # type: ignore[index]

    # refresh notices an out-of-band delete; the next up creates it again
    client.delete_project(pid)
    assert stack.refresh().ops() == {"dev": "deleted"}
    assert stack.up({"dev": project(**decl)}).ops() == {"dev": "create"}
    assert len(projects_named(emu, "parts-v2")) == 1

    # destroy
    stack.destroy()
    assert emu.admin.state()["projects"] == []


def test_project_check_reports_every_problem(
    customvision_emulator: RunningEmulator, stack: Stack
) -> None:
    with pytest.raises(CheckFailedError) as caught:
        stack.up(
            {
                "p": project(
                    name="x",
                    domain_id="not-a-uuid",
                    classification_type="Sometimes",
                    settings={"colour": "red"},
                )
            }
        )
    props = {f.property for f in caught.value.failures}
    assert {"domain_id", "classification_type", "settings.colour"} <= props
    assert customvision_emulator.admin.state()["projects"] == []


@pytest.mark.parametrize("api_version", ["3.3", "3.2"])
def test_import_with_a_name(
    customvision_emulator: RunningEmulator,
    servers: Servers,
    api_version: str,
    client: TrainingClient,
) -> None:
    emu = customvision_emulator
    source = trainable_project(client, "source")
    train_now(client, source, name="v1")
    token = client.export_project(source).token
    stack = servers.stack(config(emu, **{"customvision:apiVersion": api_version}))

    emu.admin.clear_log()
    log = stack.up({"prod": project(import_token=token, name="promoted")})
    assert log.ops() == {"prod": "create"}
    pid = stack.id("prod")
    state = emulator_project(emu, pid)
    assert state is not None and state["name"] == "promoted" and state["status"] == "Succeeded"
    assert [i["name"] for i in state["iterations"]] == ["v1"]
    imports = emu.admin.requests(operation="ImportProject")
    assert [r["api_version"].lstrip("v") for r in imports] == [api_version]
    # The import runs under a claimed name ("promoted [pulumi:...]"): v3.3 gives it in the
    # query, v3.2 renames the import as soon as ImportProject answers; the final name is the
    # last write (see test_an_interrupted_import_is_adopted).
    claimed = ["ImportProject"] if api_version == "3.3" else ["ImportProject", "UpdateProject"]
    assert writes(emu) == [*claimed, "UpdateProject"]

    # the token stays a secret in the inputs; outputs keep only its digest
    assert isinstance(stack.state("prod").inputs["import_token"], Secret)
    outputs = stack.outputs("prod")
    assert outputs["import_token"] == token_digest(token) and token not in str(outputs)

    # a new token replaces the project; the name is unique, so the old one goes first
    token2 = client.export_project(source).token
    log = stack.up({"prod": project(import_token=token2, name="promoted")})
    step = log.step("prod")
    assert step.op == "replace" and step.replaces == ["import_token"]
    assert step.delete_before_replace
    assert emulator_project(emu, pid) is None
    assert [p["id"] for p in projects_named(emu, "promoted")] == [stack.id("prod")]

    stack.destroy()
    assert [p["id"] for p in emu.admin.state()["projects"]] == [source]


def test_import_without_a_name_replaces_create_before_delete(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    source = client.create_project("source").id
    stack.up({"prod": project(import_token=client.export_project(source).token)})
    first = stack.id("prod")
    assert stack.outputs("prod")["name"].startswith("source")
    log = stack.up({"prod": project(import_token=client.export_project(source).token)})
    assert log.step("prod").op == "replace" and not log.step("prod").delete_before_replace
    assert emulator_project(emu, first) is None and emulator_project(emu, stack.id("prod"))
    stack.destroy()


def test_failed_import_leaves_nothing_behind(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    source = client.create_project("source").id
    token = client.export_project(source).token
    emu.admin.force_outcome("ImportProject", "Failed")
    with pytest.raises(ProviderError) as caught:
        stack.up({"prod": project(import_token=token, name="prod")})
    message = last_line(caught.value)
    assert "could not import the project (status Failed" in message
    assert "export the source project again" in message
    assert [p["id"] for p in emu.admin.state()["projects"]] == [source]
    assert stack.resources == {}


def test_bad_token_says_to_export_again(
    customvision_emulator: RunningEmulator, stack: Stack
) -> None:
    emu = customvision_emulator
    with pytest.raises(ProviderError) as caught:
        stack.up({"prod": project(import_token="https://example.invalid/expired?sig=x")})
    assert last_line(caught.value) == (
        "the import token is invalid or has expired (export tokens last about 24 hours): "
        "export the source project again (replace its ProjectExport, e.g. change its "
        "triggers) and import the new token"
    )
    assert "sig=x" not in str(caught.value)
    assert emu.admin.state()["projects"] == []


def test_wrong_key_is_one_clear_sentence(
    customvision_emulator: RunningEmulator, servers: Servers
) -> None:
    emu = customvision_emulator
    stack = servers.stack(
        config(emu, **{"customvision:trainingKey": Secret("0123456789abcdef-wrong")})
    )
    with pytest.raises(ProviderError) as caught:
        stack.up({"dev": project(name="dev")})
    message = last_line(caught.value)
    assert message.startswith("could not create the project: CreateProject failed")
    assert "customvision:trainingKey" in message
    assert "0123456789abcdef-wrong" not in str(caught.value)
    assert emu.admin.state()["projects"] == []


def test_published_iterations_block_destroy_unless_forced(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    stack.up({"dev": project(name="dev")})
    pid = stack.id("dev")
    add_training_data(client, pid)
    iteration = train_now(client, pid)
    client.publish_iteration(pid, iteration.id, "live", PREDICTION_ID)

    with pytest.raises(ProviderError) as caught:
        stack.destroy()
    message = last_line(caught.value)
    assert "still has published iterations" in message and "force_destroy=True" in message
    assert emulator_project(emu, pid) is not None

    stack.up({"dev": project(name="dev", force_destroy=True)})
    stack.destroy()
    assert emulator_project(emu, pid) is None


def test_delete_tolerates_a_project_that_is_already_gone(
    stack: Stack, client: TrainingClient
) -> None:
    stack.up({"dev": project(name="dev")})
    client.delete_project(stack.id("dev"))
    stack.destroy()
    assert stack.resources == {}
    assert unwrap_secrets(Secret("x")) == "x"


def test_a_domain_of_the_other_kind_replaces(
    customvision_emulator: RunningEmulator, stack: Stack
) -> None:
    emu = customvision_emulator
    stack.up({"p": project(name="p", domain_id=domains.GENERAL_CLASSIFICATION)})
    first = stack.id("p")
    stack.up({"p": project(name="p", domain_id=domains.FOOD_CLASSIFICATION)})
    assert stack.id("p") == first
    log = stack.up({"p": project(name="p", domain_id=domains.GENERAL_OBJECT_DETECTION)})
    assert log.step("p").op == "replace" and log.step("p").replaces == ["domain_id"]
    (only,) = emu.admin.state()["projects"]
    assert only["id"] == stack.id("p") != first
    assert only["settings"]["domainId"] == domains.GENERAL_OBJECT_DETECTION
    stack.destroy()


def test_lost_import_answer_adopts_the_import_it_started(
    customvision_emulator: RunningEmulator, servers: Servers, client: TrainingClient
) -> None:
    emu = customvision_emulator
    source = client.create_project("source").id
    stack = servers.stack(config(emu, **{"customvision:apiVersion": "3.2"}))
    emu.admin.inject_fault(drop_after_handling=True, operation="ImportProject", count=1)
    stack.up({"prod": project(import_token=client.export_project(source).token, name="prod")})
    assert len(emu.admin.requests(operation="ImportProject")) == 1
    names = sorted(p["name"] for p in emu.admin.state()["projects"])
    assert names == ["prod", "source"] and stack.outputs("prod")["name"] == "prod"


def test_an_empty_project_of_the_same_name_is_adopted_one_with_data_is_not(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    """What an interrupted create leaves (an empty project) is taken over; real data is not."""
    emu = customvision_emulator
    leftover = client.create_project("dev").id
    stack.up({"dev": project(name="dev", description="adopted")})
    assert stack.id("dev") == leftover
    assert [p["description"] for p in projects_named(emu, "dev")] == ["adopted"]

    client.create_tag(client.create_project("busy").id, "bolt")
    with pytest.raises(ProviderError) as failure:
        stack.up({"dev": project(name="dev"), "busy": project(name="busy")})
    assert "already has a project named 'busy'" in last_line(failure.value)
    assert len(projects_named(emu, "busy")) == 1


CLAIM = "test-project/test/prod"


def _claimed_import(client: TrainingClient, token: str, name: str) -> str:
    """What an interrupted create leaves: an import under this resource's claimed name."""
    marker = ProjectArgs(import_token=token, name=name, claim=CLAIM).marker()
    return client.import_project(token, name=f"{name} {marker}").id


def test_an_interrupted_import_is_adopted(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    """A crash after ImportProject (or while waiting): the next create finds its marker."""
    emu = customvision_emulator
    source = trainable_project(client, "source")
    token = client.export_project(source).token
    emu.admin.configure(import_seconds=1.0)
    started = _claimed_import(client, token, "prod")
    assert emulator_project(emu, started)["status"] == "Importing"  # type: ignore[index]
    emu.admin.clear_log()
    stack.up({"prod": project(import_token=token, name="prod", claim=CLAIM)})
    assert stack.id("prod") == started and stack.outputs("prod")["status"] == "Succeeded"
    assert writes(emu) == ["UpdateProject"]  # no second import: only the final name
    assert [p["id"] for p in projects_named(emu, "prod")] == [started]

    stack.destroy()


def test_another_resources_import_is_not_adopted(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    source = trainable_project(client, "source")
    token = client.export_project(source).token
    theirs = _claimed_import(client, token, "theirs")
    stack.up({"mine": project(import_token=token, claim="test-project/test/mine")})
    assert stack.id("mine") != theirs
    assert stack.outputs("mine")["name"] == "source (1)"  # the service's name, unclaimed
    assert emulator_project(emu, theirs) is not None
    stack.destroy()


def test_a_failed_interrupted_import_is_deleted_and_imported_again(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    emu = customvision_emulator
    source = trainable_project(client, "source")
    token = client.export_project(source).token
    emu.admin.force_outcome("ImportProject", "Failed")
    failed = _claimed_import(client, token, "prod")
    time.sleep(0.3)  # the emulator's import takes 0.2 s
    assert emulator_project(emu, failed)["status"] == "Failed"  # type: ignore[index]
    stack.up({"prod": project(import_token=token, name="prod", claim=CLAIM)})
    assert emulator_project(emu, failed) is None
    assert [p["id"] for p in projects_named(emu, "prod")] == [stack.id("prod")]
    assert len(emu.admin.requests(operation="ImportProject")) == 2
    stack.destroy()


def test_a_name_no_import_claims_stops_the_import_before_it_starts(
    customvision_emulator: RunningEmulator, stack: Stack, client: TrainingClient
) -> None:
    """Also what a crash right after the final renaming leaves (see the Project docstring)."""
    emu = customvision_emulator
    source = client.create_project("source").id
    token = client.export_project(source).token
    holder = client.create_project("prod").id
    emu.admin.clear_log()
    with pytest.raises(ProviderError) as refused:
        stack.up({"prod": project(import_token=token, name="prod", claim=CLAIM)})
    message = last_line(refused.value)
    assert "already has a project named 'prod'" in message and holder in message
    assert "delete it" in message and "otherwise choose another name" in message
    assert writes(emu) == []  # nothing imported
