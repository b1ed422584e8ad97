"""Every resource's ``check`` against generated inputs: no exception escapes, every failure
names its property and says what is expected, and an accepted input is a fixed point.

Inputs are built from the resource's own args model (its field names, plus unknown keys)
with values that are plausible (ids, names, coordinates), hostile (huge numbers, NaN, empty
and blank strings, control characters, deep nesting, wrong types) or unknown (the engine's
preview sentinel), some wrapped as secrets the way the engine sends them.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import string
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from pulumi.runtime import rpc

import pulumi_customvision
from pulumi_customvision import _config
from pulumi_customvision._lifecycle import UNKNOWN, CustomVisionProvider, ProviderError


def _providers() -> list[type[CustomVisionProvider[Any]]]:
    found: dict[str, type[CustomVisionProvider[Any]]] = {}
    for info in pkgutil.iter_modules(pulumi_customvision.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"pulumi_customvision.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, CustomVisionProvider)
                and getattr(value, "args_model", None) is not None
                and value.__module__ == module.__name__
            ):
                found[value.__name__] = value
    return [found[name] for name in sorted(found)]


PROVIDERS = _providers()


@pytest.fixture(autouse=True)
def _configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A configured default profile, and no HTTP at all: check must not call the service."""

    def no_http(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("check made an HTTP call")

    monkeypatch.setattr(requests.Session, "request", no_http)
    _config.set_stack_config(
        {
            "customvision:endpoint": "http://127.0.0.1:9",
            "customvision:trainingKey": "fuzz-key-0123456789abcdef",
            "customvision:profiles": '{"prod": {"endpoint": "http://127.0.0.1:8", '
            '"trainingKey": "other-key-0123456789"}}',
        }
    )
    yield
    _config.set_stack_config({})


# --------------------------------------------------------------------------- strategies

_uuids = st.uuids().map(str)
_odd_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_texts = st.one_of(
    st.sampled_from(["", " ", "\t\n", "bolt", "a" * 300, "0", "None", "null", "v3.3", "30m"]),
    _odd_text,
    st.text(alphabet=string.printable, max_size=20),
    _uuids,
    _uuids.map(str.upper),
    st.just(UNKNOWN),
)
_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.sampled_from([0, 1, -1, 0.5, 1e-7, 1 + 1e-9, 300, 65]),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _texts)


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(
            st.one_of(_texts, st.sampled_from(["left", "image_id", "tag_id"])), children, max_size=6
        ),
        children.map(_secret),
    ),
    max_leaves=25,
)


def _region(ids: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    coordinate = st.one_of(st.floats(min_value=0, max_value=1), _numbers, _texts, st.none())
    return st.fixed_dictionaries(
        {
            "image_id": ids,
            "left": coordinate,
            "top": coordinate,
            "width": coordinate,
            "height": coordinate,
        },
        optional={"tag_id": ids, "tag_name": _texts, "extra": _values},
    )


def _field_values(name: str) -> st.SearchStrategy[Any]:
    """Plausible and hostile values for a field, by what its name suggests."""
    ids = st.one_of(_uuids, _texts)
    if name.endswith("_id") or name == "id":
        return st.one_of(ids, _values)
    if name == "regions":
        return st.one_of(st.lists(_region(ids), max_size=8), _values)
    if name in ("urls", "images"):
        return st.one_of(
            st.lists(
                st.one_of(st.sampled_from(["https://e.com/1.jpg", "ftp://x", ""]), _texts, _values),
                max_size=6,
            ),
            _values,
        )
    if name == "timeouts":
        return st.one_of(
            st.fixed_dictionaries(
                {},
                optional={"create": _texts, "update": _texts, "delete": _texts, "bogus": _values},
            ),
            _values,
        )
    if name == "profile":
        return st.one_of(st.sampled_from([None, "prod", "missing", ""]), _values)
    return _values


def _inputs(provider: type[CustomVisionProvider[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    fields = sorted(provider.args_model.model_fields)
    known = st.fixed_dictionaries({}, optional={f: _field_values(f) for f in fields})
    extra = st.dictionaries(_texts, _values, max_size=2)
    return st.one_of(
        known,
        st.builds(lambda a, b: {**b, **a}, known, extra),
    )


# --------------------------------------------------------------------------- the property


def _assert_good_failures(
    provider: CustomVisionProvider[Any], news: dict[str, Any], failures: list[Any]
) -> None:
    fields = set(provider.args_model.model_fields)
    for failure in failures:
        prop, reason = failure.property, failure.reason
        assert isinstance(prop, str) and prop, f"a failure without a property: {failure!r}"
        assert isinstance(reason, str) and reason.strip(), f"{prop}: empty reason"
        assert "Traceback" not in reason, reason
        head = prop if prop in news else prop.split(".")[0]
        if head == "(resource)":
            # A rule across several inputs must name at least one of them.
            assert any(f in reason for f in fields), f"names no input: {reason!r}"
        else:
            assert head in fields or head in news, f"unknown property {prop!r}: {reason!r}"
            assert prop in reason or head in reason, f"{prop!r} not named in {reason!r}"


@pytest.mark.parametrize("provider_class", PROVIDERS, ids=lambda p: p.__name__)
def test_check_never_raises_and_explains_every_failure(
    provider_class: type[CustomVisionProvider[Any]],
) -> None:
    provider = provider_class()

    @given(_inputs(provider_class), _inputs(provider_class))
    def run(news: dict[str, Any], garbage_olds: dict[str, Any]) -> None:
        result = provider.check({}, news)
        failures = list(result.failures or [])
        _assert_good_failures(provider, news, failures)
        if failures or _has_unknown(result.inputs):
            return
        # An accepted input is normalized once and for all: checking it again changes
        # nothing, fails nothing, and diff sees no change against its own outputs.
        again = provider.check({}, dict(result.inputs))
        assert not again.failures, f"normalized inputs fail check: {again.failures}"
        assert again.inputs == result.inputs
        args = provider._validated(result.inputs)
        endpoint = _config.resolve_profile(args.profile).endpoint
        outputs = {**provider.state_from_args(args), "endpoint": endpoint}
        same = provider.diff("id", outputs, dict(result.inputs))
        assert not same.changes, f"a second up would not be empty: {same.replaces}"
        # Old outputs of any shape (an older provider, a hand-edited state) do not crash diff.
        with contextlib.suppress(ProviderError):
            provider.diff("id", garbage_olds, dict(result.inputs))

    run()


def _has_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(v) for v in value)
    return False


def test_every_resource_is_fuzzed() -> None:
    names = {p.__name__ for p in PROVIDERS}
    assert "TagProvider" in names
    print("fuzzed:", sorted(names))


def test_an_unknown_key_inside_a_nested_input_lists_that_inputs_keys() -> None:
    """`timeouts={"craete": "5m"}` must say which keys `timeouts` takes (create, update,
    delete), not list the resource's top-level inputs as the valid ones."""
    provider = next(p for p in PROVIDERS if "timeouts" in p.args_model.model_fields)
    result = provider().check({}, {"timeouts": {"craete": "5m"}})
    reason = {f.property: f.reason for f in result.failures or []}["timeouts.craete"]
    assert "create" in reason and "delete" in reason, reason
    assert "project_id" not in reason, reason
