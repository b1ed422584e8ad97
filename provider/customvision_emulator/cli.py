"""``customvision-emulator``: run the emulator from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from .app import create_app
from .server import bind, url_of
from .settings import Settings

#: The flags, one per start-up setting: Settings field -> (type, help). Each default is the
#: field's default in :class:`Settings`.
_FLAGS: dict[str, tuple[type, str]] = {
    "host": (str, "address to bind (default %(default)s)"),
    "port": (int, "port (default %(default)s; 0 picks a free one)"),
    "data_dir": (
        str,
        "directory of the SQLite state kept across restarts "
        "(default: a temporary in-memory database)",
    ),
    "exports_dir": (
        str,
        "folder of the export exchange shared with other emulators on this machine, "
        "so that one imports what another exported (default: the system temp folder)",
    ),
    "training_key": (str, "the accepted Training-Key (default: the well-known %(default)s)"),
    "requests_per_second": (
        float,
        "per-key rate limit for all calls, 0 = off (default %(default)s)",
    ),
    "training_requests_per_second": (
        float,
        "per-key rate limit for TrainProject (default %(default)s; 2 models the free tier)",
    ),
    "training_seconds": (float, "simulated training duration (default %(default)s)"),
    "import_seconds": (float, "simulated project import duration (default %(default)s)"),
    "latency_ms": (float, "latency added to every API request (default %(default)s)"),
}


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    defaults = Settings()
    p = argparse.ArgumentParser(
        prog="customvision-emulator",
        description="Local emulator of the Azure Custom Vision Training API.",
    )
    for name, (kind, help_text) in _FLAGS.items():
        flag = "--" + name.replace("_", "-")
        p.add_argument(flag, type=kind, default=getattr(defaults, name), help=help_text)
    a = p.parse_args(argv)
    return Settings(**{name: getattr(a, name) for name in _FLAGS})


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
