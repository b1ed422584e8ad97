"""``Stack``: plays the Pulumi engine's deployment logic over a :class:`ProviderServer`.

It keeps the state a Pulumi stack keeps (per resource: URN, id, inputs, outputs) and runs
``up``, ``preview``, ``refresh`` and ``destroy`` the way the engine's step generator and
step executor do for dynamic resources:

``up`` -- for each declared resource, in order:

1. resolve :class:`~tests.engine.values.Ref` inputs against resources already processed,
   add ``__provider`` (dill, secret) and call ``Check(olds=old inputs or {}, news)``;
   failures raise :class:`CheckFailedError`;
2. new resource: ``Create``; existing: ``Diff(id, olds=old outputs, news=checked inputs,
   old_inputs)``. ``DIFF_UNKNOWN`` (the SDK's default ``diff``) makes the engine compare
   old and new inputs itself;
3. no changes: ``same`` (state takes the new inputs, keeps the old outputs); changes
   without replaces: ``Update``; replaces: ``Check`` again with no olds, then
   create-before-delete (``Create`` new now, ``Delete`` old in the delete phase) or, when
   the diff or the declaration asks for it, delete-before-replace (``Delete`` old, then
   ``Create``);
4. delete phase: walking the previous state in reverse, ``Delete`` replaced old
   resources and resources no longer declared.

A failing ``Create`` leaves nothing in state; a failing ``Update`` keeps the old state; a
failing ``Delete`` keeps the resource (a replaced one stays queued in ``pending_deletes``
and is retried by the next ``up``). The error propagates and the ``up`` stops there.

``preview`` -- ``Check`` and ``Diff`` only, with unknowns allowed. ``Create``/``Update`` are
not called: the dynamic provider answers ``Configure`` with ``supportsPreview=False``, and
for such providers the engine returns the inputs as the planned outputs without calling
the provider (``provider_plugin.go``). So a ``Ref`` to a resource created or replaced in
the preview resolves to ``UNKNOWN`` for ``id`` and for any key not among its inputs.

``refresh`` -- ``Read(id, properties=old outputs, inputs=old inputs)`` for each resource;
an empty id drops it from state (``deleted``), otherwise outputs (and inputs, if the
provider returned some) are replaced.

``destroy`` -- ``Delete`` every resource in reverse order.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from pulumi.dynamic import ResourceProvider

from .server import (
    DYNAMIC_RESOURCE_TYPE,
    CheckFailure,
    ClosedOnExit,
    ProviderError,
    ProviderServer,
    make_urn,
)
from .values import (
    PROVIDER_KEY,
    UNKNOWN,
    Ref,
    Secret,
    contains_unknowns,
    serialize_provider_property,
    unwrap_secrets,
)

Op = Literal["create", "update", "replace", "delete", "same", "read", "deleted"]
T = TypeVar("T")


@dataclasses.dataclass
class Resource:
    """A declared resource: what a program's ``pulumi.dynamic.Resource(...)`` registers.

    ``inputs`` may contain :class:`~tests.engine.values.Ref` and
    :class:`~tests.engine.values.Secret` anywhere. ``delete_before_replace`` and
    ``additional_secret_outputs`` are the resource options of the same names; as in the
    engine, ``delete_before_replace`` (``True`` or ``False``) overrides what the provider's
    diff asks for, and ``None`` leaves the provider's choice.
    """

    provider: ResourceProvider
    inputs: Mapping[str, Any]
    type: str = DYNAMIC_RESOURCE_TYPE
    delete_before_replace: bool | None = None
    additional_secret_outputs: Sequence[str] = ()


@dataclasses.dataclass
class ResourceState:
    """One resource in the stack's state (secret-marked values as :class:`Secret`)."""

    name: str
    type: str
    urn: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]

    def plain_outputs(self) -> dict[str, Any]:
        """Outputs without ``__provider`` and with secrets unwrapped."""
        return {k: unwrap_secrets(v) for k, v in self.outputs.items() if k != PROVIDER_KEY}

    def plain_inputs(self) -> dict[str, Any]:
        """Inputs without ``__provider`` and with secrets unwrapped."""
        return {k: unwrap_secrets(v) for k, v in self.inputs.items() if k != PROVIDER_KEY}


@dataclasses.dataclass
class Step:
    """What the engine did (or, in preview, would do) to one resource.

    ``op``: ``create``, ``update``, ``replace``, ``delete``, ``same`` (no change), ``read``
    (refresh found it; ``changed_keys`` lists outputs that drifted) or ``deleted`` (refresh
    found it gone). ``changed_keys`` and ``replaces`` come from the diff; ``diff_source`` is
    ``"provider"`` or ``"engine"`` (the provider answered DIFF_UNKNOWN and the engine
    compared inputs). For a replace, ``old_id`` is the replaced resource's id.
    """

    name: str
    op: Op
    urn: str
    id: str | None = None
    old_id: str | None = None
    changed_keys: list[str] = dataclasses.field(default_factory=list)
    replaces: list[str] = dataclasses.field(default_factory=list)
    delete_before_replace: bool = False
    diff_source: Literal["provider", "engine"] | None = None

    def __str__(self) -> str:
        text = f"{self.op} {self.name}"
        if self.changed_keys:
            text += f" changed={self.changed_keys}"
        if self.replaces:
            text += f" replaces={self.replaces}"
        if self.op == "replace":
            text += " (delete-before-replace)" if self.delete_before_replace else ""
        return text


class StepLog(list[Step]):
    """The steps of one operation, in the order they happened."""

    def ops(self) -> dict[str, Op]:
        """``{resource name: op}`` (the last step per name), for compact assertions."""
        return {step.name: step.op for step in self}

    def step(self, name: str) -> Step:
        """The (last) step for resource ``name``; ``KeyError`` if there is none."""
        for step in reversed(self):
            if step.name == name:
                return step
        raise KeyError(f"no step for {name!r} in {self}")

    def changes(self) -> list[Step]:
        """Steps other than ``same``."""
        return [s for s in self if s.op != "same"]

    @property
    def empty(self) -> bool:
        """True when every step is ``same`` (what a second ``pulumi up`` must show)."""
        return not self.changes()

    def __str__(self) -> str:
        return "; ".join(str(s) for s in self) or "(no steps)"


class CheckFailedError(ProviderError):
    """``check`` returned failures; ``failures`` lists them (property, reason)."""

    def __init__(self, resource: str, failures: list[CheckFailure]) -> None:
        """Record the resource name and its failures."""
        self.failures = failures
        text = "; ".join(f"{f.property or '<resource>'}: {f.reason}" for f in failures)
        super().__init__("Check", "INVALID_ARGUMENT", text, "", "CheckFailure", resource)


Declarations = Mapping[str, "Resource | tuple[ResourceProvider, Mapping[str, Any]]"]


def _normalize(resources: Declarations) -> dict[str, Resource]:
    out: dict[str, Resource] = {}
    for name, decl in resources.items():
        if isinstance(decl, Resource):
            out[name] = decl
        else:
            provider, inputs = decl
            out[name] = Resource(provider, inputs)
    return out


class _Planned(dict[str, Any]):
    """Planned outputs in a preview: a missing key is UNKNOWN if the resource changes."""

    unknown_missing = False

    def __missing__(self, key: str) -> Any:
        return UNKNOWN if self.unknown_missing else None

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]


def _plain_equal(a: Any, b: Any) -> bool:
    return bool(unwrap_secrets(a) == unwrap_secrets(b))


def _changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(olds) | set(news))
    return [k for k in keys if not _plain_equal(olds.get(k), news.get(k))]


class Stack(ClosedOnExit):
    """A Pulumi stack's state plus the engine's deployment logic, for lifecycle tests.

    Give it either ``config`` (it then starts and owns a :class:`ProviderServer`) or a
    running ``server`` to share (it is then not closed by :meth:`close`). ``restart_each_op``
    starts a fresh server process for every operation, as each ``pulumi`` command does
    (slower; by default one server serves all operations, so ``provider.configure`` runs
    once per provider for the server's life).

    Every operation returns a :class:`StepLog`; ``history`` keeps them all and ``rpc_log``
    every provider call as ``(method, resource name)``.
    """

    def __init__(
        self,
        config: Mapping[str, str | Secret] | None = None,
        *,
        server: ProviderServer | None = None,
        project: str = "test-project",
        stack: str = "test",
        restart_each_op: bool = False,
    ) -> None:
        """Create an empty stack (see the class docstring)."""
        if server is not None and config is not None:
            raise ValueError("pass config or server, not both")
        self._owns_server = server is None
        self.server = server or ProviderServer(config, project=project, stack=stack)
        self.project = self.server.project if server is not None else project
        self.stack = self.server.stack if server is not None else stack
        self.restart_each_op = restart_each_op
        self.resources: dict[str, ResourceState] = {}
        """The state: resource name -> :class:`ResourceState`, in dependency order."""
        self.pending_deletes: list[ResourceState] = []
        """Replaced resources whose delete failed or did not happen yet."""
        self.history: list[StepLog] = []
        self.rpc_log: list[tuple[str, str]] = []
        self.last_second_up: StepLog | None = None

    # --- conveniences ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop the server if this stack started it (state is kept)."""
        if self._owns_server:
            self.server.close()

    def restart_server(self, config: Mapping[str, str | Secret] | None = None) -> None:
        """Start a fresh server process (killing a live one); state is kept.

        Use after ``server.kill()`` in crash tests, or to change config (``config``).
        """
        self.server.restart(config)

    def state(self, name: str) -> ResourceState:
        """The state of resource ``name`` (``KeyError`` if it is not in the stack)."""
        return self.resources[name]

    def outputs(self, name: str) -> dict[str, Any]:
        """Outputs of ``name`` without ``__provider``, secrets unwrapped."""
        return self.resources[name].plain_outputs()

    def id(self, name: str) -> str:
        """The id of resource ``name``."""
        return self.resources[name].id

    def urn(self, name: str, type_token: str = DYNAMIC_RESOURCE_TYPE) -> str:
        """The URN resource ``name`` has (or would have) in this stack."""
        return make_urn(name, type_token, project=self.project, stack=self.stack)

    def _rpc(self, method: str, name: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        self.rpc_log.append((method, name))
        try:
            return fn(*args, **kw)
        except ProviderError as exc:
            raise exc.for_resource(name) from None

    def _begin(self) -> StepLog:
        if self.restart_each_op or not self.server.alive:
            self.server.restart()
        log = StepLog()
        self.history.append(log)
        return log

    # --- inputs ---------------------------------------------------------------------------

    def _resolve(self, value: Any, planned: Mapping[str, dict[str, Any]] | None) -> Any:
        if isinstance(value, Ref):
            return self._resolve_ref(value, planned)
        if isinstance(value, Secret):
            return Secret(self._resolve(value.value, planned))
        if isinstance(value, Mapping):
            return {k: self._resolve(v, planned) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._resolve(v, planned) for v in value]
        return value

    def _resolve_ref(self, ref: Ref, planned: Mapping[str, dict[str, Any]] | None) -> Any:
        if planned is not None:  # preview
            if ref.name not in planned:
                raise KeyError(f"{ref!r}: resource {ref.name!r} must be declared before use")
            return ref.follow(planned[ref.name].get(ref.key))
        if ref.name not in self.resources:
            raise KeyError(f"{ref!r}: resource {ref.name!r} is not in the stack (declare it first)")
        st = self.resources[ref.name]
        if ref.key == "id":
            return st.id
        if ref.key == "urn":
            return st.urn
        return ref.follow(st.outputs.get(ref.key))

    def _news(self, decl: Resource, planned: Mapping[str, dict[str, Any]] | None) -> dict[str, Any]:
        if PROVIDER_KEY in decl.inputs:
            raise ValueError("a dynamic resource must not define the __provider key")
        news = self._resolve(dict(decl.inputs), planned)
        news[PROVIDER_KEY] = serialize_provider_property(decl.provider)
        return dict(news)

    @staticmethod
    def _secret_outputs(decl: Resource, outs: dict[str, Any]) -> dict[str, Any]:
        for key in decl.additional_secret_outputs:
            if key in outs and not isinstance(outs[key], Secret):
                outs[key] = Secret(outs[key])
        return outs

    @staticmethod
    def _planned(
        urn: str, id_: str, outputs: Mapping[str, Any], *, unknown_missing: bool
    ) -> dict[str, Any]:
        """What a Ref sees of a resource during preview."""
        planned = _Planned(outputs)
        planned.unknown_missing = unknown_missing
        planned.pop(PROVIDER_KEY, None)
        planned["id"] = id_
        planned["urn"] = urn
        return planned

    # --- up / preview ---------------------------------------------------------------------

    def up(self, resources: Declarations, *, expect_empty_second_up: bool = True) -> StepLog:
        """Deploy ``resources`` (name -> :class:`Resource` or ``(provider, inputs)``).

        Returns the steps taken. Unless ``expect_empty_second_up=False``, then runs the same
        ``up`` again and raises ``AssertionError`` if that second one is not all ``same``
        (its log is kept in ``last_second_up``). Provider errors propagate as
        :class:`ProviderError` after the state has recorded what succeeded.
        """
        decls = _normalize(resources)
        log = self._begin()
        self._up(decls, log, preview=False)
        if expect_empty_second_up:
            second = self._begin()
            self._up(decls, second, preview=False)
            self.last_second_up = second
            if not second.empty:
                detail = "; ".join(str(s) for s in second.changes())
                raise AssertionError(f"second up was not empty: {detail}")
        return log

    def up_in_background(self, resources: Declarations, **kwargs: Any) -> BackgroundOp:
        """Start ``up(resources, **kwargs)`` on a thread, for crash tests (:class:`BackgroundOp`).

        Typical use: start it, wait until the service saw the request, ``self.server.kill()``,
        then ``op.wait()`` raises the :class:`ProviderError` (``.crashed``).
        """
        return BackgroundOp(lambda: self.up(resources, **kwargs))

    def preview(self, resources: Declarations) -> StepLog:
        """What ``up`` would do: ``Check`` and ``Diff`` only, unknowns allowed; state unchanged."""
        decls = _normalize(resources)
        log = self._begin()
        self._up(decls, log, preview=True)
        return log

    def _up(self, decls: dict[str, Resource], log: StepLog, *, preview: bool) -> None:
        old_order = list(self.resources)
        earlier_pending = list(self.pending_deletes)
        replaced: dict[str, ResourceState] = {}
        planned: dict[str, dict[str, Any]] | None = {} if preview else None
        for name, decl in decls.items():
            log.append(self._step(name, decl, preview, planned, replaced))
        # Delete phase: previous state in reverse order; pending deletes of earlier runs first.
        if not preview:
            self._delete_pending(earlier_pending, log)
        for name in reversed(old_order):
            if name in replaced:
                if not preview:
                    self._delete(name, replaced[name])
                    self.pending_deletes.remove(replaced[name])
            elif name not in decls and name in self.resources:
                if preview:
                    st = self.resources[name]
                    log.append(Step(name, "delete", st.urn, id=st.id))
                else:
                    self._remove(name, log)
        if not preview:
            order = [n for n in decls if n in self.resources]
            order += [n for n in self.resources if n not in decls]
            self.resources = {n: self.resources[n] for n in order}

    def _step(
        self,
        name: str,
        decl: Resource,
        preview: bool,
        planned: dict[str, dict[str, Any]] | None,
        replaced: dict[str, ResourceState],
    ) -> Step:
        urn = self.urn(name, decl.type)
        old = self.resources.get(name)
        news = self._news(decl, planned)
        if not preview and contains_unknowns(news):
            raise ValueError(f"{name}: unknown input values outside preview")
        checked = self._rpc(
            "Check", name, self.server.check, old.inputs if old else {}, news, urn=urn
        )
        if checked.failures:
            raise CheckFailedError(name, checked.failures)
        inputs = checked.inputs

        if old is None:
            if planned is not None:
                planned[name] = self._planned(urn, UNKNOWN, inputs, unknown_missing=True)
                return Step(name, "create", urn)
            st = self._create(name, decl, urn, inputs)
            return Step(name, "create", urn, id=st.id)

        diff = self._rpc(
            "Diff",
            name,
            self.server.diff,
            old.id,
            old.outputs,
            inputs,
            old_inputs=old.inputs,
            urn=urn,
        )
        if diff.changes == "unknown":
            changed = _changed_keys(old.inputs, inputs)
            source: Literal["provider", "engine"] = "engine"
            has_changes = bool(changed)
        else:
            changed = diff.diffs or (
                _changed_keys(old.inputs, inputs) if diff.changes == "some" else []
            )
            source = "provider"
            has_changes = diff.changes == "some"

        if not has_changes:
            if planned is not None:
                planned[name] = self._planned(urn, old.id, old.outputs, unknown_missing=False)
            else:
                self.resources[name] = dataclasses.replace(old, urn=urn, inputs=inputs)
            return Step(name, "same", urn, id=old.id, diff_source=source)

        if not diff.replaces:
            if planned is not None:
                planned[name] = self._planned(urn, old.id, inputs, unknown_missing=True)
                return Step(
                    name, "update", urn, id=old.id, changed_keys=changed, diff_source=source
                )
            outs = self._rpc(
                "Update",
                name,
                self.server.update,
                old.id,
                old.outputs,
                inputs,
                old_inputs=old.inputs,
                urn=urn,
            )
            self.resources[name] = dataclasses.replace(
                old, urn=urn, inputs=inputs, outputs=self._secret_outputs(decl, outs)
            )
            return Step(name, "update", urn, id=old.id, changed_keys=changed, diff_source=source)

        # Replacement: the engine checks again without olds (defaults are not carried over).
        dbr = diff.delete_before_replace
        if decl.delete_before_replace is not None:
            dbr = decl.delete_before_replace
        rechecked = self._rpc("Check", name, self.server.check, {}, news, urn=urn)
        if rechecked.failures:
            raise CheckFailedError(name, rechecked.failures)
        inputs = rechecked.inputs
        step = Step(
            name,
            "replace",
            urn,
            old_id=old.id,
            changed_keys=changed,
            replaces=list(diff.replaces),
            delete_before_replace=dbr,
            diff_source=source,
        )
        if planned is not None:
            planned[name] = self._planned(urn, UNKNOWN, inputs, unknown_missing=True)
            return step
        if dbr:
            self._delete(name, old)
            del self.resources[name]
            st = self._create(name, decl, urn, inputs)
        else:
            st = self._create(name, decl, urn, inputs)
            replaced[name] = old
            self.pending_deletes.append(old)  # the engine marks it pending delete now
        step.id = st.id
        return step

    def _create(self, name: str, decl: Resource, urn: str, inputs: dict[str, Any]) -> ResourceState:
        result = self._rpc("Create", name, self.server.create, inputs, urn=urn)
        if not result.id:
            raise ProviderError(
                "Create", "INTERNAL", "provider returned an empty id", "", resource=name
            )
        st = ResourceState(
            name, decl.type, urn, result.id, inputs, self._secret_outputs(decl, result.outputs)
        )
        self.resources[name] = st
        return st

    # --- refresh / destroy ----------------------------------------------------------------

    def refresh(self) -> StepLog:
        """``Read`` every resource; drop the ones that are gone, record drift in outputs."""
        log = self._begin()
        for name, st in list(self.resources.items()):
            result = self._rpc(
                "Read", name, self.server.read, st.id, st.outputs, inputs=st.inputs, urn=st.urn
            )
            if not result.id:
                del self.resources[name]
                log.append(Step(name, "deleted", st.urn, id=st.id))
                continue
            outputs = result.outputs
            drift = _changed_keys(st.outputs, outputs)
            inputs = result.inputs if result.inputs is not None else st.inputs
            self.resources[name] = dataclasses.replace(
                st, id=result.id, inputs=inputs, outputs=outputs
            )
            log.append(Step(name, "read", st.urn, id=result.id, changed_keys=drift))
        return log

    def destroy(self) -> StepLog:
        """``Delete`` every resource (and pending deletes) in reverse order; empty the state."""
        log = self._begin()
        self._delete_pending(list(self.pending_deletes), log)
        for name in reversed(list(self.resources)):
            self._remove(name, log)
        return log

    def _delete(self, name: str, st: ResourceState) -> None:
        """``Delete`` the object recorded in ``st`` (the state is the caller's business)."""
        self._rpc(
            "Delete",
            name,
            self.server.delete,
            st.id,
            st.outputs,
            old_inputs=st.inputs,
            urn=st.urn,
        )

    def _remove(self, name: str, log: StepLog) -> None:
        """Delete resource ``name`` and drop it from the state."""
        st = self.resources[name]
        self._delete(name, st)
        del self.resources[name]
        log.append(Step(name, "delete", st.urn, id=st.id))

    def _delete_pending(self, pending: list[ResourceState], log: StepLog) -> None:
        """Delete replaced resources left pending (the engine does these first)."""
        for st in pending:
            self._delete(st.name, st)
            self.pending_deletes.remove(st)
            log.append(Step(st.name, "delete", st.urn, id=st.id))


class BackgroundOp:
    """A stack operation running on a daemon thread (from :meth:`Stack.up_in_background`)."""

    def __init__(self, fn: Callable[[], StepLog]) -> None:
        """Start ``fn`` on a new thread."""
        self.result: StepLog | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], StepLog]) -> None:
        try:
            self.result = fn()
        except BaseException as exc:
            self.error = exc

    @property
    def done(self) -> bool:
        """True once the operation returned or raised."""
        return not self._thread.is_alive()

    def wait(self, timeout: float = 60.0) -> StepLog:
        """Wait (bounded) and return the step log, or raise what the operation raised."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"stack operation still running after {timeout}s")
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Poll ``predicate`` until it is truthy; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


def declare(
    items: Iterable[tuple[str, ResourceProvider, Mapping[str, Any]]],
) -> dict[str, Resource]:
    """Build an ordered declaration mapping from ``(name, provider, inputs)`` triples."""
    return {name: Resource(provider, inputs) for name, provider, inputs in items}
