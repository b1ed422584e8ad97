"""Provider overhead: one Check + Diff + Create through the SDK's provider server vs. the bare
REST call it makes.

Run from the repository root::

    .venv/bin/python -m benchmarks.overhead [--operations 100]

Against the emulator with no latency and no rate limit, for ``operations`` tags:

* **provider**: what the engine does for one resource: ``Check`` (new inputs), ``Diff`` (of an
  unchanged resource, the most common call) and ``Create`` of a Tag, over gRPC to the
  SDK's dynamic-provider server (``python -m pulumi.dynamic``), timed from this process.
* **bare REST**: the CreateTag request the provider makes, sent with a plain keep-alive
  ``requests.Session`` (and, for information, through the provider's own ``TrainingClient``).

The overhead is the difference of the medians; the goal is under 50 ms per operation.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import requests

from benchmarks._common import DETECTION, print_table, seed_client, stack_config, verdict
from customvision_emulator.testing import TEST_DEFAULTS, run_emulator
from pulumi_customvision.tag import TagProvider
from tests.engine import ProviderServer, with_provider

WARM_UP = 5


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(operations: int = 100) -> list[tuple[str, str, str, str]]:
    with run_emulator(**TEST_DEFAULTS) as emu:
        client = seed_client(emu)
        project_id = client.create_project("overhead", domain_id=DETECTION).id
        provider = TagProvider()
        check_s: list[float] = []
        diff_s: list[float] = []
        create_s: list[float] = []
        with ProviderServer(stack_config(emu, rate=0)) as server:
            urn = server.urn("t")
            for i in range(WARM_UP + operations):
                news = with_provider(provider, {"project_id": project_id, "name": f"p{i}"})
                t0 = time.perf_counter()
                checked = server.check({}, news, urn=urn)
                t1 = time.perf_counter()
                created = server.create(checked.inputs, urn=urn)
                t2 = time.perf_counter()
                server.diff(created.id, created.outputs, checked.inputs, urn=urn)
                t3 = time.perf_counter()
                if i >= WARM_UP:
                    check_s.append(t1 - t0)
                    create_s.append(t2 - t1)
                    diff_s.append(t3 - t2)

        url = f"{emu.url}/customvision/v3.3/training/projects/{project_id}/tags"
        raw_s: list[float] = []
        with requests.Session() as session:
            session.trust_env = False
            for i in range(WARM_UP + operations):
                t0 = time.perf_counter()
                answer = session.post(
                    url,
                    params={"name": f"r{i}-{uuid.uuid4().hex[:6]}"},
                    headers={"Training-Key": emu.training_key},
                )
                elapsed = time.perf_counter() - t0
                answer.raise_for_status()
                if i >= WARM_UP:
                    raw_s.append(elapsed)
        ours_s: list[float] = []
        for i in range(WARM_UP + operations):
            t0 = time.perf_counter()
            client.create_tag(project_id, f"c{i}")
            if i >= WARM_UP:
                ours_s.append(time.perf_counter() - t0)

    provider_ms = _median_ms([a + b + c for a, b, c in zip(check_s, diff_s, create_s, strict=True)])
    raw_ms = _median_ms(raw_s)
    overhead = provider_ms - raw_ms
    return [
        ("Check (gRPC)", f"{_median_ms(check_s):.1f} ms", "", "(median)"),
        ("Diff (gRPC, no change)", f"{_median_ms(diff_s):.1f} ms", "", "(median)"),
        ("Create (gRPC, incl. CreateTag)", f"{_median_ms(create_s):.1f} ms", "", "(median)"),
        ("Check + Diff + Create", f"{provider_ms:.1f} ms", "", "(median)"),
        ("bare CreateTag (requests.Session)", f"{raw_ms:.1f} ms", "", "(median)"),
        ("CreateTag via TrainingClient", f"{_median_ms(ours_s):.1f} ms", "", "(info)"),
        (
            "provider overhead per operation",
            f"{overhead:.1f} ms",
            "< 50 ms",
            verdict(overhead < 50),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=100)
    args = parser.parse_args(argv)
    print_table(
        f"Provider overhead: {args.operations} Tag creates through the provider server vs. bare "
        "REST (emulator: no latency, no rate limit)",
        run(args.operations),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
