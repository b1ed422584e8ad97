"""Run every benchmark and print their tables, then the headline figures side by side.

From the repository root::

    .venv/bin/python -m benchmarks            # the full run (about 4.5 minutes on 2 CPUs)
    .venv/bin/python -m benchmarks --quick    # smaller sizes, for a smoke run (about 40 s)

In order: ImageRegions at 10,000 regions (``image_regions.py``, the provider) next to the
same job done by a plain loop over Microsoft's SDK (``sdk_regions.py``) and the rate-limit
floor; the provider's overhead per operation (``overhead.py``); HTTP calls per operation
(``call_counts.py``); training completion and polls (``training.py``); peak memory and
state size at 100,000 regions (``memory.py``). Each module also runs alone
(``python -m benchmarks.<name> --help``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

from benchmarks import call_counts, memory, overhead, sdk_regions, training
from benchmarks._common import Row, print_table, verdict


class _Tee(io.StringIO):
    """Keeps what is written and passes it on to the real stdout."""

    def __init__(self, out: Any) -> None:
        super().__init__()
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text)
        return super().write(text)

    def flush(self) -> None:
        self.out.flush()


@contextlib.contextmanager
def _argv(args: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = [saved[0], *args]
    try:
        yield
    finally:
        sys.argv = saved


def image_regions_side_by_side(regions: int, images: int, rate: float, latency_ms: float) -> Row:
    from benchmarks import image_regions

    flags = ["--regions", str(regions), "--images", str(images), "--rate", str(rate)]
    flags += ["--latency-ms", str(latency_ms)]
    tee = _Tee(sys.stdout)
    with _argv(flags), contextlib.redirect_stdout(tee):
        image_regions.main()
    found = re.search(r"create \(up: Check \+ Create\)\s+([\d.]+) s", tee.getvalue())
    assert found, "image_regions.py printed no create time"
    provider_s = float(found.group(1))
    sdk = sdk_regions.run(regions, images, rate, latency_ms)
    floor = math.ceil(regions / 64) / rate
    rows: list[Row] = [
        ("rate-limit floor", f"{floor:.2f} s", f"ceil({regions:,}/64) calls at {rate:g}/s", ""),
        (
            "this provider (up: Check + Create)",
            f"{provider_s:.2f} s = {provider_s / floor:.3f}x floor",
            "<= 1.15x floor",
            verdict(provider_s <= 1.15 * floor),
        ),
        (
            "official SDK, plain loop",
            f"{sdk.seconds:.2f} s = {sdk.seconds / floor:.3f}x floor",
            "slower than the provider",
            verdict(sdk.seconds > provider_s, "PROVIDER SLOWER"),
        ),
        (
            "  SDK calls / 429 answers / regions",
            f"{sdk.calls} / {sdk.throttled} / {sdk.present}",
            "",
            "",
        ),
    ]
    print_table(
        f"ImageRegions side by side: {regions:,} regions on {images:,} images, emulator at "
        f"{rate:g} requests/s with {latency_ms:g} ms latency",
        rows,
    )
    return (
        f"ImageRegions {regions:,}: provider / SDK loop / floor",
        f"{provider_s:.2f} s / {sdk.seconds:.2f} s / {floor:.2f} s",
        "<= 1.15x floor, < SDK",
        verdict(provider_s <= 1.15 * floor and sdk.seconds > provider_s),
    )


def _pick(rows: list[Row], label: str) -> Row:
    return next(r for r in rows if r[0] == label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary: list[Row] = []

    regions, images = (2_000, 400) if args.quick else (10_000, 2_000)
    summary.append(image_regions_side_by_side(regions, images, 10.0, 100.0))

    rows = overhead.run(30 if args.quick else 100)
    print_table("Provider overhead: Tag creates through the provider server vs. bare REST", rows)
    summary.append(_pick(rows, "provider overhead per operation"))

    rows = call_counts.run(300 if args.quick else 600)
    print_table("HTTP calls per operation", rows)
    missed = [r for r in rows if r[3] != "ok"]
    summary.append(
        (
            "HTTP calls: preview / refresh / update of one field",
            f"{len(rows) - len(missed)} of {len(rows)} targets met",
            "all",
            verdict(not missed),
        )
    )

    durations = [3.0, 10.0] if args.quick else [5.0, 20.0, 60.0]
    rows = training.run(durations)
    print_table(
        f"Training completion (TRAINING_POLL = {training.TRAINING_POLL})",
        rows,
        note="measured = against the emulator through the provider server; simulated = "
        "Context.wait_for with TRAINING_POLL on a fake clock (worst of 20 jitter seeds).",
    )
    measured = [r for r in rows if r[0].startswith("measured")]
    summary.append(
        (
            "training noticed (measured, worst)",
            max((r[1].split(",")[0] for r in measured), key=lambda t: float(t.split()[2])),
            "<= max(5 s, 10%)",
            verdict(all(r[3] == "ok" for r in rows if "noticed" in r[1])),
        )
    )
    summary.append(_pick(rows, "simulated: polls during a 1 h training"))

    count = 10_000 if args.quick else 100_000
    rows = memory.run(count, 5)
    print_table(f"Memory and state: ImageRegions with {count:,} regions", rows)
    peak = _pick(rows, "provider process peak RSS (VmHWM)")
    total = (
        _pick(rows, "state: inputs, compact JSON")[1],
        _pick(rows, "state: outputs, compact JSON")[1],
    )
    summary.append(
        (
            f"{count:,} regions: peak RSS / state in + out",
            f"{peak[1]} / {total[0]} + {total[1]}",
            "",
            "(info)",
        )
    )

    print_table(
        f"Summary ({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s)",
        summary,
    )
    return 0 if all(r[3] in ("ok", "(info)") for r in summary) else 1


if __name__ == "__main__":
    raise SystemExit(main())
