"""The emulator answers in the shapes of the real service's recorded traffic.

Every entry of ``shared/recordings/azure-sdk-for-net`` (v3.x) is resolved to its operation
and version; the emulator then performs the same operation on the same version against
objects made for it, and the member names of both answers are compared recursively.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from customvision_emulator.routing import Router
from customvision_emulator.testing import RunningEmulator

from .conftest import GENERAL_DETECTION, PREDICTION_ID, Api

RECORDINGS = Path(
    os.environ.get(
        "CUSTOMVISION_RECORDINGS",
        Path(__file__).resolve().parents[3] / "shared" / "recordings" / "azure-sdk-for-net",
    )
)
# The v3.0 service answered ProjectSettings members the v3.0 spec does not declare; the
# emulator follows the spec.
IGNORED_EXTRA = {("3.0", "settings"): {"useNegativeSet", "detectionParameters"}}
NOT_EMULATED = {"GetImageRegionProposals"}
_counter = itertools.count()


def unique(prefix: str) -> str:
    """A name no other project or tag of the test has."""
    return f"{prefix} {next(_counter)}"


def _entries() -> list[tuple[str, int, dict[str, Any]]]:
    if not RECORDINGS.is_dir():
        return []
    found = []
    for path in sorted(RECORDINGS.glob("TrainingTests__*.json")):
        for n, entry in enumerate(json.loads(path.read_text())["entries"]):
            if "/v1.2/" not in entry["uri"]:
                found.append((path.stem.split("__")[1], n, entry))
    return found


def _diff(version: str, recorded: Any, ours: Any, where: str = "") -> list[str]:
    if isinstance(recorded, dict) and isinstance(ours, dict):
        extra = IGNORED_EXTRA.get((version, where.rsplit(".", 1)[-1]), set())
        problems = []
        missing = set(recorded) - set(ours) - extra
        added = set(ours) - set(recorded)
        if missing:
            problems.append(f"{where or '.'}: missing {sorted(missing)}")
        if added:
            problems.append(f"{where or '.'}: extra {sorted(added)}")
        for key in set(recorded) & set(ours):
            problems += _diff(version, recorded[key], ours[key], f"{where}.{key}")
        return problems
    if isinstance(recorded, list) and isinstance(ours, list) and recorded and ours:
        return _diff(version, recorded[0], ours[0], f"{where}[]")
    numbers = isinstance(recorded, (int, float)) and isinstance(ours, (int, float))
    if (
        recorded is not None
        and ours is not None
        and type(recorded) is not type(ours)
        and not numbers
    ):
        return [f"{where}: {type(recorded).__name__} vs {type(ours).__name__}"]
    return []


class World:
    """Objects of one version for the recorded operations to act on."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.pid, self.tags = api.trainable(unique("world"))
        it = api.ok("POST", f"/projects/{self.pid}/train")
        self.iteration = api.wait_iteration(self.pid, it["id"], "Completed")["id"]
        self.od = api.project(unique("od"), GENERAL_DETECTION)["id"]
        self.od_tag = api.tag(self.od, "scissors")["id"]
        (self.od_image,) = api.images(self.od, [99], [])
        api.ok("POST", f"/projects/{self.od}/images/regions", json=self.one_region(0.1, 0.5))

    def one_region(self, at: float, size: float = 0.1) -> dict[str, Any]:
        """A CreateImageRegions body: one square box at (``at``, ``at``) on the od image."""
        box = {"left": at, "top": at, "width": size, "height": size}
        return {"regions": [{"imageId": self.od_image, "tagId": self.od_tag, **box}]}

    def fresh_completed(self) -> tuple[str, str]:
        pid, _ = self.api.trainable(unique("fresh"))
        it = self.api.ok("POST", f"/projects/{pid}/train")
        return pid, self.api.wait_iteration(pid, it["id"], "Completed")["id"]


def _perform(op: str, entry: dict[str, Any], world: World) -> tuple[int, Any]:
    api = world.api
    body = entry["request_body"] or None
    query = {}
    if "?" in entry["uri"]:
        from urllib.parse import parse_qsl

        query = dict(parse_qsl(entry["uri"].split("?", 1)[1]))
    pid, iid = world.pid, world.iteration
    calls: dict[str, Callable[[], Any]] = {
        "CreateProject": lambda: api.call(
            "POST", "/projects", params={**query, "name": unique("rec")}
        ),
        "UpdateProject": lambda: api.call(
            "PATCH", f"/projects/{api.project(unique('upd'))['id']}", json=body
        ),
        "DeleteProject": lambda: api.call(
            "DELETE", f"/projects/{api.project(unique('del'))['id']}"
        ),
        "GetProject": lambda: api.call("GET", f"/projects/{pid}"),
        "ExportProject": lambda: api.call("GET", f"/projects/{pid}/export"),
        "ImportProject": lambda: api.call(
            "POST",
            "/projects/import",
            params={"token": api.ok("GET", f"/projects/{pid}/export")["token"]},
        ),
        "GetTaggedImageCount": lambda: api.call("GET", f"/projects/{pid}/images/tagged/count"),
        "GetTags": lambda: api.call("GET", f"/projects/{pid}/tags"),
        "CreateTag": lambda: api.call(
            "POST",
            f"/projects/{pid}/tags",
            params={"name": unique("tag")},
        ),
        "UpdateTag": lambda: api.call(
            "PATCH", f"/projects/{pid}/tags/{api.tag(pid, unique('u'))['id']}", json=body
        ),
        "DeleteTag": lambda: api.call(
            "DELETE", f"/projects/{pid}/tags/{api.tag(pid, unique('d'))['id']}"
        ),
        "GetIterations": lambda: api.call("GET", f"/projects/{pid}/iterations"),
        "UpdateIteration": lambda: api.call(
            "PATCH", f"/projects/{pid}/iterations/{iid}", json=body
        ),
        "GetTaggedImages": lambda: api.call("GET", f"/projects/{world.od}/images/tagged"),
        "GetImagesByIds": lambda: api.call(
            "GET", f"/projects/{world.od}/images/id", params={"imageIds": world.od_image}
        ),
        "CreateImageRegions": lambda: api.call(
            "POST",
            f"/projects/{world.od}/images/regions",
            json=world.one_region(0.2),
        ),
        "CreateImagesFromUrls": lambda: api.call(
            "POST",
            f"/projects/{pid}/images/urls",
            json={**body, "tagIds": world.tags[:1] if body.get("tagIds") else None},
        ),
    }
    if op in calls:
        r = calls[op]()
    elif op in ("GetIteration", "TrainProject"):
        fresh_pid, fresh_iid = world.fresh_completed()
        if entry["response_body"]["status"] == "Training" or op == "TrainProject":
            api.emu.admin.configure(training_seconds=60)
            api.images(fresh_pid, [500 + next(_counter)], [])
            r = api.call("POST", f"/projects/{fresh_pid}/train", params={"forceTrain": "true"})
            if op == "GetIteration":
                r = api.call("GET", f"/projects/{fresh_pid}/iterations/{r.json()['id']}")
            api.emu.admin.configure(training_seconds=0.3)
        else:
            r = api.call("GET", f"/projects/{fresh_pid}/iterations/{fresh_iid}")
    elif op in ("PublishIteration", "UnpublishIteration", "DeleteIteration"):
        fresh_pid, fresh_iid = world.fresh_completed()
        publish = f"/projects/{fresh_pid}/iterations/{fresh_iid}/publish"
        if op != "DeleteIteration":
            r = api.call(
                "POST", publish, params={"publishName": "m", "predictionId": PREDICTION_ID}
            )
        if op != "PublishIteration":
            r = api.call("DELETE", publish if op == "UnpublishIteration" else publish[:-8])
    elif op == "DeleteImageRegions":
        created = api.ok(
            "POST",
            f"/projects/{world.od}/images/regions",
            json=world.one_region(0.6),
        )
        r = api.call(
            "DELETE",
            f"/projects/{world.od}/images/regions",
            params={"regionIds": created["created"][0]["regionId"]},
        )
    elif op == "DeleteImages":
        (image,) = api.images(pid, [700], [])
        r = api.call("DELETE", f"/projects/{pid}/images", params={"imageIds": image})
    else:
        raise AssertionError(f"no emulation of recorded {op}")
    return r.status_code, (r.json() if r.content else "")


ENTRIES = _entries()


@pytest.mark.skipif(not ENTRIES, reason="shared/recordings not available")
def test_recorded_shapes(customvision_emulator: RunningEmulator) -> None:
    router = Router()
    worlds: dict[str, World] = {}
    problems = []
    for name, n, entry in ENTRIES:
        match = router.resolve(entry["method"], entry["uri"].split("?", 1)[0])
        assert match is not None, entry["uri"]
        op, version = match.route.operation, match.route.version
        if op in NOT_EMULATED:
            continue
        api = Api(customvision_emulator, version)
        world = worlds.get(version) or worlds.setdefault(version, World(api))
        status, body = _perform(op, entry, world)
        label = f"{name}#{n} {op} v{version}"
        if status != entry["status"]:
            problems.append(f"{label}: status {status} vs recorded {entry['status']}: {body}")
            continue
        problems += [f"{label}: {p}" for p in _diff(version, entry["response_body"], body)]
    assert not problems, "\n".join(problems)
