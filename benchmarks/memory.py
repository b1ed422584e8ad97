"""Peak memory and state size of one ImageRegions with 100,000 regions.

Run from the repository root::

    .venv/bin/python -m benchmarks.memory [--regions 100000] [--per-image 5]

The regions (``per-image`` on each of ``regions / per-image`` images, uploaded by URL) are
deployed with ``up`` through the SDK's provider server against the emulator (no rate limit,
no latency: this measures size, not speed). Reported:

* the provider process's resident memory before the ``up`` and its peak (``VmHWM`` from
  ``/proc``), i.e. what the Pulumi plugin process needs for the whole Check + Create;
* the state of the resource: inputs + outputs as compact JSON, and as ``pulumi stack
  export`` indents it;
* the time of the ``up`` and of ``check`` in process, for information.

The figures depend on the machine; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks._common import DETECTION, print_table, seed_client, stack_config, verdict
from benchmarks.image_regions import make_regions
from customvision_emulator.testing import TEST_DEFAULTS, run_emulator
from pulumi_customvision import _config
from pulumi_customvision.image_regions import ImageRegionsProvider
from tests.engine import Resource, Stack

MB = 1_000_000


def _proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def run(regions: int = 100_000, per_image: int = 5) -> list[tuple[str, str, str, str]]:
    images_needed = -(-regions // per_image)
    rows: list[tuple[str, str, str, str]] = []
    with run_emulator(**TEST_DEFAULTS) as emu:
        client = seed_client(emu)
        project_id = client.create_project("memory", domain_id=DETECTION).id
        tags = [client.create_tag(project_id, f"tag{i}").id for i in range(4)]
        images: list[str] = []
        for first in range(0, images_needed, 64):
            urls = [
                f"https://example.com/m/{n}.jpg"
                for n in range(first, min(first + 64, images_needed))
            ]
            summary = client.create_images_from_urls(project_id, urls)
            images += [e.image.id for e in summary.images if e.image is not None]
        wanted = make_regions(images, tags, regions)
        provider = ImageRegionsProvider()
        news = {"project_id": project_id, "regions": wanted}

        _config.set_stack_config(
            {"customvision:endpoint": emu.url, "customvision:trainingKey": emu.training_key}
        )
        started = time.perf_counter()
        checked = provider.check({}, news)
        check_s = time.perf_counter() - started
        assert not checked.failures, checked.failures[:3]

        with Stack(stack_config(emu, rate=0)) as stack:
            pid = stack.server.pid
            assert pid is not None
            before_kb = _proc_kb(pid, "VmRSS")
            started = time.perf_counter()
            stack.up({"labels": Resource(provider, news)})
            up_s = time.perf_counter() - started
            peak_kb = _proc_kb(pid, "VmHWM")
            state = stack.state("labels")
            inputs, outputs = state.plain_inputs(), state.plain_outputs()
            compact_in = len(json.dumps(inputs, separators=(",", ":")))
            compact_out = len(json.dumps(outputs, separators=(",", ":")))
            indented = len(json.dumps(inputs, indent=4)) + len(json.dumps(outputs, indent=4))
            present = sum(
                len(i.get("regions") or [])
                for p in emu.admin.state()["projects"]
                if p["id"] == project_id
                for i in p["images"]
            )
            stack.destroy()

    rows += [
        (
            "regions in the emulator after up",
            f"{present:,}",
            f"{regions:,}",
            verdict(present == regions, "WRONG"),
        ),
        ("provider process RSS before up", f"{before_kb / 1024:.0f} MiB", "", "(info)"),
        ("provider process peak RSS (VmHWM)", f"{peak_kb / 1024:.0f} MiB", "", "(info)"),
        ("  peak minus idle", f"{(peak_kb - before_kb) / 1024:.0f} MiB", "", "(info)"),
        ("state: inputs, compact JSON", f"{compact_in / MB:.2f} MB", "", "(info)"),
        ("state: outputs, compact JSON", f"{compact_out / MB:.2f} MB", "", "(info)"),
        ("state: total, indented like stack export", f"{indented / MB:.2f} MB", "", "(info)"),
        ("up (Check + Create + second up), no rate limit", f"{up_s:.1f} s", "", "(info)"),
        ("check in process", f"{check_s:.2f} s", "", "(info)"),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=100_000)
    parser.add_argument("--per-image", type=int, default=5)
    args = parser.parse_args(argv)
    print_table(
        f"Memory and state: ImageRegions with {args.regions:,} regions "
        f"({args.per_image} per image)",
        run(args.regions, args.per_image),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
