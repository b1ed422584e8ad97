"""Helpers of the reliability suites: the crash hook's environment, seeding, inventory.

``CV_LONG_TESTS=1`` selects the long versions (every crash point, the 5,000-region fault
run); the default run keeps the suites short and seeded.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from pathlib import Path
from typing import Any

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from tests.engine import Stack
from tests.engine.server import REPO_ROOT
from tests.lifecycle.conftest import GENERAL_DETECTION

HOOK_DIR = Path(__file__).parent / "_hook"
_SHORT_ID = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")
LONG = os.environ.get("CV_LONG_TESTS", "") not in ("", "0")


def hooked_env(
    crash_after: int | None = None, marker: Path | None = None, log_level: str | None = None
) -> dict[str, str]:
    """Environment of a provider server with the hook: a SIGKILL after ``crash_after`` API
    calls, and/or the provider's logs on stderr at ``log_level``."""
    env = {"PYTHONPATH": os.pathsep.join([str(HOOK_DIR), str(REPO_ROOT)])}
    if crash_after is not None:
        env["CV_CRASH_AFTER_CALLS"] = str(crash_after)
    if marker is not None:
        env["CV_CRASH_MARKER"] = str(marker)
    if log_level is not None:
        env["CV_LOG_LEVEL"] = log_level
    return env


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
        if _SHORT_ID.fullmatch(value):  # a UUID kept as 22 characters of URL-safe base64
            found.add(str(uuid.UUID(bytes=base64.urlsafe_b64decode(value + "=="))))
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
    """Objects in the emulator that neither existed before nor are known to the state.

    What a project brought with it when it was imported (its tags, images, regions and
    iterations) belongs to that project: a project the state owns that did not exist before
    owns everything in it.
    """
    owned = owned_by_state(stack)
    state = emu.admin.state()
    for project in state["projects"]:
        pid = project["id"].lower()
        if pid in owned and pid not in baseline.get("project", set()):
            owned |= set().union(*inventory({"projects": [project]}).values())
    now = inventory(state)
    return {
        kind: left for kind, ids in now.items() if (left := ids - baseline.get(kind, set()) - owned)
    }
