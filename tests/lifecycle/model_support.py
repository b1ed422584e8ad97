"""Helpers for the model-lifecycle tests (Project, ProjectExport, Iteration, TrainedIteration).

* :func:`servers`: provider servers by configuration, shared by the whole session (one
  per distinct stack configuration), with the client-side rate limits off so that the
  tests run at the emulator's speed;
* seeding through the REST client: a project with enough tagged images to train;
* declarations as the resource classes register them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from customvision_emulator.samples import png
from customvision_emulator.testing import RunningEmulator
from pulumi_customvision import domains
from pulumi_customvision._rest import TrainingClient, models
from pulumi_customvision.iteration import IterationProvider
from pulumi_customvision.project import ProjectProvider
from pulumi_customvision.project_export import ProjectExportProvider
from pulumi_customvision.trained_iteration import TrainedIterationProvider, training_claim
from tests.engine import ProviderError, ProviderServer, Ref, Resource, Secret, Stack
from tests.lifecycle.conftest import declare, resource_type, stack_config

PREDICTION_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.CognitiveServices/accounts/prediction"
)
FAST = {"customvision:requestsPerSecond": "0", "customvision:trainingRequestsPerSecond": "0"}


def config(emu: RunningEmulator, **extra: str | Secret) -> dict[str, str | Secret]:
    """Stack config of the default profile at ``emu``, without client-side rate limits."""
    return stack_config(emu, **FAST, **extra)


def with_profile(
    base: dict[str, str | Secret], name: str, emu: RunningEmulator, key: str | None = None
) -> dict[str, str | Secret]:
    """``base`` plus ``customvision:profiles.<name>`` pointing at ``emu``."""
    profiles = {name: {"endpoint": emu.url, "trainingKey": key or emu.training_key}}
    return {**base, "customvision:profiles": Secret(json.dumps(profiles))}


class Servers:
    """Provider servers by stack configuration, started on first use, closed at the end."""

    def __init__(self) -> None:
        self._servers: dict[str, ProviderServer] = {}

    def get(self, cfg: dict[str, str | Secret]) -> ProviderServer:
        """The (live) server configured with ``cfg``."""
        key = json.dumps({k: str(v) + type(v).__name__ for k, v in sorted(cfg.items())})
        server = self._servers.get(key)
        if server is None:
            server = self._servers[key] = ProviderServer(cfg)
        elif not server.alive:
            server.restart()
        return server

    def stack(self, cfg: dict[str, str | Secret]) -> Stack:
        """A fresh, empty stack on the shared server of ``cfg``."""
        return Stack(server=self.get(cfg))

    def close(self) -> None:
        """Stop every server."""
        for server in self._servers.values():
            server.close()


@pytest.fixture(scope="session", name="servers")
def servers_fixture() -> Iterator[Servers]:
    """Provider servers shared by the session, by configuration."""
    pool = Servers()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(name="stack")
def stack_fixture(customvision_emulator: RunningEmulator, servers: Servers) -> Stack:
    """The model tests' ``stack``: an empty stack on the shared server of :func:`config`
    (unpaced). Modules that import it use it instead of the conftest's paced ``stack``."""
    return servers.stack(config(customvision_emulator))


# --------------------------------------------------------------------------- declarations


def project(**inputs: Any) -> Resource:
    """``cv.Project(...)`` as registered (the import token, if any, as a secret)."""
    if "import_token" in inputs and not isinstance(inputs["import_token"], Secret | type(None)):
        inputs["import_token"] = Secret(inputs["import_token"])
    return declare(ProjectProvider(), "Project", **inputs)


def export(**inputs: Any) -> Resource:
    """``cv.ProjectExport(...)`` as registered (``token`` a secret output)."""
    decl = declare(ProjectExportProvider(), "ProjectExport", **inputs)
    decl.additional_secret_outputs = ("token",)
    return decl


def iteration(**inputs: Any) -> Resource:
    """``cv.Iteration(...)`` as registered."""
    return declare(IterationProvider(), "Iteration", **inputs)


def trained(resource_name: str = "model", **inputs: Any) -> Resource:
    """``cv.TrainedIteration(resource_name, ...)`` as registered (with its derived claim)."""
    inputs.setdefault("claim", training_claim("test-project", "test", resource_name))
    return declare(TrainedIterationProvider(), "TrainedIteration", **inputs)


assert resource_type("Project").endswith(":Project")


# --------------------------------------------------------------------------- seeding


def client_for(emu: RunningEmulator, api_version: str = "3.3") -> TrainingClient:
    """A REST client of ``emu`` for seeding and inspecting, outside the provider."""
    return TrainingClient(emu.url, emu.training_key, api_version=api_version)


def add_training_data(client: TrainingClient, project_id: str, seed: int = 0) -> list[str]:
    """Two tags with five images each (what a classification training needs); tag ids."""
    tags = [client.create_tag(project_id, f"tag-{seed}-{i}").id for i in range(2)]
    for index, tag in enumerate(tags):
        images = [png(seed * 100 + index * 10 + i) for i in range(5)]
        client.create_images_from_data(project_id, images, tag_ids=[tag])
    return tags


def trainable_project(client: TrainingClient, name: str = "dev") -> str:
    """A classification project with enough data to train; its id."""
    project_id = client.create_project(name, domain_id=domains.GENERAL_CLASSIFICATION).id
    add_training_data(client, project_id)
    return project_id


def train_now(client: TrainingClient, project_id: str, name: str | None = None) -> models.Iteration:
    """Train outside Pulumi and wait (bounded) until the iteration is completed."""
    iteration = client.train_project(project_id, force_train=True)
    deadline = time.monotonic() + 20
    while iteration.status == "Training":
        assert time.monotonic() < deadline, "the emulator's training did not finish"
        time.sleep(0.05)
        iteration = client.get_iteration(project_id, iteration.id)
    if name is not None:
        iteration = client.update_iteration(project_id, iteration.id, name=name)
    return iteration


# --------------------------------------------------------------------------- inspecting


def emulator_project(emu: RunningEmulator, project_id: str) -> dict[str, Any] | None:
    """The emulator's dump of one project, or ``None`` if it does not exist."""
    return next((p for p in emu.admin.state()["projects"] if p["id"] == project_id), None)


def emulator_iterations(emu: RunningEmulator, project_id: str) -> dict[str, dict[str, Any]]:
    """The emulator's iterations of a project by id.

    The state dump has the newest API version's shapes (v3.4-preview): fields that only
    older versions have, such as v2.x ``isDefault``, are not in it; read those through a
    client of that version (``client_for(emu, "2.0")``).
    """
    found = emulator_project(emu, project_id)
    assert found is not None, f"project {project_id} is not in the emulator"
    return {i["id"]: i for i in found["iterations"]}


def writes(emu: RunningEmulator) -> list[str]:
    """The operations of the logged requests other than GETs (in order)."""
    return [r["operation"] for r in emu.admin.requests() if r["method"] != "GET"]


def last_line(error: ProviderError) -> str:
    """The provider error's own message (the last line the user reads)."""
    return error.message.strip().splitlines()[-1]


def promotion_program(data_revision: int) -> dict[str, Resource]:
    """The promotion program of DESIGN.md §1, as the engine sees it (dev trains, exports;
    prod imports under profile "prod" and publishes the promoted iteration)."""
    return {
        "dev": project(name="parts-detector"),
        "model": trained(project_id=Ref("dev", "id"), name="v7", triggers={"data": data_revision}),
        "export": export(project_id=Ref("dev", "id"), triggers={"model": Ref("model", "id")}),
        "prod": project(
            import_token=Ref("export", "token"),
            name="parts-detector",
            profile="prod",
            # The driver deletes a delete-before-replace resource before its dependents (the
            # engine deletes the dependents first); force_destroy unpublishes for it.
            force_destroy=True,
        ),
        "live": iteration(
            project_id=Ref("prod", "id"),
            source_name="v7",
            profile="prod",
            publish_name="parts-detector",
            prediction_resource_id=PREDICTION_ID,
        ),
    }
