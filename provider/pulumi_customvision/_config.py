"""Credentials and settings: stack configuration and environment, resolved into profiles.

A *profile* is one Custom Vision account: an endpoint, a training key, the API version
to speak and the request rates it allows. The default profile comes from the top-level
``customvision:*`` keys, named profiles from ``customvision:profiles.<name>.*``; the
environment (``CUSTOMVISION_ENDPOINT``, ``CUSTOMVISION_TRAINING_KEY``, ...) fills in what
the stack configuration leaves out.

Configuration reaches the provider process through ``ResourceProvider.configure()``,
which the dynamic-provider server calls with the whole stack configuration. It is kept in
this module, never on a provider object, so that nothing secret is ever pickled into state.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

from ._rest import ClientSettings, TrainingClient, versions

NAMESPACE = "customvision"
DEFAULT_API_VERSION = "3.3"
DEFAULT_REQUESTS_PER_SECOND = 10.0
DEFAULT_TRAINING_REQUESTS_PER_SECOND = 10.0

# config key (camelCase, as users write it) -> environment variable of the default profile
_KEYS_AND_ENV = {
    "endpoint": "CUSTOMVISION_ENDPOINT",
    "trainingKey": "CUSTOMVISION_TRAINING_KEY",
    "apiVersion": "CUSTOMVISION_API_VERSION",
    "requestsPerSecond": "CUSTOMVISION_REQUESTS_PER_SECOND",
    "trainingRequestsPerSecond": "CUSTOMVISION_TRAINING_REQUESTS_PER_SECOND",
}


class ConfigError(Exception):
    """The stack configuration is missing or malformed; the message names the key to set."""


@dataclass(frozen=True)
class Profile:
    """One Custom Vision account as resolved from configuration.

    Attributes:
        name: ``None`` for the default profile, otherwise the profile's name.
        endpoint: The account's endpoint, e.g. ``https://westeurope.api.cognitive.microsoft.com``.
        training_key: The account's training key. Never shown by ``repr()``.
        api_version: The Training API version to speak, e.g. ``"3.3"``.
        requests_per_second: Client-side limit for all calls to this endpoint.
        training_requests_per_second: Client-side limit for TrainProject calls.
    """

    name: str | None
    endpoint: str
    training_key: str = field(repr=False)
    api_version: str = DEFAULT_API_VERSION
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    training_requests_per_second: float = DEFAULT_TRAINING_REQUESTS_PER_SECOND

    @property
    def label(self) -> str:
        """How messages name this profile."""
        return "the default profile" if self.name is None else f"profile {self.name!r}"


_lock = threading.Lock()
_stack_config: dict[str, Any] = {}
_clients: dict[tuple[str, str, str, float, float], TrainingClient] = {}


def set_stack_config(raw: Mapping[str, Any]) -> None:
    """Store the stack configuration handed to ``ResourceProvider.configure()``.

    Keys are full names (``customvision:endpoint``); keys of other namespaces are ignored.
    """
    prefix = NAMESPACE + ":"
    with _lock:
        _stack_config.clear()
        _stack_config.update(
            {k[len(prefix) :]: _unwrap(v) for k, v in raw.items() if k.startswith(prefix)}
        )


def _unwrap(value: Any) -> Any:
    """Remove Pulumi's secret wrappers (the engine may nest them in structured config)."""
    if rpc.is_rpc_secret(value):
        return _unwrap(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _profiles_table() -> dict[str, Any]:
    raw = _stack_config.get("profiles")
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(
                "customvision:profiles is not valid JSON; set it with "
                "`pulumi config set --path customvision:profiles.<name>.endpoint <url>`"
            ) from exc
    if not isinstance(raw, dict):
        raise ConfigError("customvision:profiles must be an object of profiles by name")
    return raw


def _number(value: Any, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{key} must not be negative (0 turns the limit off)")
    return number


def resolve_profile(name: str | None = None) -> Profile:
    """Resolve a profile by name (``None``: the default profile).

    A named profile takes each key from ``customvision:profiles.<name>``, then from the
    top-level ``customvision:`` key of the same name (``apiVersion`` and the rates only:
    an account's endpoint and key are never borrowed from another account). The default
    profile falls back to the environment.

    Raises:
        ConfigError: the endpoint or key is missing, or a value is malformed.
    """
    with _lock:
        top = dict(_stack_config)
        table = _profiles_table()
    if name is None:
        own: dict[str, Any] = {
            key: top.get(key) if top.get(key) not in (None, "") else os.environ.get(env)
            for key, env in _KEYS_AND_ENV.items()
        }
        where = "customvision:{key} (or the environment variable {env})"
    else:
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            raise ConfigError(
                f"profile {name!r} is not configured (configured profiles: {known}); set "
                f"`pulumi config set --path customvision:profiles.{name}.endpoint <url>` and "
                "`pulumi config set --secret --path "
                f"customvision:profiles.{name}.trainingKey <key>`"
            )
        entry = table[name] if isinstance(table[name], dict) else {}
        own = {key: entry.get(key) for key in _KEYS_AND_ENV}
        for inherited in ("apiVersion", "requestsPerSecond", "trainingRequestsPerSecond"):
            if own[inherited] in (None, ""):
                own[inherited] = top.get(inherited)
        where = f"customvision:profiles.{name}.{{key}}"

    def missing(key: str) -> ConfigError:
        hint = where.format(key=key, env=_KEYS_AND_ENV[key])
        secret = "--secret " if key == "trainingKey" else ""
        path = "--path " if name is not None else ""
        return ConfigError(
            f"no Custom Vision {key} is configured for "
            f"{'the default profile' if name is None else f'profile {name!r}'}: set {hint}, "
            f"e.g. `pulumi config set {path}{secret}{hint.split(' ')[0]} ...`"
        )

    endpoint = str(own["endpoint"] or "").strip()
    key = str(own["trainingKey"] or "").strip()
    if not endpoint:
        raise missing("endpoint")
    if not key:
        raise missing("trainingKey")
    api_version = str(own["apiVersion"] or DEFAULT_API_VERSION).strip()
    if api_version.lstrip("v") not in versions.API_VERSIONS:
        raise ConfigError(
            f"apiVersion {api_version!r} is not supported; use one of "
            + ", ".join(versions.API_VERSIONS)
        )
    rps = own["requestsPerSecond"]
    trps = own["trainingRequestsPerSecond"]
    return Profile(
        name=name,
        endpoint=endpoint.rstrip("/"),
        training_key=key,
        api_version=api_version.lstrip("v"),
        requests_per_second=(
            DEFAULT_REQUESTS_PER_SECOND if rps in (None, "") else _number(rps, "requestsPerSecond")
        ),
        training_requests_per_second=(
            DEFAULT_TRAINING_REQUESTS_PER_SECOND
            if trps in (None, "")
            else _number(trps, "trainingRequestsPerSecond")
        ),
    )


def profile_for_endpoint(name: str | None, endpoint: str | None) -> Profile:
    """The profile to reach an object that was created at ``endpoint``.

    Refresh and delete must go to the account an object lives in, even if the profile's
    endpoint has changed since: prefer the named profile when its endpoint still matches,
    then any configured profile with that endpoint, then the named profile itself.
    """
    preferred = resolve_profile(name)
    if not endpoint or preferred.endpoint == endpoint.rstrip("/"):
        return preferred
    with _lock:
        names: list[str | None] = [None, *_profiles_table()]
    for other in names:
        try:
            candidate = resolve_profile(other)
        except ConfigError:
            continue
        if candidate.endpoint == endpoint.rstrip("/"):
            return candidate
    return Profile(
        name=preferred.name,
        endpoint=endpoint.rstrip("/"),
        training_key=preferred.training_key,
        api_version=preferred.api_version,
        requests_per_second=preferred.requests_per_second,
        training_requests_per_second=preferred.training_requests_per_second,
    )


def client_for(profile: Profile) -> TrainingClient:
    """The shared client of a profile (one connection pool and rate limit per account)."""
    cache_key = (
        profile.endpoint,
        profile.training_key,
        profile.api_version,
        profile.requests_per_second,
        profile.training_requests_per_second,
    )
    with _lock:
        client = _clients.get(cache_key)
        if client is None:
            client = TrainingClient(
                profile.endpoint,
                profile.training_key,
                api_version=profile.api_version,
                settings=ClientSettings(
                    requests_per_second=profile.requests_per_second,
                    training_requests_per_second=profile.training_requests_per_second,
                ),
            )
            _clients[cache_key] = client
        return client
