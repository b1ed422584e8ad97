"""The same ImageRegions job as ``image_regions.py``, done by a plain loop over Microsoft's SDK.

Run from the repository root::

    .venv/bin/python -m benchmarks.sdk_regions [--regions 10000] [--images 2000]
        [--rate 10] [--latency-ms 100]

``azure.cognitiveservices.vision.customvision.training`` (3.1.1, which speaks the
``v3.4-preview`` paths the emulator serves) creates the same regions (``make_regions`` of
``image_regions.py``, 64 per ``create_image_regions`` call) one call after another, the
way a user script would, sleeping ``Retry-After`` when it is throttled. The emulator is set
like the provider's benchmark: ``rate`` requests/s, ``latency_ms`` added to every answer.
Both run in this process: the emulator on a background thread.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any

from benchmarks._common import DETECTION, print_table, seed_client, seed_images, verdict
from customvision_emulator.testing import TEST_DEFAULTS, run_emulator


@dataclass
class SdkResult:
    seconds: float
    calls: int
    throttled: int
    present: int


def sdk_loop(url: str, key: str, project_id: str, regions: list[dict[str, Any]]) -> SdkResult:
    """Create ``regions`` with the official SDK, 64 per call, sequentially."""
    from azure.cognitiveservices.vision.customvision.training import CustomVisionTrainingClient
    from azure.cognitiveservices.vision.customvision.training.models import (
        CustomVisionErrorException,
        ImageRegionCreateEntry,
    )
    from msrest.authentication import ApiKeyCredentials

    trainer = CustomVisionTrainingClient(url, ApiKeyCredentials(in_headers={"Training-key": key}))
    entries = [
        ImageRegionCreateEntry(
            image_id=r["image_id"],
            tag_id=r["tag_id"],
            left=r["left"],
            top=r["top"],
            width=r["width"],
            height=r["height"],
        )
        for r in regions
    ]
    calls = throttled = created = 0
    started = time.perf_counter()
    for first in range(0, len(entries), 64):
        batch = entries[first : first + 64]
        for _attempt in range(20):
            calls += 1
            try:
                summary = trainer.create_image_regions(project_id, regions=batch)
            except CustomVisionErrorException as exc:
                response = exc.response
                if response is None or response.status_code != 429:
                    raise
                throttled += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            created += len(summary.created or []) + len(summary.duplicated or [])
            break
        else:
            raise RuntimeError("throttled 20 times in a row")
    seconds = time.perf_counter() - started
    return SdkResult(seconds, calls, throttled, created)


def run(
    regions: int = 10_000, images: int = 2_000, rate: float = 10.0, latency_ms: float = 100.0
) -> SdkResult:
    from benchmarks.image_regions import make_regions

    with run_emulator(**TEST_DEFAULTS) as emu:
        client = seed_client(emu)
        project_id = client.create_project("sdk-bench", domain_id=DETECTION).id
        tags = [client.create_tag(project_id, f"tag{i}").id for i in range(4)]
        image_ids = seed_images(client, project_id, images)
        wanted = make_regions(image_ids, tags, regions)
        emu.admin.configure(requests_per_second=rate, latency_ms=latency_ms)
        emu.admin.clear_log()
        result = sdk_loop(emu.url, emu.training_key, project_id, wanted)
        state = next(p for p in emu.admin.state()["projects"] if p["id"] == project_id)
        result.present = sum(len(i.get("regions") or []) for i in state["images"])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args(argv)
    result = run(args.regions, args.images, args.rate, args.latency_ms)
    floor = math.ceil(args.regions / 64) / args.rate
    print_table(
        f"Official SDK loop: {args.regions:,} regions, emulator at {args.rate:g}/s, "
        f"{args.latency_ms:g} ms latency",
        [
            (
                "SDK loop wall time",
                f"{result.seconds:.2f} s = {result.seconds / floor:.3f}x floor",
                f"floor {floor:.2f} s",
                "(info)",
            ),
            ("  calls / 429 answers", f"{result.calls} / {result.throttled}", "", ""),
            (
                "  regions present",
                str(result.present),
                str(args.regions),
                verdict(result.present == args.regions, "WRONG"),
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
