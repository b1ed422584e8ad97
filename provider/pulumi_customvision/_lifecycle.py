"""The Pulumi dynamic-provider contract, kept once for every resource.

A resource module declares three things and nothing else:

* an args model (a :class:`ResourceArgs` subclass) whose fields are the resource's inputs,
  each declared with :func:`arg` (``replaces=True`` marks a field whose change replaces);
* a provider (a :class:`CustomVisionProvider` subclass) with its REST steps in
  ``on_create``, ``on_update``, ``on_read`` and ``on_delete``;
* a resource class (a :class:`CustomVisionResource` subclass) with typed keyword arguments
  and typed output attributes.

This module turns those into the rules every resource keeps (``../shared/DESIGN.md`` §4):
``check`` validates with pydantic and reports every problem as a ``CheckFailure`` naming the
property; unknown values (preview) pass through; ``diff`` compares the stored form of the
inputs and lists exact replacements; a failed ``create`` undoes what it made; ``update``
returns complete outputs; ``read`` returns an empty id for a deleted object; ``delete``
tolerates "already gone"; long waits keep a budget and report progress; and service errors
become one clear sentence, with the training key nowhere.
"""

from __future__ import annotations

import logging
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Generic, TypeVar, cast, get_args

import pulumi
import pulumi.dynamic as dyn
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
)

from . import _config
from ._config import ConfigError, Profile
from ._rest import TrainingClient, versions
from ._rest import errors as rest_errors

log = logging.getLogger("pulumi_customvision")

UNKNOWN = rpc.UNKNOWN
"""The value the engine sends for an input that is not known yet (during preview)."""

PROVIDER_KEY = "__provider"
ENDPOINT_OUTPUT = "endpoint"

T = TypeVar("T")


# --------------------------------------------------------------------------- inputs


def arg(
    description: str,
    *,
    default: Any = ...,
    replaces: bool = False,
    computed: bool = False,
    partial: bool = False,
    released_by: str | None = None,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare one input of a resource, with how ``diff`` treats it.

    Args:
        description: What the input means; it is the documentation users read.
        default: The default value (omit for a required input).
        replaces: ``True`` if changing this input replaces the resource instead of
            updating it in place.
        computed: ``True`` if, when the input is unset, the service chooses the value (a
            project's settings, an iteration's name): then whatever the service has is not a
            change.
        partial: For a mapping: only the keys the user gives are managed; other keys the
            service keeps are not a change.
        released_by: The output that says this resource manages the value (e.g. the
            publication it made): unsetting the input is then a change, which releases it.
        default_factory: A callable making the default, for mutable defaults.
    """
    extra: dict[str, JsonValue] = {
        "replaces": replaces,
        "computed": computed,
        "partial": partial,
        "released_by": released_by,
    }
    if default_factory is not None:
        return Field(
            default_factory=default_factory, description=description, json_schema_extra=extra
        )
    return Field(default, description=description, json_schema_extra=extra)


def covers(current: Any, wanted: Any) -> bool:
    """Whether ``current`` has every key of ``wanted`` with the same value (recursively)."""
    if isinstance(wanted, Mapping) and isinstance(current, Mapping):
        return all(covers(current.get(key), value) for key, value in wanted.items())
    return bool(current == wanted)


_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$"
)


def parse_duration(text: str) -> float:
    """Seconds in a duration written like Pulumi's timeouts: ``"90s"``, ``"30m"``, ``"1h30m"``."""
    match = _DURATION.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; write it like '90s', '30m' or '1h30m'")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _is_uuid(value: str) -> str:
    if _CANONICAL_UUID.fullmatch(value):  # the usual case, and the fast one
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an id; Custom Vision ids are UUIDs like "
            "'0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f' (use another resource's `.id`)"
        ) from None


UuidStr = Annotated[str, AfterValidator(_is_uuid)]
"""A Custom Vision id (a UUID), normalized to lower case with hyphens."""


class Timeouts(BaseModel):
    """How long an operation may wait for the service (``"90s"``, ``"30m"``, ``"2h"``).

    Attributes:
        create: Budget of a create, including waiting for training or import.
        update: Budget of an update.
        delete: Budget of a delete.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    create: str | None = Field(None, description="Budget of a create, e.g. '30m'.")
    update: str | None = Field(None, description="Budget of an update, e.g. '10m'.")
    delete: str | None = Field(None, description="Budget of a delete, e.g. '10m'.")

    @field_validator("create", "update", "delete")
    @classmethod
    def _is_duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def seconds(self, operation: str, default: float) -> float:
        """The budget of ``operation`` ("create", "update" or "delete") in seconds."""
        text = getattr(self, operation, None)
        return parse_duration(text) if text else default


class ResourceArgs(BaseModel):
    """Base of every resource's inputs: unknown keys are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str | None = arg(
        "Name of the account profile to use, configured under "
        "`customvision:profiles.<name>`; unset means the default profile. Moving a resource "
        "to a profile with another endpoint replaces it.",
        default=None,
    )

    @classmethod
    def fields_with(cls, rule: str) -> dict[str, Any]:
        """The inputs declared with ``arg(..., <rule>=...)``, and the rule's value."""
        found: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get(rule):
                found[name] = extra[rule]
        return found

    @classmethod
    def replace_fields(cls) -> frozenset[str]:
        """The inputs whose change replaces the resource."""
        return frozenset(cls.fields_with("replaces"))


ArgsT = TypeVar("ArgsT", bound=ResourceArgs)


# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """A resource operation failed; the message is one sentence that says what to do."""


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The (nested) model whose field ``loc`` names, following list items and optionals."""
    current: type[BaseModel] = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        candidates = [info.annotation, *get_args(info.annotation)]
        for candidate in list(candidates):
            candidates += get_args(candidate)  # list[Model] | None
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        current = nested[0]
    return current


def _describe_validation_error(error: Mapping[str, Any], model: type[BaseModel]) -> tuple[str, str]:
    """(property, reason) for one pydantic error, in the words a user needs."""
    loc = [str(part) for part in error.get("loc", ())]
    prop = ".".join(loc) or "(resource)"
    kind = error.get("type", "")
    if kind == "missing":
        return prop, f"{prop} is required"
    if kind == "extra_forbidden":
        owner = _model_at(model, list(error.get("loc", ())))
        if owner is None or owner is model:
            known = ", ".join(sorted(model.model_fields))
            return prop, f"{prop} is not an input of this resource; valid inputs are: {known}"
        parent = ".".join(loc[:-1])
        known = ", ".join(sorted(owner.model_fields))
        return prop, f"{loc[-1]!r} is not a key of {parent}; its keys are: {known}"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return prop, f"{prop}: {message}"


def _contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_unknown(v) for v in value)
    return False


def _unknown_at(data: Any, loc: Iterable[Any]) -> bool:
    """Whether the value at ``loc`` in ``data``, or anything on the way there, is unknown."""
    current = data
    for part in loc:
        if current == UNKNOWN:
            return True
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return False
    return _contains_unknown(current)


def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    """Props without the serialized provider and secret wrappers, unknowns as :data:`UNKNOWN`."""
    return _plain_with_unknowns(props)[0]


def _plain_with_unknowns(props: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """:func:`_plain` and, from the same walk, the names of the props that are or contain
    an unknown value."""
    unknown: set[str] = set()

    def unwrap(value: Any, prop: str) -> Any:
        if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
            unknown.add(prop)
            return UNKNOWN
        if rpc.is_rpc_secret(value):
            return unwrap(rpc.unwrap_rpc_secret(value), prop)
        if isinstance(value, dict):
            return {k: unwrap(v, prop) for k, v in value.items()}
        if isinstance(value, list):
            return [unwrap(v, prop) for v in value]
        return value

    plain = {k: unwrap(v, k) for k, v in props.items() if k != PROVIDER_KEY}
    return plain, frozenset(unknown)


# --------------------------------------------------------------------------- waiting


def report_progress(message: str) -> None:
    """Tell the person running ``pulumi up`` what a long operation is doing.

    The dynamic-provider process has no connection to the engine's diagnostics stream, but
    the engine shows a dynamic provider's stderr as info messages on the stack row: live in
    its Info column, and listed under Diagnostics at the end (line by line in CI). The line
    also goes to the ``pulumi_customvision`` logger.
    """
    log.info(message)
    print(f"pulumi-customvision: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class PollPolicy:
    """How often to look at a long operation.

    The interval grows with the time already waited (``growth`` of it), between
    ``initial`` and ``maximum`` seconds: completion is noticed within ``growth`` of the
    operation's duration, and a one-hour training costs about a hundred polls.
    """

    initial: float = 1.0
    growth: float = 0.1
    maximum: float = 60.0

    def interval(self, waited: float) -> float:
        """Seconds to sleep after having waited ``waited`` seconds."""
        return max(self.initial, min(self.maximum, waited * self.growth))


_TRANSIENT = (
    rest_errors.Throttled,
    rest_errors.ServiceError,
    rest_errors.TransportError,
)


@dataclass
class Context:
    """What a resource's REST steps get: the client, the profile, the budget, undo and waiting.

    Attributes:
        client: The Training API client of the resource's account.
        profile: The resolved account profile.
        budget_seconds: How long this operation may take in all.
    """

    client: TrainingClient
    profile: Profile
    budget_seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    started: float = -1.0
    _undo: list[tuple[str, Callable[[], object]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    @property
    def remaining_seconds(self) -> float:
        """Seconds left of this operation's budget."""
        return self.budget_seconds - (self.clock() - self.started)

    def on_failure(self, description: str, undo: Callable[[], object]) -> None:
        """Register how to undo a step if a later step of this create or update fails."""
        self._undo.append((description, undo))

    def create_or_find(
        self, create: Callable[[], T], find: Callable[[], T | None], attempts: int = 3
    ) -> T:
        """Run a creating call exactly once in effect, even when its answers get lost.

        The client never repeats a creating POST that may have reached the service; it
        raises with ``may_have_succeeded`` set. Then ``find`` looks for what the call would
        have made (by name, usually): if it exists it is adopted, if not the call provably
        did nothing and is sent again, up to ``attempts`` times in all.
        """
        for attempt in range(1, attempts + 1):
            try:
                return create()
            except rest_errors.CustomVisionError as exc:
                if not exc.may_have_succeeded:
                    raise
                found = find()
                if found is not None:
                    log.debug("a creating call lost its answer but did its work; adopting")
                    return found
                if attempt == attempts:
                    raise
                log.debug("a creating call lost its answer and did nothing; sending it again")
        raise AssertionError("unreachable")

    def wait_for(
        self,
        poll: Callable[[], T | None],
        *,
        what: str,
        on_timeout: str,
        policy: PollPolicy = PollPolicy(),
    ) -> T:
        """Call ``poll`` until it returns something other than ``None``, within the budget.

        Transient service errors (throttling, 5xx, dropped connections) are waited out;
        any other error ends the wait. Progress is reported while waiting.

        Args:
            poll: Returns the result when the operation is over, else ``None``.
            what: What is being waited for, for progress messages ("training of 'v7'").
            on_timeout: The sentence that tells the user what to do when the budget runs out.
            policy: The polling intervals.
        """
        waited_since = self.clock()
        next_report = 0.0
        while True:
            try:
                result = poll()
            except _TRANSIENT as exc:
                log.debug("transient error while waiting for %s: %s", what, exc)
                result = None
            if result is not None:
                return result
            waited = self.clock() - waited_since
            if self.remaining_seconds <= 0:
                raise ProviderError(
                    f"gave up waiting for {what} after {waited:.0f} s (the timeouts budget); "
                    f"{on_timeout}"
                )
            if waited >= next_report:
                report_progress(f"waiting for {what} ({waited:.0f} s so far)")
                next_report = waited + 30
            interval = policy.interval(waited) * random.uniform(0.9, 1.0)
            self.sleep(max(0.0, min(interval, self.remaining_seconds)))

    def _roll_back(self) -> list[str]:
        """Undo the registered steps, newest first; return what could not be undone."""
        left: list[str] = []
        for description, undo in reversed(self._undo):
            try:
                undo()
            except rest_errors.NotFound:
                pass
            except Exception as exc:  # rollback is best effort; what is left is reported
                left.append(f"{description} ({exc})")
        self._undo.clear()
        return left


# --------------------------------------------------------------------------- provider


class CustomVisionProvider(dyn.ResourceProvider, Generic[ArgsT]):
    """The dynamic-provider contract for one resource type.

    Subclasses set :attr:`args_model` and :attr:`kind` and implement the ``on_*`` steps.
    Instances hold no state: they are pickled into every resource's state by reference,
    so an upgrade of this package applies to existing stacks.
    """

    args_model: ClassVar[type[ResourceArgs]]
    kind: ClassVar[str]
    delete_before_replace: ClassVar[bool] = False
    default_timeouts: ClassVar[Mapping[str, float]] = {"create": 600, "update": 600, "delete": 600}
    serialize_as_secret_always = False

    # -- what a resource module implements -------------------------------------------

    def on_create(self, ctx: Context, args: ArgsT) -> tuple[str, dict[str, Any]]:
        """Create the object; return its id and the computed outputs."""
        raise NotImplementedError

    def on_update(
        self, ctx: Context, id_: str, olds: dict[str, Any], args: ArgsT, changed: frozenset[str]
    ) -> dict[str, Any]:
        """Apply the in-place changes ``changed``; return the complete computed outputs."""
        raise NotImplementedError

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        """Read the object; return the outputs that reflect the service, or ``None`` if gone."""
        raise NotImplementedError

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        """Delete the object. A ``NotFound`` from the service counts as success."""
        raise NotImplementedError

    def check_for(self, args: ArgsT, profile: Profile) -> list[tuple[str, str]]:
        """Rules that depend on the account (e.g. the API version): ``(property, reason)``."""
        return []

    def state_from_args(self, args: ArgsT) -> dict[str, Any]:
        """The form in which the inputs are kept in the outputs, and compared by ``diff``."""
        return args.model_dump(mode="json", exclude_none=True)

    # -- helpers for subclasses ------------------------------------------------------

    @staticmethod
    def requires(
        profile: Profile, prop: str, operation: str, parameter: str | None = None
    ) -> list[tuple[str, str]]:
        """A check failure on ``prop`` if the profile's API version lacks ``operation``.

        With ``parameter``: if the version has the operation but not that parameter of it.
        """
        if parameter is None:
            if versions.supports(profile.api_version, operation):
                return []
            first = versions.first_version_with(operation)
            needs = f"the {operation} operation"
        else:
            if versions.supports_parameter(profile.api_version, operation, parameter):
                return []
            first = versions.operation(operation).parameter_since.get(parameter)
            needs = f"the {parameter!r} parameter of {operation}"
        hint = (
            f"set customvision:apiVersion to {first} or later" if first else "it is not available"
        )
        return [
            (
                prop,
                f"{prop} needs {needs}, which API version {profile.api_version} "
                f"({profile.label}) does not have; {hint}",
            )
        ]

    # -- the contract ----------------------------------------------------------------

    def configure(self, req: dyn.ConfigureRequest) -> None:
        """Keep the stack configuration (credentials stay in this process, never on self)."""
        _config.set_stack_config(req.config._props)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """Validate every input; report each problem with the property it concerns."""
        inputs, unknown = _plain_with_unknowns(news)
        failures: list[dyn.CheckFailure] = []
        has_unknowns = bool(unknown)
        try:
            args = self.args_model.model_validate(inputs)
        except ValidationError as exc:
            for error in exc.errors():
                if has_unknowns and (not error["loc"] or _unknown_at(inputs, error["loc"])):
                    continue
                prop, reason = _describe_validation_error(error, self.args_model)
                failures.append(dyn.CheckFailure(prop, reason))
            return dyn.CheckResult(inputs, failures)
        if has_unknowns:
            # Rules that need every value run again at `up`, when the values are known.
            return dyn.CheckResult(inputs, [])
        try:
            profile = _config.resolve_profile(args.profile)
        except ConfigError as exc:
            return dyn.CheckResult(inputs, [dyn.CheckFailure("profile", str(exc))])
        failures = [dyn.CheckFailure(p, r) for p, r in self.check_for(args, profile)]  # type: ignore[arg-type]
        return dyn.CheckResult(args.model_dump(mode="json", exclude_none=True), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Compare the stored inputs with the new ones; list exact replacements."""
        olds = _plain(olds)
        news, unknown = _plain_with_unknowns(news)
        replace_fields = self.args_model.replace_fields()
        if unknown:
            changed = {
                k
                for k in self.args_model.model_fields
                if k in unknown or news.get(k) != olds.get(k)
            }
        else:
            args = cast(ArgsT, self.args_model.model_validate(news))
            changed = self._changed(olds, args)
            if self._moves_account(olds, args):
                changed.add("profile")
                replace_fields = replace_fields | {"profile"}
        changed.discard(ENDPOINT_OUTPUT)
        replaces = sorted(changed & replace_fields)
        return dyn.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=self.delete_before_replace if replaces else None,
        )

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """Create the object; undo what was made if a later step fails."""
        args = self._validated(props)
        ctx = self._context(args, "create")
        try:
            id_, computed = self.on_create(ctx, args)
        except Exception as exc:
            left = ctx._roll_back()
            raise self._error("create", exc, left) from None
        return dyn.CreateResult(id_, self._outputs(args, computed, ctx.profile))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """Apply the in-place changes, undoing registered steps on failure; return all outputs."""
        olds = _plain(olds)
        args = self._validated(news)
        ctx = self._context(args, "update", olds.get(ENDPOINT_OUTPUT))
        changed = frozenset(self._changed(olds, args))
        try:
            computed = self.on_update(ctx, id_, olds, args, changed)
        except Exception as exc:
            left = ctx._roll_back()
            raise self._error("update", exc, left) from None
        return dyn.UpdateResult(self._outputs(args, computed, ctx.profile))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """Report drift; an empty id tells the engine the object is gone."""
        olds = _plain(props)
        ctx = self._context_for_existing(olds, "update")
        try:
            current = self.on_read(ctx, id_, olds)
        except rest_errors.NotFound:
            current = None
        except Exception as exc:
            raise self._error("read", exc) from None
        if current is None:
            return dyn.ReadResult("", {})
        return dyn.ReadResult(id_, {**olds, **current})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the object; an object that is already gone is not an error."""
        olds = _plain(props)
        ctx = self._context_for_existing(olds, "delete")
        try:
            self.on_delete(ctx, id_, olds)
        except rest_errors.NotFound:
            return
        except Exception as exc:
            raise self._error("delete", exc) from None

    # -- internals -------------------------------------------------------------------

    def _validated(self, props: Mapping[str, Any]) -> ArgsT:
        try:
            return self.args_model.model_validate(_plain(props))  # type: ignore[return-value]
        except ValidationError as exc:
            reasons = "; ".join(
                _describe_validation_error(e, self.args_model)[1] for e in exc.errors()
            )
            raise ProviderError(f"invalid {self.kind} inputs: {reasons}") from None

    def _changed(self, olds: Mapping[str, Any], args: ArgsT) -> set[str]:
        """The stored inputs that differ, under the field rules declared with :func:`arg`."""
        stored = self.state_from_args(args)
        keys = set(stored) | (set(olds) & set(self.args_model.model_fields))
        changed = {k for k in keys if stored.get(k) != olds.get(k)}
        released_by = self.args_model.fields_with("released_by")
        for key in self.args_model.fields_with("computed"):
            releases = key in released_by and olds.get(released_by[key]) is not None
            if key not in stored and not releases:
                changed.discard(key)
        for key in self.args_model.fields_with("partial"):
            if key in changed and (key not in stored or covers(olds.get(key), stored[key])):
                changed.discard(key)
        return changed

    def _moves_account(self, olds: Mapping[str, Any], args: ArgsT) -> bool:
        recorded = olds.get(ENDPOINT_OUTPUT)
        if not recorded:
            return False
        try:
            return _config.resolve_profile(args.profile).endpoint != str(recorded).rstrip("/")
        except ConfigError:
            return False

    def _budget(self, args: ResourceArgs, operation: str) -> float:
        default = float(self.default_timeouts.get(operation, 600))
        timeouts = getattr(args, "timeouts", None)
        return timeouts.seconds(operation, default) if isinstance(timeouts, Timeouts) else default

    def _context(self, args: ArgsT, operation: str, endpoint: str | None = None) -> Context:
        try:
            profile = _config.profile_for_endpoint(args.profile, endpoint)
        except ConfigError as exc:
            raise ProviderError(str(exc)) from None
        return Context(_config.client_for(profile), profile, self._budget(args, operation))

    def _context_for_existing(self, olds: Mapping[str, Any], operation: str) -> Context:
        try:
            args = self.args_model.model_validate(
                {k: v for k, v in olds.items() if k in self.args_model.model_fields}
            )
        except ValidationError:
            args = self.args_model.model_construct(profile=olds.get("profile"))
        return self._context(args, operation, olds.get(ENDPOINT_OUTPUT))  # type: ignore[arg-type]

    def _outputs(
        self, args: ArgsT, computed: Mapping[str, Any], profile: Profile
    ) -> dict[str, Any]:
        return {**self.state_from_args(args), **computed, ENDPOINT_OUTPUT: profile.endpoint}

    def _error(self, action: str, exc: BaseException, left: Iterable[str] = ()) -> ProviderError:
        if isinstance(exc, ProviderError):
            message = str(exc)
        elif isinstance(exc, rest_errors.CustomVisionError | ConfigError):
            message = f"could not {action} the {self.kind}: {exc}"
        else:
            message = f"could not {action} the {self.kind}: unexpected {type(exc).__name__}: {exc}"
        leftovers = list(left)
        if leftovers:
            message += "; these steps could not be undone and need cleaning up: " + "; ".join(
                leftovers
            )
        return ProviderError(message)


# --------------------------------------------------------------------------- resource


class CustomVisionResource(dyn.Resource, module="customvision", name="Resource"):
    """Base of the resource classes: typed keyword inputs in, typed output attributes out."""

    endpoint: pulumi.Output[str]
    """The endpoint of the account the object lives in (refresh and delete go there)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        kwargs.setdefault("module", "customvision")
        kwargs.setdefault("name", cls.__name__)
        super().__init_subclass__(**kwargs)

    def __init__(
        self,
        provider: CustomVisionProvider[Any],
        resource_name: str,
        inputs: Mapping[str, Any],
        outputs: Iterable[str],
        opts: pulumi.ResourceOptions | None = None,
        secret_outputs: Iterable[str] = (),
    ) -> None:
        props: dict[str, Any] = {
            key: value.model_dump(mode="json", exclude_none=True)
            if isinstance(value, BaseModel)
            else value
            for key, value in inputs.items()
        }
        for name in (*outputs, ENDPOINT_OUTPUT):
            props.setdefault(name, None)
        secrets = list(secret_outputs)
        if secrets:
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=secrets)
            )
        super().__init__(provider, resource_name, props, opts)
