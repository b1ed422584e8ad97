"""Emulator start-up time and simple-GET throughput (rate limiting off); prints a table.

Run: .venv/bin/python benchmarks/emulator_speed.py [--seconds 5] [--data-dir DIR]

Start-up is measured from launching the ``customvision-emulator`` process to its first
answered request. Throughput is GetProject on a project with tags and images, over one
keep-alive connection and over 4 concurrent ones, for the given duration each.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import tempfile
import threading
import time

from customvision_emulator.testing import DEFAULT_TRAINING_KEY

START_TIMEOUT = 15.0


def start(extra: list[str]) -> tuple[subprocess.Popen[str], str, float]:
    """Launch the CLI on a free port; the process, its URL and the seconds until it answered."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "customvision_emulator.cli",
            "--port",
            "0",
            "--requests-per-second",
            "0",
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the CLI prints its URL once listening
    found = re.search(r"http://([\d.]+):(\d+)", line)
    if not found:
        proc.kill()
        raise SystemExit(f"unexpected start-up output: {line!r}")
    host, port = found.group(1), int(found.group(2))
    deadline = started + START_TIMEOUT
    while True:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", "/_emulator/health")
            conn.getresponse().read()
            conn.close()
            break
        except OSError:
            if time.perf_counter() > deadline:
                proc.kill()
                raise SystemExit("the emulator did not answer in time") from None
            time.sleep(0.005)
    return proc, f"{host}:{port}", time.perf_counter() - started


def call(conn: http.client.HTTPConnection, method: str, path: str) -> object:
    conn.request(method, path, headers={"Training-Key": DEFAULT_TRAINING_KEY})
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200, (response.status, body)
    return json.loads(body)


def hammer(address: str, path: str, seconds: float, workers: int) -> tuple[int, float]:
    """Requests done by ``workers`` connections in ``seconds``; (count, requests/second)."""
    counts = [0] * workers
    stop = time.perf_counter() + seconds

    def work(n: int) -> None:
        conn = http.client.HTTPConnection(address, timeout=10)
        while time.perf_counter() < stop:
            call(conn, "GET", path)
            counts[n] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    total = sum(counts)
    return total, total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for label, extra in (
            ("in-memory", []),
            ("--data-dir", ["--data-dir", args.data_dir or tmp]),
        ):
            proc, address, startup = start(extra)
            try:
                base = "/customvision/v3.3/training"
                conn = http.client.HTTPConnection(address, timeout=10)
                project = call(conn, "POST", f"{base}/projects?name=bench-{time.time_ns()}")
                assert isinstance(project, dict)
                pid = project["id"]
                for n in range(5):
                    call(conn, "POST", f"{base}/projects/{pid}/tags?name=t{n}")
                conn.close()
                path = f"{base}/projects/{pid}"
                single = hammer(address, path, args.seconds, 1)
                multi = hammer(address, path, args.seconds, 4)
                rows.append((label, startup, single, multi))
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    print(f"{'state':<12} {'start-up s':>10} {'GET/s (1 conn)':>15} {'GET/s (4 conns)':>16}")
    for label, startup, single, multi in rows:
        print(f"{label:<12} {startup:>10.3f} {single[1]:>15.0f} {multi[1]:>16.0f}")


if __name__ == "__main__":
    main()
