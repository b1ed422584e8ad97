"""``ProviderServer``: the SDK's dynamic-provider server in a subprocess, driven over gRPC.

This is the host half of the engine's ``provider_plugin.go``: it starts the process the
engine starts for dynamic resources (``python -u -m pulumi.dynamic``), reads the port it
prints, sends ``Configure`` with the stack config, and then offers one typed method per
resource RPC. Like the engine talking to a provider that answers ``acceptSecrets=False``
(the Python dynamic provider does), it strips secrets from what it sends and copies the
secret mark from inputs onto same-named outputs (``annotateSecrets``).

What to call when (the engine's step logic) lives in :mod:`tests.engine.stack`.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import os
import re
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, TypedDict, TypeVar

import grpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .values import (
    PROVIDER_KEY,
    Secret,
    annotate_secrets,
    contains_secrets,
    from_struct,
    to_struct,
    unwrap_secrets,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository root; put on the server's ``PYTHONPATH`` so ``tests.*`` providers import."""

DYNAMIC_RESOURCE_TYPE = "pulumi-python:dynamic:Resource"
"""The type token of ``pulumi.dynamic.Resource`` subclasses declared without a module."""

DiffChanges = Literal["none", "some", "unknown"]

_LIVE_SERVERS: set[ProviderServer] = set()
_LIVE_LOCK = threading.Lock()


# The engine's limits (the SDK's server uses the same), not gRPC's default 4 MiB, so that
# large states (100,000 regions) pass as they do under `pulumi up`.
_GRPC_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.max_send_message_length", 400 * 1024 * 1024),
]


def live_servers() -> list[ProviderServer]:
    """Servers started by this process and not yet closed or killed (for leak checks)."""
    with _LIVE_LOCK:
        return [s for s in _LIVE_SERVERS if s.alive]


@atexit.register
def _kill_leftovers() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE_SERVERS)
    for server in servers:
        server.kill()


def make_urn(
    name: str,
    type_token: str = DYNAMIC_RESOURCE_TYPE,
    *,
    project: str = "test-project",
    stack: str = "test",
) -> str:
    """The URN the engine gives a top-level resource ``name`` of type ``type_token``."""
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


class ProviderServerError(RuntimeError):
    """The provider server could not be started (it exited early or printed no port)."""


class ProviderError(Exception):
    """A provider RPC failed.

    For an exception raised inside the provider, the server aborts the call with gRPC
    ``UNKNOWN`` and the formatted traceback as details; ``message`` is the exception's own
    message (the last ``Type: message`` of the traceback), ``exception_type`` its class name
    (for example ``"ValueError"`` or ``"pulumi_customvision._rest.errors.NotFound"``).
    For a dead server (killed, crashed) ``code`` is ``"UNAVAILABLE"`` and ``exception_type``
    is ``None``. ``str(error)`` contains the message and the provider's traceback.
    """

    def __init__(
        self,
        method: str,
        code: str,
        message: str,
        details: str,
        exception_type: str | None = None,
        resource: str | None = None,
    ) -> None:
        """Build the error from the RPC name, gRPC code, message and full details."""
        self.method = method
        self.code = code
        self.message = message
        self.details = details
        self.exception_type = exception_type
        self.resource = resource
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method}({self.resource})" if self.resource else self.method
        kind = f"{self.exception_type}: " if self.exception_type else f"[{self.code}] "
        text = f"{where} failed: {kind}{self.message}"
        if self.details and self.details.strip() != self.message.strip():
            text += "\n--- provider details ---\n" + self.details.rstrip()
        return text

    def for_resource(self, name: str) -> ProviderError:
        """Record which resource the failing call was for (the stack fills this in)."""
        self.resource = name
        self.args = (self._render(),)
        return self

    @property
    def crashed(self) -> bool:
        """True if the server was unreachable (killed or crashed) rather than raising."""
        return self.code in ("UNAVAILABLE", "CANCELLED")


_EXC_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$", re.DOTALL)


def _parse_traceback(details: str) -> tuple[str | None, str]:
    """Split a ``traceback.format_exc()`` text into (exception type, message)."""
    lines = details.rstrip("\n").splitlines()
    if not lines or not lines[0].startswith("Traceback"):
        return None, details.strip()
    # The exception part follows the last indented frame/source line.
    last_indented = max((i for i, ln in enumerate(lines) if ln.startswith(" ")), default=0)
    tail = "\n".join(lines[last_indented + 1 :]).strip()
    match = _EXC_LINE.match(tail)
    if match is None:
        return None, tail
    return match.group("type"), (match.group("msg") or "").strip()


@dataclasses.dataclass
class CheckFailure:
    """One validation failure from ``check``: the property (may be empty) and the reason."""

    property: str
    reason: str


@dataclasses.dataclass
class CheckResult:
    """``check``'s answer: the checked inputs to use from now on, and any failures."""

    inputs: dict[str, Any]
    failures: list[CheckFailure]


@dataclasses.dataclass
class DiffResult:
    """``diff``'s answer, as the engine reads a ``DiffResponse``.

    ``changes`` is ``"none"``, ``"some"`` or ``"unknown"`` (the provider did not say; the
    engine then compares old and new inputs itself). ``diffs`` are the changed keys the
    provider reported (the dynamic provider never fills it); ``replaces`` the keys that
    force a replacement.
    """

    changes: DiffChanges
    replaces: list[str]
    stables: list[str]
    delete_before_replace: bool
    diffs: list[str]
    detailed_diff: dict[str, str]


@dataclasses.dataclass
class CreateResult:
    """``create``'s answer: the new id and the outputs (secret marks annotated)."""

    id: str
    outputs: dict[str, Any]


@dataclasses.dataclass
class ReadResult:
    """``read``'s answer: an empty ``id`` means the resource is gone.

    ``inputs`` is ``None`` unless the provider returned new inputs to diff against.
    """

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


_CHANGES: dict[int, DiffChanges] = {
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_SOME: "some",
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
}


class _Target(TypedDict):
    """The fields that name the resource of a request."""

    urn: str
    name: str
    type: str


_C = TypeVar("_C", bound="ClosedOnExit")


class ClosedOnExit:
    """``with obj:`` calls ``obj.close()`` when the block ends (the base of the driver's
    :class:`ProviderServer` and :class:`~tests.engine.stack.Stack`)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ProviderServer(ClosedOnExit):
    """The SDK's dynamic-provider server (``python -m pulumi.dynamic``) as the engine runs it.

    Starting it costs about a second; share one between tests where the config allows.
    Every method takes and returns plain dicts in the driver's value model
    (:mod:`tests.engine.values`): :class:`~tests.engine.values.Secret` for secrets,
    :data:`~tests.engine.values.UNKNOWN` for unknowns. Provider exceptions raise
    :class:`ProviderError`.

    Note how the server behaves (this is the SDK's code, not ours): it deserializes
    ``__provider`` from the request, caches the provider object per serialized string, and
    calls ``provider.configure(...)`` once, the first time it sees that string, with the
    config from the last ``Configure``. To change config, use :meth:`restart`.

    ``config`` maps namespaced keys (``"customvision:endpoint"``) to strings or
    ``Secret(str)``; it is sent in ``ConfigureRequest.args`` (secrets as secrets, which the
    server unwraps) and, for completeness, in the legacy ``variables`` map
    (``"customvision:config:endpoint"``). ``project``/``stack``/``organization`` are set
    as ``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_ORGANIZATION`` for the process.

    Use as a context manager, or call :meth:`close`; :meth:`kill` sends SIGKILL (crash
    tests). Processes still alive at interpreter exit are killed.
    """

    def __init__(
        self,
        config: Mapping[str, str | Secret] | None = None,
        *,
        project: str = "test-project",
        stack: str = "test",
        organization: str = "organization",
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        startup_timeout: float = 20.0,
        call_timeout: float = 120.0,
    ) -> None:
        """Start the server and configure it. Raises :class:`ProviderServerError` on failure."""
        self.config: dict[str, str | Secret] = dict(config or {})
        self.project = project
        self.stack = stack
        self.organization = organization
        self.env = dict(env or {})
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self.startup_timeout = startup_timeout
        self.call_timeout = call_timeout
        self.accept_secrets = False
        self.supports_preview = False
        self.calls: list[str] = []
        """Names of the RPCs sent, in order (``"Configure"``, ``"Check"``, ...)."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=2000)
        self._readers: list[threading.Thread] = []
        self.port = 0
        self._start()

    # --- process lifecycle --------------------------------------------------------------

    def _start(self) -> None:
        env = os.environ.copy()
        env.update(
            PULUMI_PROJECT=self.project,
            PULUMI_STACK=self.stack,
            PULUMI_ORGANIZATION=self.organization,
            PYTHONPATH=os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        )
        env.update(self.env)
        self._output.clear()
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.cwd,
            env=env,
        )
        self._proc = proc
        with _LIVE_LOCK:
            _LIVE_SERVERS.add(self)
        try:
            self.port = self._read_port(proc)
            self._readers = [
                self._drain(proc.stdout, "stdout"),
                self._drain(proc.stderr, "stderr"),
            ]
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{self.port}", options=_GRPC_CHANNEL_OPTIONS
            )
            grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
            self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
            self.configure(self.config)
        except BaseException:
            self.kill()
            raise

    def _read_port(self, proc: subprocess.Popen[bytes]) -> int:
        assert proc.stdout is not None and proc.stderr is not None
        deadline = time.monotonic() + self.startup_timeout
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProviderServerError(
                        f"provider server printed no port within {self.startup_timeout}s"
                    )
                if not sel.select(timeout=min(remaining, 0.2)):
                    if proc.poll() is not None:
                        break
                    continue
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
        line, _, rest = buf.partition(b"\n")
        if rest:
            self._output.append("stdout: " + rest.decode(errors="replace"))
        try:
            return int(line.strip())
        except ValueError:
            proc.kill()
            try:
                _, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                err = b""
            raise ProviderServerError(
                "provider server did not start: stdout="
                f"{buf.decode(errors='replace')!r} stderr={err.decode(errors='replace')[-4000:]}"
            ) from None

    def _drain(self, stream: IO[bytes] | None, label: str) -> threading.Thread:
        def run() -> None:
            assert stream is not None
            for raw in iter(stream.readline, b""):
                self._output.append(f"{label}: {raw.decode(errors='replace').rstrip()}")

        thread = threading.Thread(target=run, name=f"provider-{label}", daemon=True)
        thread.start()
        return thread

    @property
    def pid(self) -> int | None:
        """The server's process id (``None`` before start)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        """True while the server process runs."""
        return self._proc is not None and self._proc.poll() is None

    def output(self) -> str:
        """What the server printed so far (stderr/stdout lines, prefixed): provider logs."""
        return "\n".join(self._output)

    def _shutdown(self, graceful: bool) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        proc = self._proc
        if proc is not None and proc.poll() is None:
            if graceful:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
            else:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        for reader in self._readers:
            reader.join(timeout=2)
        self._readers = []
        if proc is not None:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        with _LIVE_LOCK:
            _LIVE_SERVERS.discard(self)

    def kill(self) -> None:
        """SIGKILL the server now (in-flight calls fail with ``UNAVAILABLE``). Idempotent."""
        self._shutdown(graceful=False)

    def close(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). Idempotent."""
        self._shutdown(graceful=True)

    def restart(self, config: Mapping[str, str | Secret] | None = None) -> None:
        """Replace the process by a fresh one (new provider cache), configured again.

        ``config`` replaces the stored config when given. This is what a new ``pulumi up``
        does: a new plugin process that has never seen the provider.
        """
        self.close()
        if config is not None:
            self.config = dict(config)
        self.calls.append("(restart)")
        self._start()

    def __repr__(self) -> str:
        state = "alive" if self.alive else "stopped"
        return f"<ProviderServer pid={self.pid} port={self.port} {state}>"

    # --- RPCs ------------------------------------------------------------------------------

    def urn(self, name: str, type_token: str = DYNAMIC_RESOURCE_TYPE) -> str:
        """The URN of a top-level resource ``name`` in this server's project and stack."""
        return make_urn(name, type_token, project=self.project, stack=self.stack)

    def _call(self, method: str, request: Any) -> Any:
        self.calls.append(method)
        if self._stub is None:
            raise ProviderError(method, "UNAVAILABLE", "provider server is not running", "")
        try:
            return getattr(self._stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as exc:
            code = exc.code().name if hasattr(exc, "code") else "UNKNOWN"
            details = (exc.details() if hasattr(exc, "details") else str(exc)) or ""
            if code == "UNKNOWN":
                exc_type, message = _parse_traceback(details)
            else:
                exc_type, message = None, details or code
            raise ProviderError(method, code, message, details, exc_type) from None

    def _target(self, urn: str | None) -> _Target:
        """The ``urn``, ``name`` and ``type`` fields of a request about resource ``urn``
        (by default a resource named ``resource``)."""
        urn = urn or self.urn("resource")
        return _Target(urn=urn, name=urn.rsplit("::", 1)[-1], type=urn.split("::")[2])

    def _send(self, props: Mapping[str, Any]) -> Any:
        return to_struct(props, keep_secrets=self.accept_secrets)

    def _receive(self, struct: Any, like: Mapping[str, Any] | None) -> dict[str, Any]:
        result = from_struct(struct)
        if not self.accept_secrets and like is not None:
            annotate_secrets(result, like)
        return result

    def configure(self, config: Mapping[str, str | Secret] | None = None) -> None:
        """Send ``Configure`` with ``config`` (namespaced keys, string or ``Secret`` values).

        The server stores it for providers it has not configured yet; already-cached
        providers keep their old config (see :meth:`restart`).
        """
        if config is not None:
            self.config = dict(config)
        for key, value in self.config.items():
            if ":" not in key:
                raise ValueError(f"config key {key!r} must be namespaced, e.g. 'pkg:{key}'")
            if not isinstance(unwrap_secrets(value), str):
                raise ValueError(f"config value of {key!r} must be a string (or Secret(str))")
        variables = {}
        for key, value in self.config.items():
            namespace, _, name = key.partition(":")
            variables[f"{namespace}:config:{name}"] = unwrap_secrets(value)
        response = self._call(
            "Configure",
            provider_pb2.ConfigureRequest(
                variables=variables,
                args=to_struct(self.config, keep_secrets=True),
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
            ),
        )
        self.accept_secrets = response.acceptSecrets
        self.supports_preview = response.supportsPreview

    def check(
        self,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        urn: str | None = None,
    ) -> CheckResult:
        """``Check(olds, news)``: olds are the old *inputs* ({} for a new resource)."""
        response = self._call(
            "Check",
            provider_pb2.CheckRequest(
                **self._target(urn),
                olds=self._send(olds),
                news=self._send(news),
            ),
        )
        inputs = self._receive(response.inputs, news)
        failures = [CheckFailure(f.property, f.reason) for f in response.failures]
        return CheckResult(inputs, failures)

    def diff(
        self,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        urn: str | None = None,
    ) -> DiffResult:
        """``Diff(id, olds, news)``: olds are the old *outputs*, news the checked inputs."""
        response = self._call(
            "Diff",
            provider_pb2.DiffRequest(
                id=id,
                **self._target(urn),
                olds=self._send(olds),
                news=self._send(news),
                old_inputs=self._send(old_inputs or {}),
            ),
        )
        detailed = {
            key: provider_pb2.PropertyDiff.Kind.Name(value.kind)
            for key, value in response.detailedDiff.items()
        }
        return DiffResult(
            changes=_CHANGES.get(response.changes, "unknown"),
            replaces=list(response.replaces),
            stables=list(response.stables),
            delete_before_replace=response.deleteBeforeReplace,
            diffs=list(response.diffs),
            detailed_diff=detailed,
        )

    def create(
        self,
        properties: Mapping[str, Any],
        *,
        urn: str | None = None,
        preview: bool = False,
        timeout: float = 0,
    ) -> CreateResult:
        """``Create(properties)``: returns the id and the outputs.

        ``preview=True`` sends the flag as the engine would for a provider that supports
        previews. The Python dynamic provider does not (``supportsPreview`` is false) and its
        server ignores the flag, so this really creates; :class:`~tests.engine.stack.Stack`
        never sends it (the engine does not either).
        """
        response = self._call(
            "Create",
            provider_pb2.CreateRequest(
                **self._target(urn),
                properties=self._send(properties),
                preview=preview,
                timeout=timeout,
            ),
        )
        return CreateResult(response.id, self._receive(response.properties, properties))

    def update(
        self,
        id: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        urn: str | None = None,
        preview: bool = False,
        timeout: float = 0,
    ) -> dict[str, Any]:
        """``Update(id, olds, news)``: olds are the old outputs; returns the new outputs."""
        response = self._call(
            "Update",
            provider_pb2.UpdateRequest(
                id=id,
                **self._target(urn),
                olds=self._send(olds),
                news=self._send(news),
                old_inputs=self._send(old_inputs or {}),
                preview=preview,
                timeout=timeout,
            ),
        )
        return self._receive(response.properties, news)

    def read(
        self,
        id: str,
        properties: Mapping[str, Any],
        *,
        inputs: Mapping[str, Any] | None = None,
        urn: str | None = None,
    ) -> ReadResult:
        """``Read(id, properties=old outputs, inputs=old inputs)`` as on refresh."""
        request = provider_pb2.ReadRequest(
            id=id,
            **self._target(urn),
            properties=self._send(properties),
        )
        if inputs is not None:
            request.inputs.CopyFrom(self._send(inputs))
        response = self._call("Read", request)
        outputs = self._receive(response.properties, properties)
        new_inputs = None
        if response.HasField("inputs"):
            new_inputs = self._receive(response.inputs, inputs or {})
        return ReadResult(response.id, outputs, new_inputs)

    def delete(
        self,
        id: str,
        properties: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        urn: str | None = None,
        timeout: float = 0,
    ) -> None:
        """``Delete(id, properties=outputs, old_inputs=inputs)``."""
        self._call(
            "Delete",
            provider_pb2.DeleteRequest(
                id=id,
                **self._target(urn),
                properties=self._send(properties),
                old_inputs=self._send(old_inputs or {}),
                timeout=timeout,
            ),
        )


@contextlib.contextmanager
def provider_server(
    config: Mapping[str, str | Secret] | None = None, **kwargs: Any
) -> Iterator[ProviderServer]:
    """``with provider_server(config) as server:`` starts, yields, and always stops one."""
    server = ProviderServer(config, **kwargs)
    try:
        yield server
    finally:
        server.close()


__all__ = [
    "DYNAMIC_RESOURCE_TYPE",
    "PROVIDER_KEY",
    "CheckFailure",
    "CheckResult",
    "CreateResult",
    "DiffResult",
    "ProviderError",
    "ProviderServer",
    "ProviderServerError",
    "ReadResult",
    "contains_secrets",
    "live_servers",
    "make_urn",
    "provider_server",
]
