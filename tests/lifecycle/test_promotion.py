"""Environment promotion: train in dev, export, import into prod (another account), publish.

Two emulators play two Custom Vision accounts: dev (the session emulator, the default
profile) and prod (its own emulator with another key, `customvision:profiles.prod`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from customvision_emulator.settings import TEST_DEFAULTS
from customvision_emulator.testing import RunningEmulator, run_emulator
from tests.engine import Secret
from tests.lifecycle.model_support import (
    PREDICTION_ID,
    Servers,
    add_training_data,
    client_for,
    config,
    emulator_iterations,
    servers_fixture,  # noqa: F401 - the `servers` fixture
    with_profile,
)
from tests.lifecycle.model_support import (
    promotion_program as program,
)


@pytest.fixture(scope="module")
def prod_emulator() -> Iterator[RunningEmulator]:
    """The prod account: another emulator, with another training key."""
    with run_emulator(**{**TEST_DEFAULTS, "training_key": "prod-key"}) as emu:
        yield emu


@pytest.fixture
def prod(prod_emulator: RunningEmulator) -> RunningEmulator:
    """The prod emulator, emptied."""
    prod_emulator.admin.reset()
    return prod_emulator


def only_project(emu: RunningEmulator) -> dict[str, Any]:
    (found,) = emu.admin.state()["projects"]
    return dict(found)


def test_promotion_from_dev_to_prod(
    customvision_emulator: RunningEmulator, prod: RunningEmulator, servers: Servers
) -> None:
    dev = customvision_emulator
    dev_client = client_for(dev)
    stack = servers.stack(with_profile(config(dev), "prod", prod, key="prod-key"))

    # the dev project first, then its data (seeded through the REST client)
    stack.up({"dev": program(1)["dev"]})
    dev_id = stack.id("dev")
    add_training_data(dev_client, dev_id)

    # the preview (ids and the token unknown yet) plans the creates and changes nothing
    before = dev.admin.state(), prod.admin.state()
    creates = {"dev": "same"} | {name: "create" for name in ("model", "export", "prod", "live")}
    assert stack.preview(program(1)).ops() == creates
    assert (dev.admin.state(), prod.admin.state()) == before

    # train, export, import into prod, pick the promoted iteration by name and publish it
    assert stack.up(program(1)).ops() == creates
    assert isinstance(stack.state("export").outputs["token"], Secret)
    assert isinstance(stack.state("prod").inputs["import_token"], Secret)
    model = emulator_iterations(dev, dev_id)[stack.id("model")]
    assert model["name"] == "v7" and model["status"] == "Completed"
    prod_project = only_project(prod)
    assert prod_project["id"] == stack.id("prod") and prod_project["name"] == "parts-detector"
    (promoted,) = prod_project["iterations"]
    assert promoted["id"] == stack.id("live")
    assert (promoted["name"], promoted["publishName"]) == ("v7", "parts-detector")
    assert len(prod_project["images"]) == 10 and len(prod_project["tags"]) == 2
    assert stack.outputs("prod")["endpoint"] == prod.url
    assert all(r["operation"] != "TrainProject" for r in prod.admin.requests())

    # a new training in dev re-exports and replaces the prod project
    add_training_data(dev_client, dev_id, seed=1)
    old_prod = stack.id("prod")
    preview = stack.preview(program(2))
    assert preview.step("model").op == "replace" and preview.step("export").op == "replace"
    assert preview.step("prod").op == "replace" and preview.step("live").op == "replace"
    log = stack.up(program(2))
    assert {name: log.step(name).op for name in ("model", "export", "prod", "live")} == {
        "model": "replace",
        "export": "replace",
        "prod": "replace",
        "live": "replace",
    }
    dev_iterations = emulator_iterations(dev, dev_id)
    assert list(dev_iterations) == [stack.id("model")]
    assert dev_iterations[stack.id("model")]["name"] == "v7"
    prod_project = only_project(prod)
    assert prod_project["id"] == stack.id("prod") != old_prod
    assert prod_project["name"] == "parts-detector" and len(prod_project["images"]) == 20
    published = [i for i in prod_project["iterations"] if i["publishName"]]
    assert [(i["id"], i["name"]) for i in published] == [(stack.id("live"), "v7")]

    # both accounts are empty after destroy
    stack.destroy()
    assert dev.admin.state()["projects"] == [] and prod.admin.state()["projects"] == []


def test_the_design_program_with_the_resource_classes(
    customvision_emulator: RunningEmulator, prod: RunningEmulator
) -> None:
    """DESIGN.md §1's promotion program, written with the public classes, under mocks."""
    import pulumi

    import pulumi_customvision as cv
    from tests.engine.mocks import ProviderMocks, run_program

    dev = customvision_emulator

    def seeded(project_id: str) -> str:
        add_training_data(client_for(dev), project_id)
        return project_id

    def program() -> None:
        domain = cv.domains.GENERAL_CLASSIFICATION
        project = cv.Project("dev", name="parts-detector", domain_id=domain)
        model = cv.TrainedIteration(
            "model", project_id=project.id.apply(seeded), name="v7", triggers={"labels": 1}
        )
        export = cv.ProjectExport("export", project_id=project.id, triggers={"model": model.id})
        prod_project = cv.Project(
            "prod", import_token=export.token, name="parts-detector", profile="prod"
        )
        live = cv.Iteration(
            "live",
            project_id=prod_project.id,
            source_name="v7",
            profile="prod",
            publish_name="parts-detector",
            prediction_resource_id=PREDICTION_ID,
        )
        pulumi.export("prod_project_id", prod_project.id)
        pulumi.export("live_publish_name", live.publish_name)
        pulumi.export("token", export.token)

    mocks = ProviderMocks(with_profile(config(dev), "prod", prod, key="prod-key"))
    try:
        result = run_program(program, mocks)
        # (the token's secrecy comes from additional_secret_outputs, which the engine applies
        # and these mocks do not; the Stack test above checks it)
        prod_project = only_project(prod)
        assert result.exports["prod_project_id"] == prod_project["id"]
        assert result.exports["live_publish_name"] == "parts-detector"
        (promoted,) = prod_project["iterations"]
        assert (promoted["name"], promoted["publishName"]) == ("v7", "parts-detector")
        assert mocks.resources["model"].inputs["claim"] == "test-project/test/model"
    finally:
        mocks.destroy()
    assert dev.admin.state()["projects"] == [] and prod.admin.state()["projects"] == []
