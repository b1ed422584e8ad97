"""``customvision-emulator``: run the emulator from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from .app import create_app
from .server import bind, url_of
from .settings import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TRAINING_KEY, Settings


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    defaults = Settings()
    p = argparse.ArgumentParser(
        prog="customvision-emulator",
        description="Local emulator of the Azure Custom Vision Training API.",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port (default %(default)s; 0 picks a free one)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="directory of the SQLite state kept across restarts "
        "(default: a temporary in-memory database)",
    )
    p.add_argument(
        "--exports-dir",
        default=None,
        help="folder of the export exchange shared with other emulators on this machine, "
        "so that one imports what another exported (default: the system temp folder)",
    )
    p.add_argument(
        "--training-key",
        default=DEFAULT_TRAINING_KEY,
        help="the accepted Training-Key (default: the well-known %(default)s)",
    )
    p.add_argument(
        "--requests-per-second",
        type=float,
        default=defaults.requests_per_second,
        help="per-key rate limit for all calls, 0 = off (default %(default)s)",
    )
    p.add_argument(
        "--training-requests-per-second",
        type=float,
        default=defaults.training_requests_per_second,
        help="per-key rate limit for TrainProject (default %(default)s; 2 models the free tier)",
    )
    p.add_argument(
        "--training-seconds",
        type=float,
        default=defaults.training_seconds,
        help="simulated training duration (default %(default)s)",
    )
    p.add_argument(
        "--import-seconds",
        type=float,
        default=defaults.import_seconds,
        help="simulated project import duration (default %(default)s)",
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        default=defaults.latency_ms,
        help="latency added to every API request (default %(default)s)",
    )
    a = p.parse_args(argv)
    return Settings(
        host=a.host,
        port=a.port,
        data_dir=a.data_dir,
        exports_dir=a.exports_dir,
        training_key=a.training_key,
        requests_per_second=a.requests_per_second,
        training_requests_per_second=a.training_requests_per_second,
        training_seconds=a.training_seconds,
        import_seconds=a.import_seconds,
        latency_ms=a.latency_ms,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until interrupted; prints the URL once listening."""
    settings = parse_args(argv)
    try:
        sock = bind(settings.host, settings.port)
    except OSError as err:
        sys.exit(f"customvision-emulator: cannot listen on {settings.host}:{settings.port}: {err}")
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", http="h11")
    server = uvicorn.Server(config)
    print(
        f"Custom Vision emulator listening on {url_of(sock)} "
        f"(training key {settings.training_key}, data {settings.data_dir or 'in memory'})",
        flush=True,
    )
    try:
        server.run(sockets=[sock])
    finally:
        app.state.emulator.store.close()


if __name__ == "__main__":
    main()
