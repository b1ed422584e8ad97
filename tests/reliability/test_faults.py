"""Fault suite: whole lifecycles converge while the emulator misbehaves.

The emulator is told to answer 20 % of API requests with 503, 10 % with 429 and
``Retry-After: 1``, to drop 5 % of connections without an answer (half of them before the
request is handled, half after: the service acted and the answer is lost), and to hold 1 %
for 2 s. Faults are checked in order and each takes its share of what the earlier ones
left, so the fractions below are conditional and the marginal rates are the ones above.
Every fault is seeded; the order in which concurrent requests reach the emulator can vary,
so *which* call gets which fault may differ between runs, not the rates.

After every step the emulator's state is compared with the declared state: nothing lost,
nothing duplicated, no object left that no state owns, no iteration trained twice.

The default run is short (a few dozen resources, 500 regions); ``CV_LONG_TESTS=1`` runs the
5,000-region lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from pulumi_customvision.image_regions import ImageRegionsProvider
from pulumi_customvision.images import ImagesProvider
from pulumi_customvision.project import ProjectProvider
from pulumi_customvision.tag import TagProvider
from tests.engine import ProviderServer, Ref, Stack
from tests.lifecycle.conftest import GENERAL_DETECTION, declare, emulator_regions, stack_config
from tests.lifecycle.model_support import (
    PREDICTION_ID,
    config,
    export,
    iteration,
    project,
    trained,
    with_profile,
)
from tests.reliability.support import LONG, inventory, orphans, seed_detection_project

SEED = 20261122


def inject_fault_mix(emu: RunningEmulator, seed: int = SEED, delay_fraction: float = 0.01) -> None:
    """20 % 503, 10 % 429 (Retry-After 1 s), 5 % dropped connections, some 2 s delays."""
    admin = emu.admin
    admin.inject_fault(status=503, fraction=0.2, seed=seed)
    admin.inject_fault(status=429, retry_after=1, fraction=0.1 / 0.8, seed=seed + 1)
    admin.inject_fault(drop_connection=True, fraction=0.025 / 0.7, seed=seed + 2)
    admin.inject_fault(drop_after_handling=True, fraction=0.025 / 0.675, seed=seed + 3)
    admin.inject_fault(delay_ms=2000, fraction=delay_fraction / 0.65, seed=seed + 4)


def fault_report(emu: RunningEmulator) -> dict[str, int]:
    """How many requests got which answer (0 means a dropped connection)."""
    totals: dict[str, int] = {}
    for per_status in emu.admin.counters().values():
        for status, count in per_status.items():
            totals[status] = totals.get(status, 0) + count
    return dict(sorted(totals.items()))


@pytest.fixture(scope="module")
def fault_server(customvision_emulator_server: RunningEmulator) -> Iterator[ProviderServer]:
    """A provider server whose client paces at 50 requests/s (keeps the short run short)."""
    config = stack_config(customvision_emulator_server, **{"customvision:requestsPerSecond": "50"})
    server = ProviderServer(config)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def fault_stack(
    customvision_emulator: RunningEmulator, fault_server: ProviderServer
) -> Iterator[Stack]:
    if not fault_server.alive:
        fault_server.restart()
    with Stack(server=fault_server) as s:
        yield s


# --------------------------------------------------------------------------- one fault at a time


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_dropped_create_tag_converges_to_one_tag(
    when: str, fault_stack: Stack, customvision_emulator: RunningEmulator, client: TrainingClient
) -> None:
    """A CreateTag whose connection drops: before handling it must be sent again, after
    handling the tag it made must be adopted; either way exactly one tag, no error."""
    emu = customvision_emulator
    pid = client.create_project("seeded", domain_id=GENERAL_DETECTION).id
    emu.admin.inject_fault(
        drop_connection=when == "before",
        drop_after_handling=when == "after",
        operation="CreateTag",
        count=1,
    )
    fault_stack.up({"t": declare(TagProvider(), "Tag", project_id=pid, name="bolt")})
    assert _tags_of(emu, pid) == [("bolt", fault_stack.id("t"))]


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_dropped_create_project_converges_to_one_project(
    when: str, fault_stack: Stack, customvision_emulator: RunningEmulator
) -> None:
    emu = customvision_emulator
    emu.admin.inject_fault(
        drop_connection=when == "before",
        drop_after_handling=when == "after",
        operation="CreateProject",
        count=1,
    )
    fault_stack.up({"p": declare(ProjectProvider(), "Project", name="dropped")})
    projects = [p["id"] for p in emu.admin.state()["projects"] if p["name"] == "dropped"]
    assert projects == [fault_stack.id("p")]


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_dropped_create_image_regions_converges(
    when: str, fault_stack: Stack, customvision_emulator: RunningEmulator, client: TrainingClient
) -> None:
    emu = customvision_emulator
    seed = seed_detection_project(client, images=10, tags=2)
    regions = _declared_regions(seed, 100, shift=0)
    emu.admin.inject_fault(
        drop_connection=when == "before",
        drop_after_handling=when == "after",
        operation="CreateImageRegions",
        count=1,
    )
    fault_stack.up(
        {
            "r": declare(
                ImageRegionsProvider(),
                "ImageRegions",
                project_id=seed["project_id"],
                regions=regions,
            )
        }
    )
    have = emulator_regions(emu, seed["project_id"])
    assert have == _as_tuples(regions)


def test_two_dropped_create_image_regions_in_a_row_converge(
    fault_stack: Stack, customvision_emulator: RunningEmulator, client: TrainingClient
) -> None:
    """The same batch dropped twice before it was handled: nothing was made either time, so
    sending it a third time is safe (the service answers `duplicated` for regions it has).
    Creates of single objects get three attempts (`Context.create_or_find`); a region batch
    gets as many rounds (`_batching.CREATE_ROUNDS`)."""
    emu = customvision_emulator
    seed = seed_detection_project(client, images=10, tags=2)
    regions = _declared_regions(seed, 50, shift=0)
    emu.admin.inject_fault(drop_connection=True, operation="CreateImageRegions", count=2)
    fault_stack.up(
        {
            "r": declare(
                ImageRegionsProvider(),
                "ImageRegions",
                project_id=seed["project_id"],
                regions=regions,
            )
        }
    )
    assert emulator_regions(emu, seed["project_id"]) == _as_tuples(regions)


# --------------------------------------------------------------------------- tags, projects


def _tags_of(emu: RunningEmulator, project_id: str) -> list[tuple[str, str]]:
    project = next(p for p in emu.admin.state()["projects"] if p["id"] == project_id)
    return sorted((t["name"], t["id"]) for t in project["tags"])


def test_projects_and_tags_converge_under_faults(
    fault_stack: Stack, customvision_emulator: RunningEmulator
) -> None:
    emu = customvision_emulator
    count = 40 if LONG else 3
    baseline = inventory(emu.admin.state())

    def decls(suffix: str) -> dict[str, Any]:
        d: dict[str, Any] = {
            "p": declare(
                ProjectProvider(), "Project", name=f"faulty{suffix}", domain_id=GENERAL_DETECTION
            )
        }
        for n in range(count):
            d[f"t{n}"] = declare(TagProvider(), "Tag", project_id=Ref("p"), name=f"tag{n}{suffix}")
        return d

    inject_fault_mix(emu)
    fault_stack.up(decls(""))
    pid = fault_stack.id("p")
    assert _tags_of(emu, pid) == sorted((f"tag{n}", fault_stack.id(f"t{n}")) for n in range(count))

    fault_stack.up(decls("-v2"))  # every name changes: updates in place
    assert fault_stack.id("p") == pid
    assert _tags_of(emu, pid) == sorted(
        (f"tag{n}-v2", fault_stack.id(f"t{n}")) for n in range(count)
    )
    names = [p["name"] for p in emu.admin.state()["projects"]]
    assert names.count("faulty-v2") == 1
    assert not orphans(emu, fault_stack, baseline)

    log = fault_stack.refresh()
    assert all(step.op == "read" and not step.changed_keys for step in log), str(log)

    fault_stack.destroy()
    assert inventory(emu.admin.state()) == baseline
    report = fault_report(emu)
    print("answers:", report)
    assert report.get("503", 0) and report.get("429", 0) and report.get("0", 0)


@pytest.mark.skipif(
    not LONG,
    reason="long version only (CV_LONG_TESTS=1); the short run "
    "covers tags in test_projects_and_tags_converge_under_faults",
)
def test_tags_converge_under_faults(
    fault_stack: Stack, customvision_emulator: RunningEmulator, client: TrainingClient
) -> None:
    emu = customvision_emulator
    pid = client.create_project("seeded", domain_id=GENERAL_DETECTION).id
    count = 60 if LONG else 5

    def decls(suffix: str) -> dict[str, Any]:
        return {
            f"t{n}": declare(TagProvider(), "Tag", project_id=pid, name=f"tag{n}{suffix}")
            for n in range(count)
        }

    inject_fault_mix(emu, seed=SEED + 10)
    fault_stack.up(decls(""))
    assert _tags_of(emu, pid) == sorted((f"tag{n}", fault_stack.id(f"t{n}")) for n in range(count))
    fault_stack.up(decls("-v2"))
    assert _tags_of(emu, pid) == sorted(
        (f"tag{n}-v2", fault_stack.id(f"t{n}")) for n in range(count)
    )
    fault_stack.destroy()
    assert _tags_of(emu, pid) == []
    print("answers:", fault_report(emu))


# --------------------------------------------------------------------------- regions


def _declared_regions(seed: dict[str, Any], count: int, shift: int) -> list[dict[str, Any]]:
    images, tags = seed["image_ids"], seed["tag_ids"]
    regions = []
    for n in range(count):
        slot = n // len(images) + shift
        regions.append(
            {
                "image_id": images[n % len(images)],
                "tag_id": tags[n % len(tags)],
                "left": (slot % 90) / 100,
                "top": (slot // 90) / 100,
                "width": 0.05,
                "height": 0.05,
            }
        )
    return regions


def _as_tuples(regions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (r["image_id"], r["tag_id"], r["left"], r["top"], r["width"], r["height"]) for r in regions
    )


def test_image_regions_lifecycle_converges_under_faults(
    fault_stack: Stack, customvision_emulator: RunningEmulator, client: TrainingClient
) -> None:
    emu = customvision_emulator
    count = 5000 if LONG else 500
    seed = seed_detection_project(client, images=max(10, count // 5), tags=3)
    pid = seed["project_id"]
    baseline = inventory(emu.admin.state())

    def decls(regions: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "r": declare(ImageRegionsProvider(), "ImageRegions", project_id=pid, regions=regions)
        }

    inject_fault_mix(emu, seed=SEED + 20)
    first = _declared_regions(seed, count, shift=0)
    fault_stack.up(decls(first))
    have = emulator_regions(emu, pid)
    assert len(have) == len(set(have)) and have == _as_tuples(first)

    # Half the regions move: the difference is deleted and created.
    second = first[: count // 2] + _declared_regions(seed, count - count // 2, shift=20)
    fault_stack.up(decls(second))
    have = emulator_regions(emu, pid)
    assert len(have) == len(set(have)) and have == _as_tuples(second)
    assert not orphans(emu, fault_stack, baseline)

    log = fault_stack.refresh()
    assert log.step("r").op == "read" and not log.step("r").changed_keys

    fault_stack.destroy()
    assert emulator_regions(emu, pid) == []
    print("answers:", fault_report(emu))


# --------------------------------------------------------------------------- promotion


@pytest.fixture(scope="module")
def prod_emulator() -> Iterator[RunningEmulator]:
    """The prod account: a second emulator with its own key."""
    from customvision_emulator.testing import TEST_DEFAULTS, run_emulator

    with run_emulator(**{**TEST_DEFAULTS, "training_key": "prod-fault-key"}) as emu:
        yield emu


def test_promotion_converges_under_faults(
    customvision_emulator: RunningEmulator,
    prod_emulator: RunningEmulator,
) -> None:
    """Train in dev, export, import into prod, publish; rename; destroy; with faults on both
    accounts. Afterwards each account holds exactly what is declared, trained once."""
    dev, prod = customvision_emulator, prod_emulator
    prod.admin.reset()
    cfg = with_profile(config(dev), "prod", prod, key="prod-fault-key")
    per_tag = 8 if LONG else 5

    def program(model_name: str) -> dict[str, Any]:
        decls: dict[str, Any] = {"dev": project(name="parts", description="dev")}
        for t in ("bolt", "nut"):
            decls[t] = declare(TagProvider(), "Tag", project_id=Ref("dev"), name=t)
            decls[f"{t}-images"] = declare(
                ImagesProvider(),
                "Images",
                project_id=Ref("dev"),
                urls=[f"https://example.com/{t}/{n}.jpg" for n in range(per_tag)],
                tag_ids=[Ref(t)],
            )
        decls["model"] = trained(project_id=Ref("dev"), name=model_name, triggers={"v": 1})
        decls["export"] = export(project_id=Ref("dev"), triggers={"model": Ref("model")})
        decls["prod"] = project(
            import_token=Ref("export", "token"), name="parts", profile="prod", force_destroy=True
        )
        decls["live"] = iteration(
            project_id=Ref("prod"),
            source_name="v7",
            profile="prod",
            publish_name="parts",
            prediction_resource_id=PREDICTION_ID,
        )
        return decls

    server = ProviderServer(cfg)
    try:
        with Stack(server=server) as stack:
            inject_fault_mix(dev, seed=SEED + 30)
            inject_fault_mix(prod, seed=SEED + 40)
            stack.up(program("v7"))

            (dev_project,) = dev.admin.state()["projects"]
            assert dev_project["id"] == stack.id("dev")
            assert sorted(t["name"] for t in dev_project["tags"]) == ["bolt", "nut"]
            assert len(dev_project["images"]) == 2 * per_tag
            (model,) = dev_project["iterations"]
            assert (model["id"], model["name"], model["status"]) == (
                stack.id("model"),
                "v7",
                "Completed",
            )
            (prod_project,) = prod.admin.state()["projects"]
            assert prod_project["id"] == stack.id("prod")
            (promoted,) = prod_project["iterations"]
            assert (promoted["name"], promoted["publishName"]) == ("v7", "parts")
            assert len(prod_project["images"]) == 2 * per_tag
            assert not [r for r in prod.admin.requests() if r["operation"] == "TrainProject"]

            log = stack.refresh()  # computed outputs may move (image counts), nothing is gone
            assert {step.op for step in log} == {"read"}, str(log)
            log = stack.up(program("v7"))  # and nothing the user declared differs
            assert set(log.ops().values()) == {"same"}, str(log)

            stack.destroy()
            assert dev.admin.state()["projects"] == []
            assert prod.admin.state()["projects"] == []
            print("dev answers:", fault_report(dev), "prod answers:", fault_report(prod))
    finally:
        server.close()
        prod.admin.clear_faults()
