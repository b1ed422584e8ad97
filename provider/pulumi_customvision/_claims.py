"""Claim markers: how a create recognises, after a crash, the object it started.

A create whose object takes a long time to be ready (a training, an import) gives the new
object a name carrying a *claim marker*, ``"Iteration 4 [pulumi:1f2e3d4c5b6a]"``, as soon as
the object exists, and removes the marker with the object's final name, its last step. The
marker is a digest of the *claim* (which Pulumi resource asked: project, stack and resource
name, derived by the resource class) and of the inputs that make the object what it is
(those that replace the resource when they change). Every create first looks for an
object carrying its marker and adopts it instead of making another one, so a create that
dies half-way (crash, lost connection, timeout) is finished by the next ``pulumi up``.

Used by ``TrainedIteration`` (trainings) and ``Project`` (imports).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

_MARKER = re.compile(r"\s*\[pulumi:([0-9a-f]{12})\]$")


def claim(project: str, stack: str, resource_name: str) -> str:
    """The claim of a resource: who (which Pulumi resource) asked for the object."""
    return f"{project}/{stack}/{resource_name}"


def marker(claim: str | None, inputs: Mapping[str, Any]) -> str:
    """The marker of ``claim`` asking for an object made from ``inputs`` (JSON values)."""
    basis = {"claim": claim, **inputs}
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:12]
    return f"[pulumi:{digest}]"


def marker_of(name: str) -> str | None:
    """The claim marker a name carries, or ``None``."""
    found = _MARKER.search(name)
    return f"[pulumi:{found.group(1)}]" if found else None


def base_name(name: str) -> str:
    """A name without its claim marker."""
    return _MARKER.sub("", name)


def claimed_name(name: str, marker: str) -> str:
    """``name`` carrying ``marker`` (instead of any marker it had)."""
    return f"{base_name(name)} {marker}"
