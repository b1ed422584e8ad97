"""The value model of the engine driver: secrets, unknowns, references, wire encoding.

Values handed to and returned by the driver are plain Python values (``dict``, ``list``,
``str``, ``float``/``int``, ``bool``, ``None``) with three markers:

- :class:`Secret` wraps a value that the engine treats as secret (state keeps the mark).
- :data:`UNKNOWN` is the engine's "unknown during preview" sentinel, exactly the string the
  SDK puts on the wire (``pulumi.runtime.rpc.UNKNOWN``), so ``value == UNKNOWN`` works.
- :class:`Ref` (declarations only) points at another resource's output; the stack resolves
  it before calling the provider.

The functions here translate between this model and the protobuf ``Struct`` the gRPC
provider interface carries, using the SDK's own ``rpc.serialize_properties`` and
``rpc.deserialize_properties`` so the encoding is byte-for-byte what the SDK produces.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc

UNKNOWN: str = rpc.UNKNOWN
"""The engine's unknown sentinel (a fixed UUID string), as it travels on the wire."""

PROVIDER_KEY = "__provider"
"""The property under which a dynamic resource carries its dill-serialized provider."""


@dataclasses.dataclass(frozen=True)
class Secret:
    """A value the engine treats as secret.

    Use it in stack config (``{"customvision:trainingKey": Secret("k")}``) and in resource
    inputs. Outputs read back from state carry it where the engine would mark a secret.
    ``unwrap_secrets`` strips every marker.
    """

    value: Any


@dataclasses.dataclass(frozen=True, init=False)
class Ref:
    """A reference to output ``key`` of the resource declared as ``name`` in the same stack,
    or, with a ``path``, to a value inside that output.

    ``key`` may be ``"id"`` or ``"urn"`` as well as any output property. ``path`` steps into
    a map or list output, as a program's ``images.ids[src]`` does: ``Ref("imgs", "ids",
    "https://x/1.png")`` is ``outputs["ids"]["https://x/1.png"]`` of ``imgs`` (several steps
    go deeper: ``Ref("r", "m", "a", 0)``). A secret output stays secret along the path; a
    missing step raises ``KeyError``, as the program's lookup would.

    During ``preview`` a reference to a resource that is created or replaced resolves to
    :data:`UNKNOWN` unless the key is one of its (checked) inputs, which the engine echoes
    as outputs; a path into an unknown value is unknown.
    """

    name: str
    key: str
    path: tuple[Any, ...]

    def __init__(self, name: str, key: str = "id", *path: Any) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "path", path)

    def follow(self, value: Any) -> Any:
        """The value at :attr:`path` inside ``value`` (the output ``key``)."""
        return _follow(self, value, self.path)


def _follow(ref: Ref, value: Any, path: tuple[Any, ...]) -> Any:
    if not path or (isinstance(value, str) and value == UNKNOWN):
        return value
    if isinstance(value, Secret):
        return Secret(_follow(ref, value.value, path))
    try:
        inner = value[path[0]]
    except (KeyError, IndexError, TypeError):
        kind = type(value).__name__
        raise KeyError(f"{ref!r}: the {kind} at this step has no {path[0]!r}") from None
    return _follow(ref, inner, path[1:])


def is_secret(value: Any) -> bool:
    """True if ``value`` is a :class:`Secret`."""
    return isinstance(value, Secret)


def contains_secrets(value: Any) -> bool:
    """True if ``value`` is or contains a :class:`Secret` anywhere."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, Mapping):
        return any(contains_secrets(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_secrets(v) for v in value)
    return False


def contains_unknowns(value: Any) -> bool:
    """True if ``value`` is or contains :data:`UNKNOWN` (or an SDK ``Unknown``)."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, Secret):
        return contains_unknowns(value.value)
    if isinstance(value, Mapping):
        return any(contains_unknowns(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknowns(v) for v in value)
    return False


def unwrap_secrets(value: Any) -> Any:
    """Return ``value`` with every :class:`Secret` replaced by its content (deeply)."""
    if isinstance(value, Secret):
        return unwrap_secrets(value.value)
    if isinstance(value, Mapping):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unwrap_secrets(v) for v in value]
    return value


def annotate_secrets(outs: dict[str, Any], ins: Mapping[str, Any]) -> dict[str, Any]:
    """Copy secretness from ``ins`` onto same-named ``outs`` the way the engine does.

    This is ``annotateSecrets`` of the engine's ``provider_plugin.go``, applied because the
    dynamic provider answers Configure with ``acceptSecrets=False``: where both values are
    objects it recurses; otherwise, if the input contains a secret anywhere, the whole
    output value becomes secret. Returns ``outs`` (modified in place).
    """
    for key, in_value in ins.items():
        if key not in outs:
            continue
        out_value = outs[key]
        if isinstance(out_value, dict) and isinstance(in_value, Mapping):
            annotate_secrets(out_value, in_value)
        elif not isinstance(out_value, Secret) and contains_secrets(in_value):
            outs[key] = Secret(out_value)
    return outs


def serialize_provider_property(provider: ResourceProvider) -> Any:
    """The ``__provider`` input of a dynamic resource, as ``pulumi.dynamic.Resource`` makes it.

    The provider is dill-pickled with the SDK's ``serialize_provider`` (by reference when its
    class lives in an importable module) and wrapped as a :class:`Secret` unless the provider
    sets ``serialize_as_secret_always = False``.
    """
    serialized = serialize_provider(provider)
    if getattr(provider, "serialize_as_secret_always", True):
        return Secret(serialized)
    return serialized


def with_provider(provider: ResourceProvider, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs`` plus the ``__provider`` property for ``provider`` (for raw server calls)."""
    if PROVIDER_KEY in inputs:
        raise ValueError("inputs must not define __provider")
    return {**inputs, PROVIDER_KEY: serialize_provider_property(provider)}


# --- wire encoding -------------------------------------------------------------------------


def _to_wire(value: Any, keep_secrets: bool) -> Any:
    if isinstance(value, Secret):
        inner = _to_wire(value.value, keep_secrets)
        return rpc.wrap_rpc_secret(inner) if keep_secrets else inner
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Ref):
        raise TypeError(f"unresolved {value!r}: only Stack declarations may contain Ref")
    if isinstance(value, Mapping):
        return {k: _to_wire(v, keep_secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v, keep_secrets) for v in value]
    return value


def to_struct(props: Mapping[str, Any], *, keep_secrets: bool = True) -> struct_pb2.Struct:
    """Encode ``props`` as the engine would send them to a provider.

    :data:`UNKNOWN` stays the unknown sentinel; a :class:`Secret` becomes the SDK's secret
    signature object when ``keep_secrets`` (the provider accepts secrets), else its plain
    content (the engine strips secrets for providers that do not accept them). ``None``
    values are dropped, as the SDK does.
    """
    wire = _to_wire(dict(props), keep_secrets)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(wire, {}))
    finally:
        loop.close()


def _from_wire(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return Secret(_from_wire(value["value"]))
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def from_struct(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """Decode a provider's ``Struct`` into the driver's value model.

    Uses ``rpc.deserialize_properties(keep_unknowns=True)``; secret signatures become
    :class:`Secret`, unknowns become :data:`UNKNOWN`, and whole-number floats (protobuf has
    only doubles) become ``int`` so ``outs["count"] == 3`` reads naturally.
    """
    if struct is None:
        return {}
    props = rpc.deserialize_properties(struct, keep_unknowns=True)
    result = _from_wire(props)
    assert isinstance(result, dict)
    return result
