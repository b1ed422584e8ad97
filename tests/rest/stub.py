"""A tiny scripted HTTP server on 127.0.0.1 for transport cases the emulator cannot produce.

Each request takes the next scripted reply (the last one repeats); a reply is a status,
headers and body, or ``DROP`` (close the connection without answering after reading the
request). Every request is recorded with its arrival time, method, path, headers and body.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DROP = "drop"


@dataclass
class Reply:
    status: int = 200
    body: bytes | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@dataclass
class Recorded:
    time: float
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class StubServer:
    def __init__(self) -> None:
        self.replies: list[Reply | str] = [Reply(200, {})]
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._served = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with stub._lock:
                    stub.requests.append(
                        Recorded(time.time(), self.command, self.path, dict(self.headers), body)
                    )
                    index = min(stub._served, len(stub.replies) - 1)
                    stub._served += 1
                    reply = stub.replies[index]
                if reply == DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                assert isinstance(reply, Reply)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def script(self, *replies: Reply | str) -> None:
        with self._lock:
            self.replies = list(replies)
            self._served = 0
            self.requests.clear()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def running_stub() -> Iterator[StubServer]:
    stub = StubServer()
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
