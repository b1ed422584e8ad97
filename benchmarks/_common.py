"""What the benchmarks share: the table printer, seeding, and emulator/stack set-up."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from customvision_emulator.testing import RunningEmulator  # noqa: E402
from pulumi_customvision._rest import ClientSettings, TrainingClient  # noqa: E402
from tests.engine import Secret  # noqa: E402
from tests.lifecycle.imagegen import png  # noqa: E402

DETECTION = "da2e3a8a-40a5-4171-82f4-58522f70fbc1"
CLASSIFICATION = "ee85a74c-405e-4adc-bb47-ffa8ca0c9f31"
HEADER = ("measure", "value", "goal", "verdict")

Row = tuple[str, str, str, str]


def verdict(ok: bool, bad: str = "MISSED") -> str:
    return "ok" if ok else bad


def print_table(title: str, rows: Iterable[Sequence[str]], note: str = "") -> None:
    """Print ``rows`` (measure, value, goal, verdict) under ``title``, columns aligned."""
    table = [tuple(HEADER), *[tuple(r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    print(f"\n{title}\n")
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if note:
        print(f"\n{note}")
    sys.stdout.flush()


def seed_client(emu: RunningEmulator) -> TrainingClient:
    """A client without rate limit, for seeding before the emulator is slowed down."""
    return TrainingClient(emu.url, emu.training_key, settings=ClientSettings(requests_per_second=0))


def seed_images(client: TrainingClient, project_id: str, count: int, first: int = 1) -> list[str]:
    """``count`` tiny distinct PNG images uploaded 64 per call; their ids in order."""
    ids: list[str] = []
    for start in range(0, count, 64):
        n = min(64, count - start)
        summary = client.create_images_from_data(
            project_id, [(f"{k}.png", png(first + start + k)) for k in range(n)]
        )
        ids += [r.image.id for r in summary.images if r.image is not None]
    assert len(ids) == count, f"seeded {len(ids)} of {count} images"
    return ids


def stack_config(emu: RunningEmulator, rate: float | None = None) -> dict[str, Any]:
    """Stack configuration of the default profile at ``emu`` (client pacing ``rate``/s)."""
    config: dict[str, Any] = {
        "customvision:endpoint": emu.url,
        "customvision:trainingKey": Secret(emu.training_key),
    }
    if rate is not None:
        config["customvision:requestsPerSecond"] = str(rate)
        config["customvision:trainingRequestsPerSecond"] = str(rate)
    return config
