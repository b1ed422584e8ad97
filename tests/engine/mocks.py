"""Program tests: run a Pulumi program under ``pulumi.runtime.set_mocks`` with real providers.

:class:`ProviderMocks` is a ``pulumi.runtime.Mocks`` whose ``new_resource`` hands every
dynamic resource (type ``pulumi-python:dynamic:Resource`` or
``pulumi-python:dynamic/<module>:<Name>``) to the provider it was declared with: it
decodes ``__provider`` from the inputs exactly as the dynamic-provider server does (dill,
cached per serialized string, ``configure`` called once with the stack config), strips
secrets as the engine does for that provider, calls ``check`` then ``create`` in-process,
and answers with the id and outputs (outputs whose input was secret stay secret). Other
resources echo their inputs; ``pulumi:pulumi:StackReference`` answers with the outputs
given in ``stack_references``; invokes echo their arguments unless ``calls`` says otherwise.

:func:`run_program` runs a program file, module or callable under such mocks and returns
its stack exports with values resolved.

What it is not: there is no state between runs (every run creates), no diff, update,
replace or delete, and ``new_resource`` runs each provider call on the SDK's worker
threads. For lifecycle behaviour use :class:`tests.engine.Stack`. :meth:`ProviderMocks.destroy`
deletes what a run created (reverse order), for cleaning up a shared service.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import gc
import logging
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dill
import pulumi
import pulumi.dynamic as dyn
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .values import PROVIDER_KEY, UNKNOWN, Secret, unwrap_secrets

DYNAMIC_PREFIX = "pulumi-python:dynamic"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


class ProgramCheckError(Exception):
    """A dynamic resource's ``check`` returned failures (the engine would stop here)."""

    def __init__(self, name: str, failures: list[dyn.CheckFailure]) -> None:
        """Record the resource name and its (property, reason) failures."""
        self.name = name
        self.failures = [(f.property, f.reason) for f in failures]
        text = "; ".join(f"{p or '<resource>'}: {r}" for p, r in self.failures)
        super().__init__(f"{name}: check failed: {text}")


@dataclasses.dataclass
class MockedResource:
    """A resource the program registered: its type token, id, inputs and outputs.

    ``inputs`` and ``outputs`` are plain (secrets unwrapped, ``__provider`` removed);
    ``provider`` is the deserialized provider object for dynamic resources.
    """

    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: dyn.ResourceProvider | None = None
    raw_outputs: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)


def _strip_wire_secrets(value: Any) -> tuple[Any, bool]:
    """Unwrap the SDK's secret signature objects deeply; say whether there were any."""
    if rpc.is_rpc_secret(value):
        inner, _ = _strip_wire_secrets(value["value"])
        return inner, True
    if isinstance(value, dict):
        found = False
        out = {}
        for k, v in value.items():
            out[k], secret = _strip_wire_secrets(v)
            found = found or secret
        return out, found
    if isinstance(value, list):
        items = [_strip_wire_secrets(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


class ProviderMocks(pulumi.runtime.Mocks):
    """Mocks that run dynamic resources through their real providers (see module docs).

    ``config`` is the stack config with namespaced keys (``"customvision:endpoint"``),
    string or :class:`~tests.engine.values.Secret` values; it is what
    ``provider.configure`` sees and what :func:`run_program` puts in ``pulumi.Config``.
    ``stack_references`` maps a stack name to its outputs (``Secret`` marks secret ones).
    ``calls`` maps an invoke token to a function of the arguments returning the result.
    """

    def __init__(
        self,
        config: Mapping[str, str | Secret] | None = None,
        *,
        project: str = "test-project",
        stack: str = "test",
        stack_references: Mapping[str, Mapping[str, Any]] | None = None,
        calls: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
    ) -> None:
        """Set up empty mocks (nothing is called until a program runs)."""
        self.config: dict[str, str | Secret] = dict(config or {})
        self.project = project
        self.stack = stack
        self.stack_references = {k: dict(v) for k, v in (stack_references or {}).items()}
        self.calls = dict(calls or {})
        self.preview = False
        self.error: BaseException | None = None
        """The first provider error of the current run (raised by :func:`run_program`)."""
        self.resources: dict[str, MockedResource] = {}
        """Registered resources by name, in registration order."""
        self._providers: dict[str, dyn.ResourceProvider] = {}
        self._lock = threading.Lock()

    # --- pulumi.runtime.Mocks -------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        """Invokes: the function registered in ``calls`` for the token, else echo the args."""
        handler = self.calls.get(args.token)
        return (handler(dict(args.args)) if handler else dict(args.args)), None

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        """Route a registration: dynamic -> real provider, StackReference, or echo.

        A provider error (or check failure) is recorded, not raised: raising here would
        reject every output future of the resource, and the ones the program never awaits
        are logged at garbage collection, in some later test. After the first error no
        provider is called any more (registrations get placeholders) and
        :func:`run_program` raises that error when the run ends.
        """
        if args.typ.startswith(DYNAMIC_PREFIX):
            if self.error is not None:
                return f"{args.name}-not-created", dict(args.inputs)
            try:
                return self._dynamic(args)
            except Exception as exc:
                with self._lock:
                    if self.error is None:
                        self.error = exc
                return f"{args.name}-not-created", dict(args.inputs)
        if args.typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(args)
        plain, _ = _strip_wire_secrets(dict(args.inputs))
        id_ = args.resource_id or f"{args.name}-id"
        self._record(MockedResource(args.typ, args.name, id_, plain, plain, None, args.inputs))
        return id_, dict(args.inputs)

    # --- dynamic resources ----------------------------------------------------------------

    def provider_for(self, serialized: str) -> dyn.ResourceProvider:
        """The provider for a ``__provider`` string: decoded and configured once, cached."""
        with self._lock:
            provider = self._providers.get(serialized)
            if provider is None:
                provider = dill.loads(base64.b64decode(serialized))
                raw = {k: unwrap_secrets(v) for k, v in self.config.items()}
                provider.configure(dyn.ConfigureRequest(dyn.Config(raw, self.project)))
                self._providers[serialized] = provider
            return provider

    def _dynamic(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        wire = dict(args.inputs)
        plain, _ = _strip_wire_secrets(wire)
        serialized = plain[PROVIDER_KEY]
        provider = self.provider_for(serialized)
        checked = provider.check({}, plain)
        if checked.failures:
            raise ProgramCheckError(args.name, checked.failures)
        inputs = dict(checked.inputs)
        if self.preview:
            # The engine does not call Create in preview for this provider: the inputs are
            # the planned outputs and the id is unknown.
            outs: dict[str, Any] = {k: v for k, v in inputs.items() if k != PROVIDER_KEY}
            id_: str = ""
        else:
            result = provider.create(inputs)
            outs = dict(result.outs or {})
            id_ = result.id
        outs[PROVIDER_KEY] = serialized
        raw_outs = dict(outs)
        for key, value in wire.items():  # the engine's annotateSecrets, top level
            if key in raw_outs and _strip_wire_secrets(value)[1]:
                raw_outs[key] = rpc.wrap_rpc_secret(raw_outs[key])
        visible = {k: v for k, v in outs.items() if k != PROVIDER_KEY}
        clean_inputs = {k: v for k, v in inputs.items() if k != PROVIDER_KEY}
        self._record(
            MockedResource(args.typ, args.name, id_, clean_inputs, visible, provider, raw_outs)
        )
        return id_, raw_outs

    def _stack_reference(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name = str(args.inputs.get("name") or args.resource_id or args.name)
        given = self.stack_references.get(name, {})
        outputs = {
            k: rpc.wrap_rpc_secret(v.value) if isinstance(v, Secret) else v
            for k, v in given.items()
        }
        secret_names = sorted(k for k, v in given.items() if isinstance(v, Secret))
        state = {"name": name, "outputs": outputs, "secretOutputNames": secret_names}
        self._record(
            MockedResource(
                args.typ, args.name, name, {"name": name}, unwrap_secrets(given), None, state
            )
        )
        return name, state

    def _record(self, resource: MockedResource) -> None:
        with self._lock:
            self.resources[resource.name] = resource

    def destroy(self) -> None:
        """Delete what dynamic providers created in the last run, in reverse order."""
        for res in reversed(list(self.resources.values())):
            if res.provider is not None and res.id:
                res.provider.delete(
                    res.id, {**res.outputs, PROVIDER_KEY: res.raw_outputs.get(PROVIDER_KEY)}
                )
        self.resources.clear()


@dataclasses.dataclass
class ProgramResult:
    """What a program run produced.

    ``exports`` are the resolved stack outputs (secrets unwrapped; an unknown value, which
    only a preview produces, is :data:`~tests.engine.values.UNKNOWN`); ``secret_exports``
    and ``unknown_exports`` name the exports that were secret or unknown. ``resources`` is
    the mocks' registry (by resource name).
    """

    exports: dict[str, Any]
    secret_exports: set[str]
    unknown_exports: set[str]
    resources: dict[str, MockedResource]


@contextlib.contextmanager
def _on_sys_path(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    entry = str(path)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


async def _resolve(value: Any) -> tuple[Any, bool, bool]:
    output = pulumi.Output.from_input(value)
    known = await output.is_known()
    secret = await output.is_secret()
    resolved = await output.future(with_unknowns=True) if known else UNKNOWN
    return _plain(resolved), secret, not known


def _plain(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _collect_failed_run() -> None:
    """Free what a failed run left behind, quietly.

    When a registration fails, the SDK rejects every output future of that resource; the
    ones nobody awaited are logged ("Future exception was never retrieved") whenever the
    garbage collector finds them, which can be in the middle of a later test. Collect them
    here, with asyncio's logger muted, so they go away with the run.
    """
    logger = logging.getLogger("asyncio")
    previous = logger.disabled
    logger.disabled = True
    try:
        gc.collect()
    finally:
        logger.disabled = previous


def run_program(
    program: str | Path | Callable[[], Any],
    mocks: ProviderMocks,
    *,
    preview: bool = False,
) -> ProgramResult:
    """Run ``program`` under ``mocks`` and return its exports, resolved.

    ``program`` is a path to a program file (``examples/x/__main__.py``; its directory is put
    on ``sys.path`` while it runs, as the Python language host does), a dotted module name
    run as ``__main__``, or a callable. The mocks' config becomes the program's
    ``pulumi.Config`` (``Secret`` values as secret config). ``preview=True`` runs it as a
    preview: no provider ``create`` is called and ids are unknown.

    An exception raised by the program propagates; otherwise the first provider error (or
    :class:`ProgramCheckError`) is raised once the run has ended.
    """
    mocks.preview = preview
    mocks.error = None
    mocks.resources.clear()
    pulumi_settings.reset_options(project=mocks.project, stack=mocks.stack, preview=preview)
    set_all_config(
        {k: str(unwrap_secrets(v)) for k, v in mocks.config.items()},
        [k for k, v in mocks.config.items() if isinstance(v, Secret)],
    )
    pulumi.runtime.set_mocks(mocks, project=mocks.project, stack=mocks.stack, preview=preview)
    root = pulumi_settings.get_root_resource()
    assert root is not None

    path: Path | None = None
    if callable(program):
        body: Callable[[], Any] = program
    elif isinstance(program, Path) or str(program).endswith(".py") or "/" in str(program):
        path = Path(program).resolve()
        body = lambda: runpy.run_path(str(path), run_name="__main__")  # noqa: E731
    else:
        module = str(program)
        body = lambda: runpy.run_module(module, run_name="__main__", alter_sys=True)  # noqa: E731

    outputs: dict[str, Any] = getattr(root, "outputs", {})

    async def resolve_all() -> dict[str, tuple[Any, bool, bool]]:
        return {name: await _resolve(value) for name, value in dict(outputs).items()}

    with _on_sys_path(path.parent if path is not None else None):
        try:
            _sync_await(run_pulumi_func(body))
        except BaseException:
            _collect_failed_run()
            raise
    if mocks.error is not None:
        raise mocks.error
    resolved = _sync_await(resolve_all())
    # Let any task still pending settle so the next run starts clean.
    loop = asyncio.get_event_loop()
    if not loop.is_running():
        loop.run_until_complete(asyncio.sleep(0))
    return ProgramResult(
        exports={k: v for k, (v, _, _) in resolved.items()},
        secret_exports={k for k, (_, s, _) in resolved.items() if s},
        unknown_exports={k for k, (_, _, u) in resolved.items() if u},
        resources=dict(mocks.resources),
    )


__all__ = [
    "MockedResource",
    "ProgramCheckError",
    "ProgramResult",
    "ProviderMocks",
    "run_program",
]
