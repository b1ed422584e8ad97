"""Profiles: stack configuration and environment resolved into accounts."""

from __future__ import annotations

import json

import pytest

from pulumi_customvision import _config
from pulumi_customvision._config import ConfigError, profile_for_endpoint, resolve_profile

DEV = {"endpoint": "https://dev.example.com/", "trainingKey": "dev-key"}
PROD = {"endpoint": "https://prod.example.com", "trainingKey": "prod-key", "apiVersion": "3.2"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CUSTOMVISION_ENDPOINT", "CUSTOMVISION_TRAINING_KEY", "CUSTOMVISION_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    _config.set_stack_config({})


def test_default_profile_from_stack_config() -> None:
    _config.set_stack_config(
        {
            "customvision:endpoint": "https://dev.example.com/",
            "customvision:trainingKey": "k",
            "customvision:requestsPerSecond": "2",
            "aws:region": "ignored",
        }
    )
    profile = resolve_profile()
    assert profile.endpoint == "https://dev.example.com"
    assert profile.api_version == "3.3"
    assert profile.requests_per_second == 2.0
    assert "k" not in repr(profile)


def test_default_profile_falls_back_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMVISION_ENDPOINT", "http://127.0.0.1:5005")
    monkeypatch.setenv("CUSTOMVISION_TRAINING_KEY", "env-key")
    profile = resolve_profile()
    assert (profile.endpoint, profile.training_key) == ("http://127.0.0.1:5005", "env-key")


def test_missing_key_names_the_config_key_to_set() -> None:
    _config.set_stack_config({"customvision:endpoint": "https://dev.example.com"})
    with pytest.raises(ConfigError, match=r"customvision:trainingKey.*CUSTOMVISION_TRAINING_KEY"):
        resolve_profile()


@pytest.mark.parametrize("encode", [lambda v: v, json.dumps], ids=["object", "json-string"])
def test_named_profiles_inherit_version_and_rates_but_never_credentials(encode) -> None:  # type: ignore[no-untyped-def]
    _config.set_stack_config(
        {
            "customvision:endpoint": DEV["endpoint"],
            "customvision:trainingKey": DEV["trainingKey"],
            "customvision:apiVersion": "3.4-preview",
            "customvision:trainingRequestsPerSecond": 2,
            "customvision:profiles": encode({"prod": PROD, "half": {"endpoint": "https://x"}}),
        }
    )
    prod = resolve_profile("prod")
    assert (prod.endpoint, prod.training_key, prod.api_version) == (
        "https://prod.example.com",
        "prod-key",
        "3.2",
    )
    assert prod.training_requests_per_second == 2
    with pytest.raises(ConfigError, match=r"customvision:profiles\.half\.trainingKey"):
        resolve_profile("half")
    with pytest.raises(ConfigError, match=r"profile 'nope' is not configured.*half, prod"):
        resolve_profile("nope")


def test_secret_wrapped_values_are_unwrapped() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "s"}
    _config.set_stack_config(
        {"customvision:endpoint": "https://a", "customvision:trainingKey": secret}
    )
    assert resolve_profile().training_key == "s"


def test_unsupported_api_version_is_refused() -> None:
    _config.set_stack_config(
        {
            "customvision:endpoint": "https://a",
            "customvision:trainingKey": "k",
            "customvision:apiVersion": "9.9",
        }
    )
    with pytest.raises(ConfigError, match=r"apiVersion '9\.9' is not supported"):
        resolve_profile()


def test_objects_are_reached_at_the_endpoint_they_were_created_in() -> None:
    _config.set_stack_config(
        {
            "customvision:endpoint": DEV["endpoint"],
            "customvision:trainingKey": DEV["trainingKey"],
            "customvision:profiles": {"prod": PROD},
        }
    )
    # the default profile moved, but the object lives where the prod profile points
    moved = profile_for_endpoint(None, "https://prod.example.com")
    assert (moved.endpoint, moved.training_key) == ("https://prod.example.com", "prod-key")
    # nobody points there any more: the recorded endpoint with the named profile's key
    lost = profile_for_endpoint("prod", "https://old.example.com")
    assert (lost.endpoint, lost.training_key) == ("https://old.example.com", "prod-key")
