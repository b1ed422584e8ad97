"""The CLI: start as a subprocess, keep state in --data-dir across a restart."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from customvision_emulator.settings import Settings
from customvision_emulator.testing import DEFAULT_TRAINING_KEY, AdminClient, RunningEmulator

from .conftest import Api

START_TIMEOUT = 15.0


@contextmanager
def cli(*args: str) -> Iterator[tuple[RunningEmulator, float]]:
    """Run ``customvision-emulator`` and yield it with its start-up time; stop it after."""
    command = [sys.executable, "-c", "from customvision_emulator.cli import main; main()"]
    started = time.monotonic()
    proc = subprocess.Popen(
        [*command, "--port", "0", "--requests-per-second", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    try:
        url = None
        deadline = time.monotonic() + START_TIMEOUT
        while url is None:
            remaining = deadline - time.monotonic()
            assert remaining > 0 and proc.poll() is None, "the emulator did not start"
            try:
                found = re.search(r"(http://127\.0\.0\.1:\d+)", lines.get(timeout=remaining))
            except queue.Empty:
                continue
            url = found.group(1) if found else None
        admin = AdminClient(url)
        while True:  # listening is printed before serving: wait until it answers
            try:
                admin.health()
                break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not answer"
                time.sleep(0.02)
        elapsed = time.monotonic() - started
        yield RunningEmulator(url, DEFAULT_TRAINING_KEY, admin, Settings()), elapsed
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_cli_starts_fast_and_serves(tmp_path: Path) -> None:
    with cli() as (emu, elapsed):
        assert elapsed < 5  # under 1 s on a normal machine; generous for loaded CI
        api = Api(emu)
        assert api.ok("GET", "/projects") == []


def test_restart_keeps_state_and_finishes_running_training(tmp_path: Path) -> None:
    data = str(tmp_path / "state")
    with cli("--data-dir", data, "--training-seconds", "3", "--import-seconds", "3") as (emu, _):
        api = Api(emu)
        pid, tags = api.trainable("persisted")
        token = api.ok("GET", f"/projects/{pid}/export")["token"]
        imported = api.ok("POST", "/projects/import", params={"token": token})
        assert imported["status"] == "Importing"
        it = api.ok("POST", f"/projects/{pid}/train")
        assert it["status"] == "Training"
    with cli("--data-dir", data, "--training-seconds", "3", "--import-seconds", "3") as (emu, _):
        api = Api(emu)
        # Still training right after the restart, then it finishes on its own schedule.
        assert api.ok("GET", f"/projects/{pid}/iterations/{it['id']}")["status"] == "Training"
        assert api.ok("GET", f"/projects/{pid}")["name"] == "persisted"
        assert [t["id"] for t in api.ok("GET", f"/projects/{pid}/tags")] == tags
        assert api.ok("GET", f"/projects/{pid}/images/count") == 10
        assert api.ok("GET", f"/projects/{imported['id']}")["status"] == "Importing"
        done = api.wait_iteration(pid, it["id"], "Completed", timeout=10)
        api.wait_project(imported["id"], "Succeeded", timeout=10)
        assert api.ok("GET", f"/projects/{imported['id']}/images/count") == 10
        assert done["trainedAt"]
        api.error("POST", f"/projects/{pid}/train", 400, "BadRequestTrainingNotNeeded")


def test_cli_training_key(tmp_path: Path) -> None:
    with cli("--training-key", "my-key") as (emu, _):
        r = Api(emu).call("GET", "/projects")
        assert r.status_code == 401
        r = Api(emu).session.get(
            f"{emu.url}/customvision/v3.3/training/projects",
            headers={"Training-Key": "my-key"},
            timeout=10,
        )
        assert r.status_code == 200
