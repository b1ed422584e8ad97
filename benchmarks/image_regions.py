"""ImageRegions at scale: 10,000 regions on 2,000 images against a rate-limited emulator.

Run from the repository root::

    .venv/bin/python benchmarks/image_regions.py [--regions 10000] [--images 2000]
        [--rate 10] [--latency-ms 100]

What it measures (and the goal of each, printed in the table):

* ``create``: ``pulumi up`` of one ImageRegions (Check + Create through the SDK's
  dynamic-provider server, played by the engine driver), wall time. Goal: within 1.15x of
  the rate limit's floor, ``ceil(regions / 64)`` CreateImageRegions calls at ``rate`` per
  second (157 calls at 10/s: 15.7 s); zero 429 answers; exactly ``regions`` regions in the
  emulator afterwards. The wall time includes the gRPC Check of 10,000 dicts (about 1 s
  here, most of it the driver's and the SDK's protobuf conversion).
* ``check``: the provider's ``check`` of the whole set, in process (goal < 200 ms), and the
  same through gRPC (for information: it adds the serialization of 10,000 dicts).
* ``state``: the resource's inputs + outputs as compact JSON (goal < 1 MB), and as
  ``pulumi stack export`` indents it, for information.
* ``add 10 / remove 10``, ``refresh`` and ``destroy``: calls made and time taken.

Images are seeded through the REST client with tiny generated PNGs before the emulator is
slowed down. Nothing here is a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from customvision_emulator.testing import TEST_DEFAULTS, run_emulator  # noqa: E402
from pulumi_customvision import _config  # noqa: E402
from pulumi_customvision._rest import ClientSettings, TrainingClient  # noqa: E402
from pulumi_customvision.image_regions import ImageRegionsProvider  # noqa: E402
from tests.engine import Resource, Secret, Stack, with_provider  # noqa: E402
from tests.lifecycle.imagegen import png  # noqa: E402

DETECTION = "da2e3a8a-40a5-4171-82f4-58522f70fbc1"
MB = 1_000_000


def make_regions(images: list[str], tags: list[str], count: int) -> list[dict[str, Any]]:
    """``count`` distinct regions, spread evenly over ``images``, with 6-decimal coordinates."""
    rnd = random.Random(42)
    regions = []
    for i in range(count):
        width, height = rnd.uniform(0.01, 0.4), rnd.uniform(0.01, 0.4)
        regions.append(
            {
                "image_id": images[i % len(images)],
                "tag_id": tags[i % len(tags)],
                "left": rnd.uniform(0, 1 - width),
                "top": rnd.uniform(0, 1 - height),
                "width": width,
                "height": height,
            }
        )
    return regions


def writes(emu: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in emu.admin.requests():
        counts[r["operation"]] = counts.get(r["operation"], 0) + 1
    return counts


def throttled(emu: Any) -> int:
    return sum(n for op in emu.admin.counters().values() for s, n in op.items() if s == "429")


def region_total(emu: Any, project_id: str) -> int:
    project = next(p for p in emu.admin.state()["projects"] if p["id"] == project_id)
    return sum(len(i.get("regions") or []) for i in project["images"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()

    rows: list[tuple[str, str, str, str]] = []
    with run_emulator(**TEST_DEFAULTS) as emu:
        seed = TrainingClient(
            emu.url, emu.training_key, settings=ClientSettings(requests_per_second=0)
        )
        project_id = seed.create_project("bench", domain_id=DETECTION).id
        tags = [seed.create_tag(project_id, f"tag{i}").id for i in range(4)]
        images: list[str] = []
        for start in range(0, args.images, 64):
            n = min(64, args.images - start)
            summary = seed.create_images_from_data(
                project_id, [(f"{k}.png", png(start + k + 1)) for k in range(n)]
            )
            images += [r.image.id for r in summary.images if r.image is not None]
        assert len(images) == args.images, "seeding failed"
        regions = make_regions(images, tags, args.regions)
        provider = ImageRegionsProvider()
        news = {"project_id": project_id, "regions": regions}

        # check, in process (the provider alone) and through gRPC
        _config.set_stack_config(
            {"customvision:endpoint": emu.url, "customvision:trainingKey": emu.training_key}
        )
        times = []
        for _ in range(7):
            started = time.perf_counter()
            result = provider.check({}, news)
            times.append(time.perf_counter() - started)
        assert not result.failures, result.failures
        times.sort()
        rows.append(
            (
                "check, in process",
                f"{times[0] * 1000:.0f} ms (median {times[3] * 1000:.0f} ms)",
                "< 200 ms",
                "ok" if times[3] < 0.2 else "SLOW",
            )
        )

        config = {
            "customvision:endpoint": emu.url,
            "customvision:trainingKey": Secret(emu.training_key),
            "customvision:requestsPerSecond": str(args.rate),
        }
        with Stack(config) as stack:
            started = time.perf_counter()
            stack.server.check({}, with_provider(provider, news))
            grpc_check = time.perf_counter() - started
            rows.append(("check, through gRPC", f"{grpc_check * 1000:.0f} ms", "(info)", ""))

            emu.admin.configure(requests_per_second=args.rate, latency_ms=args.latency_ms)
            emu.admin.clear_log()
            decl = {"labels": Resource(provider, news)}
            started, wall_start = time.perf_counter(), time.time()
            stack.up(decl, expect_empty_second_up=False)
            create_s = time.perf_counter() - started
            wall_end = time.time()
            calls = writes(emu)
            creates = calls.get("CreateImageRegions", 0)
            batches = math.ceil(args.regions / 64)
            floor = batches / args.rate  # the rate limit's floor: ceil(regions / 64) calls
            log = emu.admin.requests(operation="CreateImageRegions")
            span = log[-1]["time"] - log[0]["time"] if log else 0.0
            rows.append(
                (
                    "create (up: Check + Create)",
                    f"{create_s:.2f} s = {create_s / floor:.3f}x floor",
                    f"<= 1.15x of {floor:.2f} s",
                    "ok" if create_s <= 1.15 * floor else "SLOW",
                )
            )
            rows.append(
                (
                    "  CreateImageRegions calls",
                    f"{creates} (first to last {span:.2f} s)",
                    f"{batches}",
                    "ok" if creates == batches else "MORE",
                )
            )
            if log:
                rows.append(
                    (
                        "  before first / after last call",
                        f"{log[0]['time'] - wall_start:.2f} s / {wall_end - log[-1]['time']:.2f} s",
                        "(info)",
                        "",
                    )
                )
            rows.append(
                (
                    "  other calls",
                    json.dumps({k: v for k, v in calls.items() if k != "CreateImageRegions"}),
                    "{}",
                    "",
                )
            )
            n429 = throttled(emu)
            rows.append(("  429 answers", str(n429), "0", "ok" if n429 == 0 else "THROTTLED"))
            present = region_total(emu, project_id)
            rows.append(
                (
                    "  regions present",
                    str(present),
                    str(args.regions),
                    "ok" if present == args.regions else "WRONG",
                )
            )

            state = stack.state("labels")
            outputs, inputs = state.plain_outputs(), state.plain_inputs()
            compact = len(json.dumps(outputs, separators=(",", ":"))) + len(
                json.dumps(inputs, separators=(",", ":"))
            )
            out_size = len(json.dumps(outputs, separators=(",", ":")))
            indented = len(json.dumps(outputs, indent=4)) + len(json.dumps(inputs, indent=4))
            rows.append(
                (
                    "state: inputs + outputs, JSON",
                    f"{compact / MB:.3f} MB (outputs {out_size / MB:.3f} MB)",
                    "< 1 MB",
                    "ok" if compact < MB else "BIG",
                )
            )
            rows.append(
                ("state, indented like stack export", f"{indented / MB:.3f} MB", "(info)", "")
            )

            # add 10, remove 10
            rnd = random.Random(7)
            changed = regions[10:] + [
                {**r, "left": round(rnd.uniform(0, 0.5), 6), "width": 0.011} for r in regions[:10]
            ]
            emu.admin.clear_log()
            started = time.perf_counter()
            stack.up(
                {"labels": Resource(provider, {**news, "regions": changed})},
                expect_empty_second_up=False,
            )
            rows.append(
                (
                    "update: add 10, remove 10",
                    f"{time.perf_counter() - started:.2f} s",
                    "1 create + 1 delete",
                    json.dumps(writes(emu)),
                )
            )

            emu.admin.clear_log()
            started = time.perf_counter()
            stack.refresh()
            rows.append(
                (
                    "refresh (no drift)",
                    f"{time.perf_counter() - started:.2f} s",
                    "",
                    json.dumps(writes(emu)),
                )
            )

            emu.admin.clear_log()
            started = time.perf_counter()
            stack.destroy()
            rows.append(
                (
                    "destroy",
                    f"{time.perf_counter() - started:.2f} s",
                    f"{batches} deletes",
                    json.dumps(writes(emu)),
                )
            )
            left = region_total(emu, project_id)
            rows.append(("  regions left", str(left), "0", "ok" if left == 0 else "LEFT"))

    print(
        f"\nImageRegions: {args.regions:,} regions on {args.images:,} images, emulator at "
        f"{args.rate:g} requests/s with {args.latency_ms:g} ms latency\n"
    )
    widths = [
        max(len(r[i]) for r in [("measure", "value", "goal", "verdict"), *rows]) for i in range(4)
    ]
    for row in [("measure", "value", "goal", "verdict"), tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
