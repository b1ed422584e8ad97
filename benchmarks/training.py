"""Training completion: how soon the provider notices a finished training, and polls per hour.

Run from the repository root::

    .venv/bin/python -m benchmarks.training [--durations 5,20,60]

Two kinds of figures, kept apart in the table:

* **measured**: a ``TrainedIteration`` is created through the provider server against the
  emulator, whose trainings take each of ``durations`` seconds. The emulator finishes the
  training at ``trainedAt``; the provider notices it with the first GetIteration answered
  after that moment (from the emulator's request log). The delay between the two, and the
  GetIteration calls made while waiting, are reported.
* **simulated**: ``Context.wait_for`` with the provider's own ``TRAINING_POLL`` policy
  (``trained_iteration.py``) runs against a fake clock (no sleeping) for trainings of 1 min
  to 4 h, over 20 seeds of the poll jitter: the worst detection delay and the number of
  polls, from which "polls per training hour" comes (the polls made during a one-hour
  training, and the steady rate once the interval has reached its maximum).

Goal: a training is noticed within 5 s or 10 % of its duration, whichever is larger; at most
120 polls per training hour.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime
from typing import Any

from benchmarks._common import CLASSIFICATION, print_table, seed_client, stack_config, verdict
from customvision_emulator.testing import TEST_DEFAULTS, run_emulator
from pulumi_customvision._lifecycle import Context, PollPolicy
from pulumi_customvision.trained_iteration import TRAINING_POLL
from tests.engine import Stack
from tests.lifecycle.model_support import add_training_data, trained


def allowed_delay(duration: float) -> float:
    return max(5.0, 0.1 * duration)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def measure(durations: list[float]) -> list[dict[str, Any]]:
    """Train once per duration through the provider; delay of noticing and polls made."""
    results = []
    with run_emulator(**TEST_DEFAULTS) as emu, Stack(stack_config(emu, rate=0)) as stack:
        client = seed_client(emu)
        for index, duration in enumerate(durations):
            pid = client.create_project(f"train-{index}", domain_id=CLASSIFICATION).id
            add_training_data(client, pid, seed=index)
            emu.admin.configure(training_seconds=duration)
            emu.admin.clear_log()
            stack.up(
                {f"m{index}": trained(f"m{index}", project_id=pid, name="v1")},
                expect_empty_second_up=False,
            )
            iteration_id = stack.id(f"m{index}")
            (state,) = [
                i
                for p in emu.admin.state()["projects"]
                if p["id"] == pid
                for i in p["iterations"]
                if i["id"] == iteration_id
            ]
            finished = _epoch(state["trainedAt"])
            polls = [r for r in emu.admin.requests(operation="GetIteration")]
            noticed = min(r["time"] for r in polls if r["time"] >= finished - 0.001)
            results.append(
                {
                    "duration": duration,
                    "delay": noticed - finished,
                    "polls": len(polls),
                }
            )
    return results


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def simulate(duration: float, policy: PollPolicy, seed: int) -> tuple[float, int]:
    """(delay of noticing, polls made) for a training of ``duration`` s, on a fake clock."""
    random.seed(seed)
    clock = _FakeClock()
    ctx = Context(
        client=None,  # type: ignore[arg-type]
        profile=None,  # type: ignore[arg-type]
        budget_seconds=duration * 10 + 3600,
        clock=clock,
        sleep=clock.sleep,
    )
    polls = 0

    def poll() -> bool | None:
        nonlocal polls
        polls += 1
        return True if clock.now >= duration else None

    import pulumi_customvision._lifecycle as lifecycle

    quiet = lifecycle.report_progress
    lifecycle.report_progress = lambda message: None  # type: ignore[assignment]
    try:
        ctx.wait_for(poll, what="a simulated training", on_timeout="", policy=policy)
    finally:
        lifecycle.report_progress = quiet  # type: ignore[assignment]
    return clock.now - duration, polls


def run(durations: list[float]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for r in measure(durations):
        limit = allowed_delay(r["duration"])
        rows.append(
            (
                f"measured: {r['duration']:g} s training",
                f"noticed after {r['delay']:.2f} s, {r['polls']} GetIteration",
                f"<= {limit:g} s",
                verdict(r["delay"] <= limit),
            )
        )
    seeds = range(20)
    for duration in (60.0, 600.0, 3600.0, 4 * 3600.0):
        outcomes = [simulate(duration, TRAINING_POLL, s) for s in seeds]
        worst = max(d for d, _ in outcomes)
        polls = max(p for _, p in outcomes)
        limit = allowed_delay(duration)
        label = f"{duration / 60:g} min" if duration < 3600 else f"{duration / 3600:g} h"
        rows.append(
            (
                f"simulated: {label} training",
                f"noticed after <= {worst:.1f} s, <= {polls} polls",
                f"<= {limit:g} s",
                verdict(worst <= limit),
            )
        )
        if duration == 3600.0:
            rows.append(
                (
                    "simulated: polls during a 1 h training",
                    str(polls),
                    "<= 120",
                    verdict(polls <= 120),
                )
            )
        if duration == 4 * 3600.0:
            per_hour = (
                polls - max(p for _, p in (simulate(3600.0, TRAINING_POLL, s) for s in seeds))
            ) / 3
            rows.append(
                (
                    "simulated: polls per hour after the first",
                    f"{per_hour:.0f}",
                    "<= 120",
                    verdict(per_hour <= 120),
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--durations", default="5,20,60", help="seconds, comma-separated")
    args = parser.parse_args(argv)
    durations = [float(d) for d in args.durations.split(",") if d]
    print_table(
        f"Training completion (TRAINING_POLL = {TRAINING_POLL})",
        run(durations),
        note="measured = against the emulator through the provider server; simulated = "
        "Context.wait_for with TRAINING_POLL on a fake clock (worst of 20 jitter seeds).",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
