"""Inputs whose value the service fills in when the user leaves them unset.

Some inputs are also outputs: a project's ``name`` after an import without a name, the
``settings`` the service completes with its defaults, an iteration's ``name`` when the
user keeps the service's "Iteration 3". The lifecycle base compares every stored input
with the new inputs, so such an output would show up as a change on every ``pulumi up``.
:class:`ServiceDefaultsProvider` narrows that comparison:

* a field in ``computed_when_unset`` is compared only when the user sets it;
* a field in ``compared_by_given_keys`` (a mapping) is compared only on the keys the user
  gives, so the service's other settings are not a change either;
* a field in ``released_when_unset`` (field -> output) is still a change when the user
  unsets it while that output says the resource manages it (unsetting ``publish_name``
  withdraws the publication this resource made).

(Workaround for the lead: ``_lifecycle.arg(..., computed=True)`` would put this on the
field itself.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ._config import Profile
from ._lifecycle import ArgsT, CustomVisionProvider, Timeouts
from ._rest import versions


def covers(current: Any, wanted: Any) -> bool:
    """Whether ``current`` has every key of ``wanted`` with the same value (recursively)."""
    if isinstance(wanted, Mapping) and isinstance(current, Mapping):
        return all(covers(current.get(key), value) for key, value in wanted.items())
    return bool(current == wanted)


class ServiceDefaultsProvider(CustomVisionProvider[ArgsT]):
    """A provider whose optional inputs may be completed by the service (see module doc)."""

    computed_when_unset: ClassVar[frozenset[str]] = frozenset()
    compared_by_given_keys: ClassVar[frozenset[str]] = frozenset()
    released_when_unset: ClassVar[Mapping[str, str]] = {}

    def _changed(self, olds: Mapping[str, Any], args: ArgsT) -> set[str]:
        changed = super()._changed(olds, args)
        stored = self.state_from_args(args)
        for key in self.computed_when_unset:
            managed = self.released_when_unset.get(key)
            if key not in stored and not (managed and olds.get(managed) is not None):
                changed.discard(key)
        for key in self.compared_by_given_keys & changed:
            if key not in stored or covers(olds.get(key), stored[key]):
                changed.discard(key)
        return changed

    @staticmethod
    def requires_parameter(
        profile: Profile, prop: str, operation: str, parameter: str
    ) -> list[tuple[str, str]]:
        """A check failure on ``prop`` if the profile's API version lacks ``parameter``."""
        if versions.supports_parameter(profile.api_version, operation, parameter):
            return []
        first = versions.operation(operation).parameter_since.get(parameter)
        return [
            (
                prop,
                f"{prop} needs the {parameter!r} parameter of {operation}, which API version "
                f"{profile.api_version} ({profile.label}) does not have; set "
                f"customvision:apiVersion to {first} or later",
            )
        ]


def timeouts_input(timeouts: Any) -> Any:
    """A ``timeouts`` argument as an input: a :class:`Timeouts` becomes its dict form."""
    if isinstance(timeouts, Timeouts):
        return timeouts.model_dump(exclude_none=True)
    return timeouts
