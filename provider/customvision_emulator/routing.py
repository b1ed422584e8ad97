"""Routing and response shaping driven by the specs' operation table (``data/api.json``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import spectable

_VERSION_PATH = re.compile(r"^/customvision/v(?P<version>[^/]+)/training(?P<rest>/.*)?$", re.I)


@dataclass(frozen=True)
class Route:
    """One operation of one API version."""

    version: str
    operation: str
    method: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]


@dataclass(frozen=True)
class Match:
    """A request resolved to an operation, with its path parameters."""

    route: Route
    params: dict[str, str]


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{regex}/?$", re.IGNORECASE)


def _specificity(template: str) -> tuple[int, ...]:
    # Literal segments win over parameters: /projects/import before /projects/{projectId}.
    return tuple(1 if seg.startswith("{") else 0 for seg in template.strip("/").split("/"))


class Router:
    """Resolves ``METHOD path`` to (version, operationId, path parameters) for every version."""

    def __init__(self, table: dict[str, Any] | None = None) -> None:
        self.table = table if table is not None else spectable.load()
        self.versions: dict[str, str] = {v.lower(): v for v in self.table}
        self._routes: dict[str, list[Route]] = {}
        for version, api in self.table.items():
            routes = [
                Route(version, op_id, op["method"], _compile(op["path"]), op)
                for op_id, op in api["operations"].items()
            ]
            routes.sort(key=lambda r: _specificity(r.spec["path"]))
            self._routes[version] = routes

    def resolve(self, method: str, path: str) -> Match | None:
        """The operation a request addresses, or None (the service answers 404)."""
        # The .NET SDK sends '//customvision/...': tolerate doubled leading slashes.
        found = _VERSION_PATH.match("/" + path.lstrip("/"))
        if not found:
            return None
        version = self.versions.get(found["version"].lower())
        if version is None:
            return None
        rest = found["rest"] or "/"
        for route in self._routes[version]:
            if route.method != method:
                continue
            m = route.pattern.match(rest)
            if m:
                return Match(route, m.groupdict())
        return None

    def has(self, version: str, operation: str) -> bool:
        """Whether ``version`` has ``operation``."""
        return operation in self.table[version]["operations"]

    def model(self, version: str, name: str) -> dict[str, Any]:
        """A model's properties (name -> schema) in ``version``."""
        props: dict[str, Any] = self.table[version]["models"].get(name, {})
        return props

    def shape(self, version: str, schema: Any, value: Any) -> Any:
        """Trim ``value`` to the members ``schema`` has in ``version`` (recursively)."""
        if value is None or schema is None:
            return value
        if isinstance(schema, list):
            if not isinstance(value, list):
                return value
            return [self.shape(version, schema[0], v) for v in value]
        if isinstance(schema, str) and isinstance(value, dict):
            props = self.table[version]["models"].get(schema)
            if not props:  # free-form objects (metadata, additionalProperties)
                return value
            return {k: self.shape(version, props[k], v) for k, v in value.items() if k in props}
        return value
