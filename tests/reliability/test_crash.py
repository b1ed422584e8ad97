"""Crash suite: the provider server is SIGKILLed after each REST call of create/update/delete.

How a crash point is made: the provider server is started with ``_hook/sitecustomize.py``
on its path and ``CV_CRASH_AFTER_CALLS=k``; it kills itself right after the k-th API call
has been answered by the emulator, before the provider sees the answer (the service acted,
nobody recorded it: the worst moment). The points of an operation are k = 1..K, where K is
the number of API calls the operation makes, counted in the emulator's request log on a
clean run first. After the crash the next ``up`` (or ``destroy``) runs on a fresh server and
must converge: the emulator holds exactly the declared objects, nothing duplicated, and no
orphan (an object no state owns).

The default run covers every point of the small operations and the first, middle and last
points of the large ones; ``CV_LONG_TESTS=1`` covers every point of every operation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from pulumi_customvision.image_regions import ImageRegionsProvider
from pulumi_customvision.images import ImagesProvider
from pulumi_customvision.iteration import IterationProvider
from pulumi_customvision.project import ProjectProvider
from pulumi_customvision.project_export import ProjectExportProvider
from pulumi_customvision.tag import TagProvider
from tests.engine import ProviderError, ProviderServer, Ref, Secret, Stack
from tests.lifecycle.conftest import (
    GENERAL_DETECTION,
    Region,
    declare,
    emulator_regions,
    stack_config,
)
from tests.lifecycle.model_support import PREDICTION_ID, trained
from tests.reliability.support import (
    LONG,
    hooked_env,
    inventory,
    orphans,
    seed_detection_project,
)

Decls = dict[str, Any]


@dataclasses.dataclass
class Seeded:
    emu: RunningEmulator
    client: TrainingClient
    project_id: str
    tag_ids: list[str]
    image_ids: list[str]
    other_project_id: str
    train_project_id: str = ""
    trained_iteration_id: str = ""


@dataclasses.dataclass
class Scenario:
    """One operation to crash: ``before`` is deployed first (if any), then ``after`` is
    applied with ``up`` (or the stack destroyed if ``after`` is ``None``); ``expect`` checks
    the emulator once the operation has converged."""

    name: str
    before: Callable[[Seeded], Decls] | None
    after: Callable[[Seeded], Decls] | None
    expect: Callable[[Seeded, Stack], None]
    after_last_call: (
        Callable[[Seeded, Stack, Callable[[], None], dict[str, set[str]]], None] | None
    ) = None
    """The documented outcome of a crash right after the operation's last call, where the
    resource documents one other than convergence (its final renaming: the one window its
    claim marker cannot cover). It gets a callable that runs the next ``up``."""
    emulator_settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Emulator settings for this scenario (restored after), e.g. a training that outlasts
    the provider's restart, as real trainings (minutes) do."""


# --------------------------------------------------------------------------- expectations


def _project(seed: Seeded, project_id: str) -> dict[str, Any]:
    return next(p for p in seed.emu.admin.state()["projects"] if p["id"] == project_id)


def _tags_named(seed: Seeded, project_id: str) -> dict[str, list[str]]:
    named: dict[str, list[str]] = {}
    for t in _project(seed, project_id)["tags"]:
        named.setdefault(t["name"], []).append(t["id"])
    return named


def _expect_tag(name: str, *, in_other: bool = False) -> Callable[[Seeded, Stack], None]:
    def check(seed: Seeded, stack: Stack) -> None:
        pid = seed.other_project_id if in_other else seed.project_id
        named = _tags_named(seed, pid)
        assert named.get(name) == [stack.id("t")], f"tags of the project: {named}"
        seeded = {f"tag{n}" for n in range(len(seed.tag_ids))}
        assert set(named) == (set() if in_other else seeded) | {name}, f"tags: {named}"
        if in_other:
            assert set(_tags_named(seed, seed.project_id)) == seeded

    return check


def _expect_no_tag(seed: Seeded, stack: Stack) -> None:
    assert set(_tags_named(seed, seed.project_id)) == {f"tag{n}" for n in range(2)}


def _projects_named(seed: Seeded, name: str) -> list[str]:
    return [p["id"] for p in seed.emu.admin.state()["projects"] if p["name"] == name]


def _expect_project(name: str, description: str | None = None) -> Callable[[Seeded, Stack], None]:
    def check(seed: Seeded, stack: Stack) -> None:
        assert _projects_named(seed, name) == [stack.id("p")]
        if description is not None:
            assert _project(seed, stack.id("p"))["description"] == description

    return check


def _expect_no_project(name: str) -> Callable[[Seeded, Stack], None]:
    def check(seed: Seeded, stack: Stack) -> None:
        assert _projects_named(seed, name) == []

    return check


def _region_set(seed: Seeded) -> list[Region]:
    return emulator_regions(seed.emu, seed.project_id)


def _regions(seed: Seeded, count: int, shift: float = 0.0) -> list[dict[str, Any]]:
    regions = []
    for n in range(count):
        image = seed.image_ids[n % len(seed.image_ids)]
        slot = n // len(seed.image_ids)
        regions.append(
            {
                "image_id": image,
                "tag_id": seed.tag_ids[n % len(seed.tag_ids)],
                "left": round(0.01 * slot + shift, 6),
                "top": 0.1,
                "width": 0.05,
                "height": 0.05,
            }
        )
    return regions


def _expect_regions(count: int, shift: float = 0.0) -> Callable[[Seeded, Stack], None]:
    def check(seed: Seeded, stack: Stack) -> None:
        wanted = sorted(
            (r["image_id"], r["tag_id"], r["left"], r["top"], r["width"], r["height"])
            for r in _regions(seed, count, shift)
        )
        have = _region_set(seed)
        assert len(have) == len(set(have)), "duplicated regions"
        assert have == wanted, f"{len(have)} regions in the emulator, {len(wanted)} declared"
        if count:
            assert stack.outputs("r")["count"] == count

    return check


# --------------------------------------------------------------------------- scenarios


def _tag(seed: Seeded, name: str, *, other: bool = False, **extra: Any) -> Decls:
    pid = seed.other_project_id if other else seed.project_id
    return {"t": declare(TagProvider(), "Tag", project_id=pid, name=name, **extra)}


SCENARIOS: list[Scenario] = [
    Scenario("tag-create", None, lambda s: _tag(s, "bolt"), _expect_tag("bolt")),
    Scenario(
        "tag-update",
        lambda s: _tag(s, "bolt"),
        lambda s: _tag(s, "hex-bolt", description="M6"),
        _expect_tag("hex-bolt"),
    ),
    Scenario(
        "tag-replace",
        lambda s: _tag(s, "bolt"),
        lambda s: _tag(s, "bolt", other=True),
        _expect_tag("bolt", in_other=True),
    ),
    Scenario("tag-delete", lambda s: _tag(s, "bolt"), None, _expect_no_tag),
]


def _proj(seed: Seeded, **inputs: Any) -> Decls:
    return {"p": declare(ProjectProvider(), "Project", **inputs)}


SCENARIOS += [
    Scenario(
        "project-create",
        None,
        lambda s: _proj(s, name="crash-p", domain_id=GENERAL_DETECTION),
        _expect_project("crash-p"),
    ),
    Scenario(
        "project-update",
        lambda s: _proj(s, name="crash-p"),
        lambda s: _proj(s, name="crash-p2", description="renamed"),
        _expect_project("crash-p2", "renamed"),
    ),
    Scenario(
        "project-delete",
        lambda s: _proj(s, name="crash-p"),
        None,
        _expect_no_project("crash-p"),
    ),
]

_N = 300 if LONG else 130  # regions: 5 or 3 CreateImageRegions batches of at most 64


def _regs(seed: Seeded, count: int, shift: float = 0.0) -> Decls:
    return {
        "r": declare(
            ImageRegionsProvider(),
            "ImageRegions",
            project_id=seed.project_id,
            regions=_regions(seed, count, shift),
        )
    }


SCENARIOS += [
    Scenario("regions-create", None, lambda s: _regs(s, _N), _expect_regions(_N)),
    Scenario(
        "regions-update",
        lambda s: _regs(s, _N),
        lambda s: _regs(s, _N, shift=0.5),
        _expect_regions(_N, shift=0.5),
    ),
    Scenario("regions-delete", lambda s: _regs(s, _N), None, _expect_regions(0)),
]


def _imgs(seed: Seeded, first: int, count: int) -> Decls:
    urls = [f"https://example.com/crash/{n}.jpg" for n in range(first, first + count)]
    return {"i": declare(ImagesProvider(), "Images", project_id=seed.project_id, urls=urls)}


def _expect_images(first: int, count: int) -> Callable[[Seeded, Stack], None]:
    def check(seed: Seeded, stack: Stack) -> None:
        images = _project(seed, seed.project_id)["images"]
        extra = [i["id"] for i in images if i["id"] not in seed.image_ids]
        assert len(extra) == len(set(extra)) == count, f"{len(extra)} images, {count} declared"
        if count:
            ids = stack.outputs("i")["ids"]
            wanted = {f"https://example.com/crash/{n}.jpg" for n in range(first, first + count)}
            assert set(ids) == wanted and sorted(ids.values()) == sorted(extra)

    return check


SCENARIOS += [
    Scenario("images-create", None, lambda s: _imgs(s, 0, 150), _expect_images(0, 150)),
    Scenario(
        "images-update",
        lambda s: _imgs(s, 0, 100),
        lambda s: _imgs(s, 50, 100),
        _expect_images(50, 100),
    ),
    Scenario("images-delete", lambda s: _imgs(s, 0, 100), None, _expect_images(0, 0)),
]


def _iterations(seed: Seeded) -> list[dict[str, Any]]:
    return list(_project(seed, seed.train_project_id)["iterations"])


def _model(seed: Seeded, name: str = "v1", publish: str | None = "crash") -> Decls:
    publication = (
        {"publish_name": publish, "prediction_resource_id": PREDICTION_ID} if publish else {}
    )
    return {
        "m": trained(
            "m", project_id=seed.train_project_id, name=name, force_train=True, **publication
        )
    }


def _expect_model(name: str, publish: str | None) -> Callable[[Seeded, Stack], None]:
    def check(seed: Seeded, stack: Stack) -> None:
        ours = [i for i in _iterations(seed) if i["id"] != seed.trained_iteration_id]
        assert [i["id"] for i in ours] == [stack.id("m")], (
            f"iterations trained: {[(i['name'], i['status']) for i in ours]}"
        )
        assert ours[0]["name"] == name and ours[0]["status"] == "Completed"
        assert ours[0]["publishName"] == publish

    return check


def _expect_no_model(seed: Seeded, stack: Stack) -> None:
    ours = [i for i in _iterations(seed) if i["id"] != seed.trained_iteration_id]
    assert ours == [], f"iterations left: {[(i['name'], i['publishName']) for i in ours]}"


def _trained_after_final_rename(
    seed: Seeded, stack: Stack, operate: Callable[[], None], baseline: dict[str, set[str]]
) -> None:
    """TrainedIteration's documented window: the final renaming took the claim marker
    off, so the next ``up`` cannot tell the iteration from the one a replacement
    supersedes. With ``force_train`` it trains again and takes the name and the publish
    name over; the first iteration stays, renamed "v1 (superseded by <new id prefix>)"
    and unpublished, owned by no state: exactly one such iteration, nothing else."""
    (first,) = [i for i in _iterations(seed) if i["id"] != seed.trained_iteration_id]
    assert (first["name"], first["status"]) == ("v1", "Completed")
    operate()
    new = stack.id("m")
    iterations = {i["id"]: i for i in _iterations(seed) if i["id"] != seed.trained_iteration_id}
    assert set(iterations) == {first["id"], new}
    assert (iterations[new]["name"], iterations[new]["publishName"]) == ("v1", "crash")
    left = iterations[first["id"]]
    assert (left["name"], left["status"], left["publishName"]) == (
        f"v1 (superseded by {new[:8]})",
        "Completed",
        None,
    )
    assert orphans(seed.emu, stack, baseline) == {"iteration": {first["id"].lower()}}


SCENARIOS += [
    Scenario(
        "trained-create",
        None,
        lambda s: _model(s),
        _expect_model("v1", "crash"),
        _trained_after_final_rename,
        # Outlasts the restart, so a crash between TrainProject and the claim finds the
        # training running (a training that finished by then is the documented window).
        emulator_settings={"training_seconds": 2.0},
    ),
    Scenario(
        "trained-update",
        lambda s: _model(s),
        lambda s: _model(s, "v1-final", "crash-2"),
        _expect_model("v1-final", "crash-2"),
    ),
    Scenario("trained-delete", lambda s: _model(s), None, _expect_no_model),
]


def _live(seed: Seeded, name: str | None = None, publish: str | None = "live") -> Decls:
    inputs: dict[str, Any] = {"project_id": seed.train_project_id, "source_name": "seeded"}
    if name:
        inputs["name"] = name
    if publish:
        inputs.update(publish_name=publish, prediction_resource_id=PREDICTION_ID)
    return {"l": declare(IterationProvider(), "Iteration", **inputs)}


def _expect_live(name: str, publish: str | None) -> Callable[[Seeded, Stack], None]:
    def check(seed: Seeded, stack: Stack) -> None:
        (it,) = _iterations(seed)
        assert it["id"] == seed.trained_iteration_id
        assert (it["name"], it["publishName"]) == (name, publish)
        if publish:
            assert stack.id("l") == it["id"]

    return check


SCENARIOS += [
    Scenario("iteration-create", None, lambda s: _live(s), _expect_live("seeded", "live")),
    Scenario(
        "iteration-update",
        lambda s: _live(s),
        lambda s: _live(s, name="seeded", publish="live-2"),
        _expect_live("seeded", "live-2"),
    ),
    Scenario("iteration-delete", lambda s: _live(s), None, _expect_live("seeded", None)),
]


def _promote(seed: Seeded) -> Decls:
    exp = declare(ProjectExportProvider(), "ProjectExport", project_id=seed.train_project_id)
    exp.additional_secret_outputs = ("token",)
    return {
        "x": exp,
        "p": declare(ProjectProvider(), "Project", import_token=Ref("x", "token"), name="imported"),
    }


def _expect_imported(seed: Seeded, stack: Stack) -> None:
    assert _projects_named(seed, "imported") == [stack.id("p")]
    assert isinstance(stack.state("x").outputs["token"], Secret)


def _import_after_final_rename(
    seed: Seeded, stack: Stack, operate: Callable[[], None], baseline: dict[str, set[str]]
) -> None:
    """Project's documented window: the final renaming took the claim marker off, so the
    next ``up`` finds a project named "imported" that nothing claims. It refuses before
    importing again, with the remedy (delete that project); the remedy converges."""
    (first,) = _projects_named(seed, "imported")
    assert _project(seed, first)["status"] == "Succeeded"
    with pytest.raises(ProviderError) as refused:
        operate()
    message = str(refused.value)
    assert "already has a project named 'imported'" in message and first in message
    assert "delete it" in message
    # the project the crashed create imported, with what it brought, and nothing else
    brought = inventory({"projects": [_project(seed, first)]})
    assert orphans(seed.emu, stack, baseline) == {k: v for k, v in brought.items() if v}
    seed.client.delete_project(first)
    operate()
    _expect_imported(seed, stack)
    assert not orphans(seed.emu, stack, baseline)


SCENARIOS += [
    Scenario(
        "export-and-import-create",
        None,
        _promote,
        _expect_imported,
        _import_after_final_rename,
    )
]


# --------------------------------------------------------------------------- the driver


def _operate(stack: Stack, seed: Seeded, scenario: Scenario) -> None:
    if scenario.after is None:
        stack.destroy()
    else:
        stack.up(scenario.after(seed))


def _api_calls(emu: RunningEmulator) -> int:
    return len(emu.admin.requests())


def _points(total: int) -> list[int]:
    if LONG or total <= 4:
        return list(range(1, total + 1))
    return sorted({1, (total + 1) // 2, total})


@pytest.fixture
def seeded(customvision_emulator: RunningEmulator, client: TrainingClient) -> Seeded:
    base = seed_detection_project(client, images=100, tags=2)
    other = client.create_project("other", domain_id=GENERAL_DETECTION).id
    from tests.lifecycle.model_support import train_now, trainable_project

    customvision_emulator.admin.configure(training_seconds=0.15)
    train_pid = trainable_project(client, name="trainable")
    iteration = train_now(client, train_pid, name="seeded")
    return Seeded(
        customvision_emulator,
        client,
        base["project_id"],
        base["tag_ids"],
        base["image_ids"],
        other,
        train_pid,
        iteration.id,
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_crash_after_each_call_converges(
    scenario: Scenario,
    seeded: Seeded,
    provider_server: ProviderServer,
    customvision_emulator_server: RunningEmulator,
    tmp_path: Path,
) -> None:
    emu = seeded.emu
    baseline = inventory(emu.admin.state())
    if not provider_server.alive:
        provider_server.restart()
    restore = {k: emu.admin.settings()[k] for k in scenario.emulator_settings}
    emu.admin.configure(**scenario.emulator_settings)

    # A clean run counts the operation's API calls (K) and records what they are.
    with Stack(server=provider_server) as stack:
        if scenario.before is not None:
            stack.up(scenario.before(seeded))
        emu.admin.clear_log()
        _operate(stack, seeded, scenario)
        calls = [f"{r['method']} {r['operation']}" for r in emu.admin.requests()]
        scenario.expect(seeded, stack)
        if scenario.after is not None:
            stack.destroy()
    assert calls, "the operation made no API call"

    crashed_at: list[tuple[int, str]] = []
    failures: list[str] = []
    hooked: ProviderServer | None = None
    try:
        for k in _points(len(calls)):
            where = f"crash after call {k} of {len(calls)} ({calls[k - 1]})"
            # A fresh start for every point: only the seeded objects.
            _clean_up_to(seeded, baseline)
            with Stack(server=provider_server) as stack:
                if scenario.before is not None:
                    stack.up(scenario.before(seeded))
                emu.admin.clear_log()
                marker = tmp_path / f"crash-{k}"
                env = hooked_env(k, marker)
                if hooked is None:
                    hooked = ProviderServer(stack_config(customvision_emulator_server), env=env)
                else:
                    hooked.env = env
                    hooked.restart()
                stack.server = hooked
                with pytest.raises(ProviderError) as died:
                    _operate(stack, seeded, scenario)
                assert died.value.crashed, f"{where}: {died.value}"
                assert marker.exists(), f"{where}: the hook did not fire"
                crashed_at.append((k, calls[k - 1]))

                # The next `up` (or `destroy`) on a fresh server converges.
                stack.server = provider_server
                try:
                    if k == len(calls) and scenario.after_last_call is not None:
                        scenario.after_last_call(
                            seeded, stack, lambda: _operate(stack, seeded, scenario), baseline
                        )
                    else:
                        _operate(stack, seeded, scenario)
                        scenario.expect(seeded, stack)
                        left = orphans(emu, stack, baseline)
                        assert not left, f"orphans: {left}"
                except (AssertionError, ProviderError) as exc:
                    failures.append(f"{where}: {str(exc).splitlines()[0]}")
                    continue
                if scenario.after is not None:
                    stack.destroy()
    finally:
        if hooked is not None:
            hooked.close()
        emu.admin.configure(**restore)
    print(f"{scenario.name}: crash points {crashed_at}")
    assert not failures, "did not converge after a crash:\n" + "\n".join(failures)


def _clean_up_to(seed: Seeded, baseline: dict[str, set[str]]) -> None:
    """Delete what a previous point left beyond the seeded objects, and put the seeded
    iteration back as it was (named "seeded", unpublished)."""
    client = seed.client
    for project in seed.emu.admin.state()["projects"]:
        pid = project["id"]
        if pid.lower() not in baseline["project"]:
            for iteration in project.get("iterations", []):
                if iteration.get("publishName"):
                    client.unpublish_iteration(pid, iteration["id"])
            client.delete_project(pid)
            continue
        for iteration in project.get("iterations", []):
            if iteration.get("publishName"):
                client.unpublish_iteration(pid, iteration["id"])
            if iteration["id"].lower() not in baseline["iteration"]:
                client.delete_iteration(pid, iteration["id"])
            elif iteration["name"] != "seeded":
                client.update_iteration(pid, iteration["id"], name="seeded")
        regions = [
            r["regionId"]
            for image in project.get("images", [])
            for r in image.get("regions") or []
            if r["regionId"].lower() not in baseline["region"]
        ]
        for first in range(0, len(regions), 64):
            client.delete_image_regions(pid, regions[first : first + 64])
        images = [i["id"] for i in project.get("images", []) if i["id"] not in baseline["image"]]
        for first in range(0, len(images), 256):
            client.delete_images(pid, images[first : first + 256])
        for tag in project.get("tags", []):
            if tag["id"].lower() not in baseline["tag"]:
                client.delete_tag(pid, tag["id"])
    assert inventory(seed.emu.admin.state()) == baseline
