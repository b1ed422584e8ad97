"""Fixtures of the reliability suites: a crash-hooked provider server, seeding, inventory.

``CV_LONG_TESTS=1`` selects the long versions (every crash point, the 5,000-region fault
run); the default run keeps the suites short and seeded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from tests.engine import ProviderServer, Stack
from tests.engine.server import REPO_ROOT
from tests.lifecycle.conftest import GENERAL_DETECTION, stack_config

HOOK_DIR = Path(__file__).parent / "_hook"
LONG = os.environ.get("CV_LONG_TESTS", "") not in ("", "0")


def hooked_env(crash_after: int, marker: Path) -> dict[str, str]:
    """Environment of a provider server that SIGKILLs itself after ``crash_after`` API calls."""
    return {
        "PYTHONPATH": os.pathsep.join([str(HOOK_DIR), str(REPO_ROOT)]),
        "CV_CRASH_AFTER_CALLS": str(crash_after),
        "CV_CRASH_MARKER": str(marker),
    }


@pytest.fixture(scope="session")
def steady_server(customvision_emulator_server: RunningEmulator) -> Iterator[ProviderServer]:
    """A plain provider server for set-up and for the `up` after a crash."""
    server = ProviderServer(stack_config(customvision_emulator_server))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def steady_stack(
    customvision_emulator: RunningEmulator, steady_server: ProviderServer
) -> Iterator[Stack]:
    """An empty stack on the steady server."""
    if not steady_server.alive:
        steady_server.restart()
    with Stack(server=steady_server) as s:
        yield s


@pytest.fixture
def client(customvision_emulator: RunningEmulator) -> Iterator[TrainingClient]:
    """A REST client for seeding and inspecting the emulator outside the provider."""
    with TrainingClient(customvision_emulator.url, customvision_emulator.training_key) as c:
        yield c


def seed_detection_project(
    client: TrainingClient, images: int = 4, tags: int = 2, name: str = "seeded"
) -> dict[str, Any]:
    """An object-detection project with ``tags`` tags and ``images`` URL images."""
    project = client.create_project(name, domain_id=GENERAL_DETECTION)
    tag_ids = [client.create_tag(project.id, f"tag{n}").id for n in range(tags)]
    image_ids: list[str] = []
    for first in range(0, images, 64):
        batch = [f"https://example.com/{n}.jpg" for n in range(first, min(first + 64, images))]
        summary = client.create_images_from_urls(project.id, batch)
        image_ids += [entry.image.id for entry in summary.images if entry.image is not None]
    return {"project_id": project.id, "tag_ids": tag_ids, "image_ids": image_ids}


# --------------------------------------------------------------------------- inventory


def inventory(state: dict[str, Any]) -> dict[str, set[str]]:
    """Every object id in an emulator state dump, by kind (lower case)."""
    kinds: dict[str, set[str]] = {
        "project": set(),
        "tag": set(),
        "image": set(),
        "region": set(),
        "iteration": set(),
    }
    for project in state["projects"]:
        kinds["project"].add(project["id"].lower())
        for tag in project.get("tags", []):
            kinds["tag"].add(tag["id"].lower())
        for image in project.get("images", []):
            kinds["image"].add(image["id"].lower())
            for region in image.get("regions") or []:
                kinds["region"].add(region["regionId"].lower())
        for iteration in project.get("iterations", []):
            kinds["iteration"].add(iteration["id"].lower())
    return kinds


def referenced_ids(value: Any) -> set[str]:
    """Every string inside ``value`` (ids, outputs, nested maps), lower-cased."""
    found: set[str] = set()
    if isinstance(value, str):
        found.add(value.lower())
        found.update(part.lower() for part in value.split(":"))
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= referenced_ids(key) | referenced_ids(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= referenced_ids(item)
    elif hasattr(value, "value"):  # Secret
        found |= referenced_ids(value.value)
    return found


def owned_by_state(stack: Stack) -> set[str]:
    """Ids the stack's state knows: resource ids and every id inside outputs."""
    owned: set[str] = set()
    for st in [*stack.resources.values(), *stack.pending_deletes]:
        owned.add(st.id.lower())
        owned |= referenced_ids({k: v for k, v in st.outputs.items() if k != "__provider"})
    return owned


def orphans(
    emu: RunningEmulator, stack: Stack, baseline: dict[str, set[str]]
) -> dict[str, set[str]]:
    """Objects in the emulator that neither existed before nor are known to the state."""
    owned = owned_by_state(stack)
    now = inventory(emu.admin.state())
    return {
        kind: left for kind, ids in now.items() if (left := ids - baseline.get(kind, set()) - owned)
    }
