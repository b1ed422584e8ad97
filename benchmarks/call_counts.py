"""HTTP calls per operation: a no-op preview, a refresh, an update of one field.

Run from the repository root::

    .venv/bin/python -m benchmarks.call_counts [--region-images 600]

A stack with one of every resource (Project, two Tags, Images, ImageRegions on
``region-images`` images, TrainedIteration, ProjectExport, Iteration) is deployed against
the emulator through the engine driver; then the emulator's request log counts the calls of

* a **preview** of the unchanged program (goal: 0 calls);
* a **refresh**, resource by resource (``Read`` through the provider server; goal: one GET
  per resource, plus one per 256 images for ImageRegions);
* an **update of one field** per resource (goal: one write; reads listed beside).
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from typing import Any

from benchmarks._common import DETECTION, print_table, seed_client, stack_config, verdict
from customvision_emulator.testing import TEST_DEFAULTS, RunningEmulator, run_emulator
from pulumi_customvision.image_regions import ImageRegionsProvider
from pulumi_customvision.images import ImagesProvider
from pulumi_customvision.tag import TagProvider
from tests.engine import Ref, Resource, Stack
from tests.lifecycle.conftest import declare
from tests.lifecycle.model_support import PREDICTION_ID, export, iteration, project, trained


def program(
    region_images: list[str],
    *,
    description: str = "v1",
    tag_name: str = "bolt",
    urls: int = 10,
    extra_region: bool = False,
    model_name: str = "v1",
    live_name: str | None = None,
    export_timeout: str = "1h",
) -> dict[str, Resource]:
    regions: list[dict[str, Any]] = [
        {
            "image_id": image,
            "tag_id": Ref("t1" if n % 2 == 0 else "t2"),
            "left": 0.1,
            "top": 0.1,
            "width": 0.3,
            "height": 0.3,
        }
        for n, image in enumerate(region_images)
    ]
    if extra_region:
        regions.append({**regions[0], "left": 0.5})
    return {
        "p": project(name="calls", domain_id=DETECTION, description=description),
        "t1": declare(TagProvider(), "Tag", project_id=Ref("p"), name=tag_name),
        "t2": declare(TagProvider(), "Tag", project_id=Ref("p"), name="nut"),
        "imgs": declare(
            ImagesProvider(),
            "Images",
            project_id=Ref("p"),
            urls=[f"https://example.com/extra/{n}.jpg" for n in range(urls)],
        ),
        "regions": declare(
            ImageRegionsProvider(), "ImageRegions", project_id=Ref("p"), regions=regions
        ),
        "model": trained(project_id=Ref("p"), name=model_name, triggers={"data": 1}),
        "export": export(
            project_id=Ref("p"),
            triggers={"model": Ref("model")},
            timeouts={"create": export_timeout},
        ),
        "live": iteration(
            project_id=Ref("p"),
            iteration_id=Ref("model"),
            publish_name="calls",
            prediction_resource_id=PREDICTION_ID,
            **({"name": live_name} if live_name else {}),
        ),
    }


def _calls(emu: RunningEmulator) -> Counter[str]:
    return Counter(f"{r['method']} {r['operation']}" for r in emu.admin.requests())


def _show(calls: Counter[str]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "none"


def run(region_images: int = 600) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    # The project is created by the stack; the images the regions use are uploaded into it
    # by URL right after, as a data pipeline would.
    with run_emulator(**TEST_DEFAULTS) as emu, Stack(stack_config(emu, rate=0)) as stack:
        if True:
            client = seed_client(emu)
            stack.up({"p": program([])["p"]})
            pid = stack.id("p")
            images: list[str] = []
            for first in range(0, region_images, 64):
                urls = [
                    f"https://example.com/r/{n}.jpg"
                    for n in range(first, min(first + 64, region_images))
                ]
                summary = client.create_images_from_urls(pid, urls)
                images += [e.image.id for e in summary.images if e.image is not None]
            base = program(images)
            stack.up(base)

            emu.admin.clear_log()
            stack.preview(base)
            calls = _calls(emu)
            rows.append(
                (
                    "no-op preview (8 resources)",
                    _show(calls),
                    "0 calls",
                    verdict(sum(calls.values()) == 0),
                )
            )

            for name, st in stack.resources.items():
                emu.admin.clear_log()
                stack.server.read(st.id, st.outputs, inputs=st.inputs, urn=st.urn)
                calls = _calls(emu)
                goal = 1 + (math.ceil(region_images / 256) - 1 if name == "regions" else 0)
                if name == "export":
                    goal = 0  # an export is a snapshot; nothing in the service reflects it
                gets = sum(n for op, n in calls.items() if op.startswith("GET"))
                rows.append(
                    (
                        f"refresh {name}",
                        _show(calls),
                        f"{goal} GET",
                        verdict(gets <= goal and gets == sum(calls.values())),
                    )
                )

            updates = {
                "p (description)": {"description": "v2"},
                "t1 (name)": {"tag_name": "hex-bolt"},
                "imgs (add 1 url)": {"urls": 11},
                "regions (add 1 region)": {"extra_region": True},
                "model (name)": {"model_name": "v1-final"},
                "live (name)": {"live_name": "v1-live"},
                "export (timeouts)": {"export_timeout": "2h"},
            }
            current: dict[str, Any] = {}
            for label, change in updates.items():
                current.update(change)
                emu.admin.clear_log()
                log = stack.up(program(images, **current))
                calls = _calls(emu)
                writes = Counter({op: n for op, n in calls.items() if not op.startswith("GET")})
                reads = Counter({op: n for op, n in calls.items() if op.startswith("GET")})
                goal = 0 if label.startswith("export") else 1
                ops = {n: op for n, op in log.ops().items() if op != "same"}
                rows.append(
                    (
                        f"update {label}",
                        f"writes: {_show(writes)}; reads: {_show(reads)}",
                        f"{goal} write",
                        verdict(sum(writes.values()) == goal and len(ops) <= 1),
                    )
                )
            stack.destroy()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--region-images", type=int, default=600)
    args = parser.parse_args(argv)
    print_table(
        f"HTTP calls per operation (ImageRegions on {args.region_images} images)",
        run(args.region_images),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
