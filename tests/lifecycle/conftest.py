"""Fixtures for lifecycle tests: the emulator, a stack driven by the engine driver, seeding.

A lifecycle test plays `pulumi up`/`refresh`/`destroy` through :class:`tests.engine.Stack`
against the real provider classes running in the SDK's dynamic-provider server, and checks
the emulator's state after each step.
"""

from __future__ import annotations

from typing import Any

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from tests.engine import Resource, Secret

GENERAL_DETECTION = "da2e3a8a-40a5-4171-82f4-58522f70fbc1"


def resource_type(name: str) -> str:
    """The type token of one of our resource classes, as the SDK registers it."""
    return f"pulumi-python:dynamic/customvision:{name}"


def declare(provider: Any, kind: str, **inputs: Any) -> Resource:
    """A declaration as ``cv.<kind>(name, **inputs)`` registers it (None inputs omitted)."""
    return Resource(
        provider, {k: v for k, v in inputs.items() if v is not None}, type=resource_type(kind)
    )


def stack_config(emu: RunningEmulator, **extra: Any) -> dict[str, Any]:
    """Stack configuration pointing the default profile at ``emu``."""
    return {
        "customvision:endpoint": emu.url,
        "customvision:trainingKey": Secret(emu.training_key),
        **extra,
    }


@pytest.fixture
def project_id(client: TrainingClient) -> str:
    """A fresh object-detection project, made outside Pulumi."""
    return client.create_project("seeded", domain_id=GENERAL_DETECTION).id


def emulator_project(emu: RunningEmulator, project_id: str) -> dict[str, Any]:
    """The emulator's full dump of one project (tags, images, iterations)."""
    return next(p for p in emu.admin.state()["projects"] if p["id"] == project_id)


def write_counts(emu: RunningEmulator) -> dict[str, int]:
    """The logged calls other than GETs, counted by operation."""
    counts: dict[str, int] = {}
    for r in emu.admin.requests():
        if r["method"] != "GET":
            counts[r["operation"]] = counts.get(r["operation"], 0) + 1
    return counts


Region = tuple[str, str, float, float, float, float]


def emulator_regions(emu: RunningEmulator, project_id: str) -> list[Region]:
    """Every region in the emulator's project, sorted: (image, tag, left, top, width, height),
    coordinates rounded to millionths as the provider compares them."""
    return sorted(
        (
            image["id"],
            r["tagId"],
            round(r["left"], 6),
            round(r["top"], 6),
            round(r["width"], 6),
            round(r["height"], 6),
        )
        for image in emulator_project(emu, project_id)["images"]
        for r in image.get("regions") or []
    )
