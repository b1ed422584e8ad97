"""Crash hook for the provider server (loaded only when this directory is on PYTHONPATH).

With ``CV_LOG_LEVEL=DEBUG`` the process logs (every logger, ``pulumi_customvision``
included) to stderr, for tests that scan the logs.

With ``CV_CRASH_AFTER_CALLS=N`` in the environment, the process SIGKILLs itself right after
the N-th HTTP call to the Custom Vision API has been answered, before the provider sees the
answer: the service has acted, the provider (and the engine) never learn of it. That is the
worst moment to crash, and "after each REST call" is every such N. Admin calls to the
emulator (``/_emulator/``) are not counted. ``CV_CRASH_MARKER`` names a file that gets the
operation's method and path just before the kill, so a test can tell where it stopped.
"""

from __future__ import annotations

import os

_AFTER = os.environ.get("CV_CRASH_AFTER_CALLS")

if _AFTER:
    import signal
    import threading

    from requests.adapters import HTTPAdapter

    _limit = int(_AFTER)
    _lock = threading.Lock()
    _count = [0]
    _original_send = HTTPAdapter.send

    def _send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = _original_send(self, request, *args, **kwargs)
        if "/_emulator/" in (request.url or ""):
            return response
        with _lock:
            _count[0] += 1
            reached = _count[0] >= _limit
        if reached:
            marker = os.environ.get("CV_CRASH_MARKER")
            if marker:
                with open(marker, "w", encoding="utf-8") as out:
                    out.write(f"{request.method} {request.url}\n")
            os.kill(os.getpid(), signal.SIGKILL)
        return response

    HTTPAdapter.send = _send  # type: ignore[method-assign]

_LOG_LEVEL = os.environ.get("CV_LOG_LEVEL")

if _LOG_LEVEL:
    import logging
    import sys

    logging.basicConfig(
        level=_LOG_LEVEL, stream=sys.stderr, format="log %(levelname)s %(name)s: %(message)s"
    )
    for _noisy in ("grpc", "asyncio"):
        logging.getLogger(_noisy).setLevel(logging.WARNING)
