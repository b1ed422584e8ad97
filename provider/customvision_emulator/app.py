"""The emulator's ASGI application: the Training API for every version plus ``/_emulator/``.

Request flow for the API (admin requests skip all of it):
route (404 if the version lacks the operation) -> injected faults -> added latency ->
``Training-Key`` check (401) -> rate limits (429) -> settle timed state -> handler -> shape the
answer to the version's models -> log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from . import handlers, spectable
from .control import Faults, RequestLog, TokenBuckets
from .errors import UNAUTHORIZED_MESSAGE, ApiError, gateway_body
from .exchange import ExportExchange
from .routing import Match, Router
from .settings import Settings
from .store import Store

log = logging.getLogger("customvision_emulator")

Json = dict[str, Any]


@dataclass
class Emulator:
    """Everything one running emulator holds: settings, state, controls and routes."""

    settings: Settings
    store: Store
    router: Router = field(default_factory=Router)
    faults: Faults = field(default_factory=Faults)
    requests: RequestLog = field(default_factory=RequestLog)
    buckets: TokenBuckets = field(default_factory=TokenBuckets)
    training_buckets: TokenBuckets = field(default_factory=TokenBuckets)

    def reset(self) -> None:
        """Empty state, no faults, no forced outcomes, log cleared, buckets refilled."""
        self.store.reset()
        self.faults.clear()
        self.requests.clear()
        self.buckets.clear()
        self.training_buckets.clear()


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


class ApiMiddleware:
    """Serves the Training API; passes ``/_emulator/`` (and lifespan) to the admin app."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emu = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].lstrip("/").startswith("_emulator"):
            await self.app(scope, receive, send)
            return
        emu = self.emu
        started = time.time()
        method: str = scope["method"]
        path: str = scope["path"]
        match = emu.router.resolve(method, path)
        operation = match.route.operation if match else None
        version = match.route.version if match else None
        status = 0

        async def answer(response: Response) -> None:
            nonlocal status
            status = response.status_code
            await response(scope, receive, send)

        try:
            if match is None:
                await answer(_json(404, gateway_body(404, "Resource not found")))
                return
            fault = emu.faults.pick(operation)
            if fault is not None:
                if fault.delay_ms:
                    await asyncio.sleep(fault.delay_ms / 1000)
                if fault.drop_connection and not fault.drop_after_handling:
                    _drop(receive)
                    return
                if fault.status:
                    await answer(
                        _fault_response(fault.status, fault.retry_after, fault.code, fault.message)
                    )
                    return
            if emu.settings.latency_ms > 0:
                await asyncio.sleep(emu.settings.latency_ms / 1000)
            key = _header(scope, b"training-key")
            if key is None or key != emu.settings.training_key:
                await answer(_json(401, gateway_body(401, UNAUTHORIZED_MESSAGE)))
                return
            wait = emu.buckets.take(key, emu.settings.requests_per_second)
            if not wait and operation == "TrainProject":
                wait = emu.training_buckets.take(key, emu.settings.training_requests_per_second)
            if wait:
                await answer(_throttled(wait))
                return
            reply = await self._handle(match.route.version, match, scope, receive)
            if fault is not None and fault.drop_after_handling:
                # The service acted; its answer is lost on the way (a crash test's worst case).
                _drop(receive)
                return
            await answer(reply)
        finally:
            emu.requests.add(started, method, path, operation, version, status)

    async def _handle(self, version: str, match: Match, scope: Scope, receive: Receive) -> Response:
        emu = self.emu
        route = match.route
        now = time.time()
        request = Request(scope, receive)
        try:
            emu.store.settle(now)
            ctx = handlers.Ctx(
                version=version,
                operation=route.operation,
                path=match.params,
                query=handlers.parse_query(route.spec, request.query_params.multi_items()),
                body=None,
                request=request,
                emulator=emu,
                now=now,
            )
            if any(p["in"] == "body" for p in route.spec["params"]):
                raw = await request.body()
                if raw.strip():
                    try:
                        ctx.body = json.loads(raw)
                    except ValueError:
                        raise ApiError(
                            "BadRequest", "The request body is not valid JSON."
                        ) from None
            handler = handlers.HANDLERS.get(route.operation)
            if handler is None:
                raise ApiError(
                    "BadRequestNotSupported",
                    f"The emulator does not implement {route.operation}.",
                    status=501,
                )
            reply = handler(ctx)
            if isinstance(reply, Awaitable):
                reply = await reply
        except ApiError as err:
            return _json(err.status, err.body())
        except Exception:  # an emulator bug must still answer like a service error
            log.exception("unhandled error in %s", route.operation)
            return _json(500, {"code": "ErrorUnknown", "message": "Internal emulator error."})
        status = reply.status
        if reply.partial:
            # 207 where the version's spec has it, otherwise the old 200.
            status = 207 if "207" in route.spec["responses"] else 200
        if status in (202, 204):
            return Response(status_code=status)
        schema = route.spec["responses"].get(str(status))
        return _json(status, emu.router.shape(version, schema, reply.body))


def _header(scope: Scope, name: bytes) -> str | None:
    # ASGI servers lower-case header names, so Training-Key matches in any case.
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _throttled(wait: int) -> Response:
    return _json(
        429,
        gateway_body(429, f"Rate limit is exceeded. Try again in {wait} seconds."),
        headers={"Retry-After": str(wait)},
    )


def _fault_response(
    status: int, retry_after: int | None, code: str | None, message: str | None
) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    text = message or f"Fault injected by the emulator (HTTP {status})."
    if status in (401, 429):
        return _json(status, gateway_body(status, text), headers)
    default = "ErrorUnknown" if status >= 500 else "BadRequest"
    return _json(status, {"code": code or default, "message": text}, headers)


def _drop(receive: Receive) -> None:
    """Close the client's connection without an answer (uvicorn: the cycle owns the transport)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("cannot drop the connection with this server")
    transport.abort()
    # Tell uvicorn not to send its own 500 on the closed connection.
    cycle.disconnected = True  # type: ignore[union-attr]


# ---------------------------------------------------------------------- admin API
def _admin_routes(emu: Emulator) -> list[StarletteRoute]:
    async def body(request: Request) -> Json:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def bad(message: str) -> Response:
        return JSONResponse({"error": message}, status_code=400)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "training_key": emu.settings.training_key})

    async def reset(request: Request) -> Response:
        emu.reset()
        return Response(status_code=204)

    async def settings(request: Request) -> Response:
        if request.method == "POST":
            try:
                emu.settings.update(await body(request))
            except (ValueError, TypeError) as err:
                return bad(str(err))
            emu.buckets.clear()
            emu.training_buckets.clear()
        return JSONResponse(emu.settings.public())

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                fault = emu.faults.add(await body(request))
            except (ValueError, TypeError) as err:
                return bad(str(err))
            return JSONResponse(fault.public(), status_code=201)
        if request.method == "DELETE":
            emu.faults.clear()
            return Response(status_code=204)
        return JSONResponse(emu.faults.list())

    async def outcomes(request: Request) -> Response:
        try:
            data = await body(request)
        except ValueError as err:
            return bad(str(err))
        allowed = {
            "TrainProject": ("Completed", "Failed"),
            "ImportProject": ("Succeeded", "Failed"),
        }
        op, outcome = data.get("operation"), data.get("outcome")
        if op not in allowed or outcome not in allowed[op]:
            return bad(f"operation/outcome must be one of {allowed}")
        emu.store.forced[op] = outcome
        return JSONResponse({"operation": op, "outcome": outcome})

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            emu.requests.clear()
            return Response(status_code=204)
        return JSONResponse(emu.requests.entries(request.query_params.get("operation")))

    async def counters(request: Request) -> Response:
        return JSONResponse(emu.requests.counters())

    async def state(request: Request) -> Response:
        emu.store.settle(time.time())
        dump = emu.store.dump()
        # In the newest version's shapes, like a v3.4-preview client would read them.
        version = spectable.VERSIONS[-1]
        shape = emu.router.shape
        projects = []
        for project in dump["projects"]:
            parts = {k: project.pop(k) for k in ("tags", "images", "iterations")}
            item = shape(version, "Project", project)
            item["tags"] = shape(version, ["Tag"], parts["tags"])
            item["images"] = shape(version, ["Image"], parts["images"])
            item["iterations"] = shape(version, ["Iteration"], parts["iterations"])
            projects.append(item)
        dump["projects"] = projects
        return JSONResponse(dump)

    return [
        StarletteRoute("/_emulator/health", health, methods=["GET"]),
        StarletteRoute("/_emulator/reset", reset, methods=["POST"]),
        StarletteRoute("/_emulator/settings", settings, methods=["GET", "POST"]),
        StarletteRoute("/_emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
        StarletteRoute("/_emulator/outcomes", outcomes, methods=["POST"]),
        StarletteRoute("/_emulator/requests", requests, methods=["GET", "DELETE"]),
        StarletteRoute("/_emulator/counters", counters, methods=["GET"]),
        StarletteRoute("/_emulator/state", state, methods=["GET"]),
    ]


def create_app(settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """Build the emulator's Starlette application (``app.state.emulator`` holds its parts)."""
    settings = settings or Settings()
    if store is None:
        path = None
        if settings.data_dir:
            from pathlib import Path

            Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
            path = Path(settings.data_dir) / "customvision-emulator.sqlite3"
        store = Store(path, ExportExchange(settings.exports_dir))
    emu = Emulator(settings=settings, store=store)
    app = Starlette(
        routes=_admin_routes(emu),
        middleware=[Middleware(ApiMiddleware, emulator=emu)],
    )
    app.state.emulator = emu
    return app


__all__ = ["ApiMiddleware", "Emulator", "create_app"]
