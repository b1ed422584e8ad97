"""Program runs that keep state between them, as successive `pulumi up`s of one stack do.

:class:`tests.engine.mocks.ProviderMocks` creates every resource on every run. For an
example whose point is what the *next* `pulumi up` does (a new training promotes again),
:class:`StatefulMocks` keeps the state of the previous run and, per registered resource,
plays the engine's step: ``check`` with the old inputs, then ``create`` for a new name;
otherwise ``diff`` against the old outputs and ``same``, ``update`` or ``replace``
(create-before-delete, or delete-before-replace when the diff asks for it); after the
program, the replaced originals and the resources no longer declared are deleted, newest
first. :attr:`StatefulMocks.steps` records each resource's step of the last run.

It is the program-level counterpart of :class:`tests.engine.Stack` (which plays the
engine over gRPC but takes declarations, not programs); like the mocks it calls the
providers in-process.
"""

from __future__ import annotations

import threading
from typing import Any

import pulumi
import pulumi.dynamic as dyn
from pulumi.runtime import rpc

from tests.engine.mocks import MockedResource, ProgramCheckError, ProviderMocks, _strip_wire_secrets
from tests.engine.values import PROVIDER_KEY


class StatefulMocks(ProviderMocks):
    """:class:`ProviderMocks` with state between runs (see the module documentation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As :class:`ProviderMocks`; the state starts empty."""
        super().__init__(*args, **kwargs)
        self.state: dict[str, MockedResource] = {}
        """The resources after the last run, by name."""
        self.steps: dict[str, str] = {}
        """The step of each resource in the last run: create, same, update, replace, delete."""
        self._replaced: list[MockedResource] = []
        self._state_lock = threading.Lock()

    def begin(self) -> None:
        """Start a run (call before :func:`~tests.engine.mocks.run_program`)."""
        self.steps = {}
        self._replaced = []

    def finish(self) -> None:
        """End a run: delete replaced originals and undeclared resources, newest first."""
        gone = [r for name, r in self.state.items() if name not in self.steps]
        for res in [*reversed(self._replaced), *reversed(gone)]:
            self._delete(res)
        for res in gone:
            self.steps[res.name] = "delete"
            del self.state[res.name]
        self._replaced = []

    def destroy(self) -> None:
        """Delete everything in the state, newest first (``pulumi destroy``)."""
        for res in reversed(list(self.state.values())):
            self._delete(res)
        self.state.clear()

    @staticmethod
    def _delete(res: MockedResource) -> None:
        assert res.provider is not None
        res.provider.delete(
            res.id, {**res.outputs, PROVIDER_KEY: res.raw_outputs.get(PROVIDER_KEY)}
        )

    def _dynamic(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        wire = dict(args.inputs)
        plain, _ = _strip_wire_secrets(wire)
        serialized = plain[PROVIDER_KEY]
        provider = self.provider_for(serialized)
        with self._state_lock:
            old = self.state.get(args.name)
        olds = {**old.inputs, PROVIDER_KEY: serialized} if old else {}
        checked = provider.check(olds, plain)
        if checked.failures:
            raise ProgramCheckError(args.name, checked.failures)
        inputs = dict(checked.inputs)
        step, id_, outs = self._step(provider, old, serialized, inputs)
        outs = {k: v for k, v in outs.items() if k != PROVIDER_KEY}
        raw_outs: dict[str, Any] = {**outs, PROVIDER_KEY: serialized}
        for key, value in wire.items():  # the engine's annotateSecrets, top level
            if key in raw_outs and _strip_wire_secrets(value)[1]:
                raw_outs[key] = rpc.wrap_rpc_secret(raw_outs[key])
        clean_inputs = {k: v for k, v in inputs.items() if k != PROVIDER_KEY}
        record = MockedResource(args.typ, args.name, id_, clean_inputs, outs, provider, raw_outs)
        self._record(record)
        with self._state_lock:
            self.state[args.name] = record
            self.steps[args.name] = step
        return id_, raw_outs

    def _step(
        self,
        provider: dyn.ResourceProvider,
        old: MockedResource | None,
        serialized: str,
        inputs: dict[str, Any],
    ) -> tuple[str, str, dict[str, Any]]:
        if old is None:
            created = provider.create(inputs)
            return "create", created.id, dict(created.outs or {})
        old_outs = {**old.outputs, PROVIDER_KEY: serialized}
        diff = provider.diff(old.id, old_outs, inputs)
        if not diff.changes:
            return "same", old.id, dict(old.outputs)
        if diff.replaces:
            if diff.delete_before_replace:
                self._delete(old)
            else:
                with self._state_lock:
                    self._replaced.append(old)
            created = provider.create(inputs)
            return "replace", created.id, dict(created.outs or {})
        updated = provider.update(old.id, old_outs, inputs)
        return "update", old.id, dict(updated.outs or {})
