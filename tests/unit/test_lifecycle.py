"""The lifecycle rules, checked on Tag without a service: check, diff, waiting, pickling."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from pulumi_customvision import _config
from pulumi_customvision._lifecycle import (
    UNKNOWN,
    Context,
    PollPolicy,
    ProviderError,
    parse_duration,
)
from pulumi_customvision._rest import errors
from pulumi_customvision.tag import TagProvider
from tests.conftest import FakeClock

PROJECT = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f"
OTHER_PROJECT = "1e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f"
KEY = "super-secret-training-key"


@pytest.fixture(autouse=True)
def _config_two_accounts() -> None:
    _config.set_stack_config(
        {
            "customvision:endpoint": "https://dev.example.com",
            "customvision:trainingKey": KEY,
            "customvision:profiles": {
                "prod": {"endpoint": "https://prod.example.com", "trainingKey": "p"},
                "dev-alias": {"endpoint": "https://dev.example.com", "trainingKey": "d"},
            },
        }
    )


def _checked(news: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    result = TagProvider().check({}, {"__provider": "x", **news})
    return result.inputs, {f.property: f.reason for f in result.failures}


def test_check_normalizes_and_fills_defaults() -> None:
    inputs, failures = _checked({"project_id": PROJECT.upper(), "name": "bolt"})
    assert failures == {}
    assert inputs == {
        "project_id": PROJECT,
        "name": "bolt",
        "type": "Regular",
        "adopt_existing": False,
    }


def test_check_names_every_bad_property_and_says_what_is_expected() -> None:
    _, failures = _checked({"project_id": "p1", "name": " ", "type": "Odd", "colour": "red"})
    assert set(failures) == {"project_id", "name", "type", "colour"}
    assert "UUID" in failures["project_id"]
    assert "must not be empty" in failures["name"]
    assert "'Regular', 'Negative' or 'GeneralProduct'" in failures["type"]
    assert "valid inputs are" in failures["colour"] and "project_id" in failures["colour"]
    _, failures = _checked({"project_id": PROJECT})
    assert failures == {"name": "name is required"}


@pytest.mark.parametrize("unknown", [UNKNOWN, Unknown()], ids=["sentinel", "deserialized"])
def test_check_lets_unknown_values_through_during_preview(unknown: object) -> None:
    inputs, failures = _checked({"project_id": unknown, "name": "bolt"})
    assert failures == {}
    assert inputs["project_id"] == UNKNOWN
    _, failures = _checked({"project_id": unknown, "name": " "})
    assert set(failures) == {"name"}


def test_check_reports_a_missing_profile_with_the_keys_to_set() -> None:
    _, failures = _checked({"project_id": PROJECT, "name": "bolt", "profile": "staging"})
    assert "customvision:profiles.staging.endpoint" in failures["profile"]


def _stored(**overrides: Any) -> dict[str, Any]:
    base = {"project_id": PROJECT, "name": "bolt", "type": "Regular", "adopt_existing": False}
    return {**base, "image_count": 3, "endpoint": "https://dev.example.com", **overrides}


def _diff(olds: dict[str, Any], news: dict[str, Any]) -> tuple[bool | None, list[str]]:
    result = TagProvider().diff("tag-id", olds, {"__provider": "x", **news})
    return result.changes, list(result.replaces or [])


def test_diff_is_empty_when_nothing_the_user_controls_changed() -> None:
    assert _diff(_stored(), {"project_id": PROJECT, "name": "bolt"}) == (False, [])


def test_diff_updates_in_place_or_replaces_as_declared() -> None:
    assert _diff(_stored(), {"project_id": PROJECT, "name": "nut"}) == (True, [])
    assert _diff(_stored(description="d"), {"project_id": PROJECT, "name": "bolt"}) == (True, [])
    assert _diff(_stored(), {"project_id": OTHER_PROJECT, "name": "bolt"}) == (True, ["project_id"])
    assert _diff(_stored(), {"project_id": UNKNOWN, "name": "bolt"}) == (True, ["project_id"])


def test_diff_replaces_only_when_the_profile_moves_to_another_account() -> None:
    assert _diff(_stored(), {"project_id": PROJECT, "name": "bolt", "profile": "prod"}) == (
        True,
        ["profile"],
    )
    # another profile name for the same account: no replacement
    _, replaces = _diff(_stored(), {"project_id": PROJECT, "name": "bolt", "profile": "dev-alias"})
    assert replaces == []
    # new credentials for the same account are not a change at all
    _config.set_stack_config(
        {"customvision:endpoint": "https://dev.example.com", "customvision:trainingKey": "rotated"}
    )
    assert _diff(_stored(), {"project_id": PROJECT, "name": "bolt"}) == (False, [])


def test_serialized_provider_is_small_and_holds_no_credentials() -> None:
    serialized = serialize_provider(TagProvider())
    raw = base64.b64decode(serialized)
    assert len(serialized) < 200
    assert KEY.encode() not in raw and b"dev.example.com" not in raw


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h30m", 5400), ("2h", 7200), ("0.5s", 0.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "5d"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="write it like"):
        parse_duration(text)


def _context(clock: FakeClock, budget: float) -> Context:
    profile = _config.resolve_profile()
    return Context(
        client=None, profile=profile, budget_seconds=budget, clock=clock, sleep=clock.sleep
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("duration", [3.0, 60.0, 600.0, 3600.0])
def test_polling_notices_completion_quickly_and_polls_sparingly(duration: float) -> None:
    clock = FakeClock()
    polls: list[float] = []

    def poll() -> str | None:
        polls.append(clock.now)
        return "done" if clock.now >= duration else None

    assert (
        _context(clock, budget=2 * duration + 60).wait_for(poll, what="x", on_timeout="") == "done"
    )
    assert clock.now - duration <= max(5.0, 0.1 * duration)
    assert len(polls) <= 120 * max(1.0, duration / 3600) + 10


def test_waiting_stops_at_the_budget_within_one_interval_and_says_what_to_do() -> None:
    clock = FakeClock()
    with pytest.raises(ProviderError, match=r"gave up waiting for training.*raise timeouts"):
        _context(clock, budget=100).wait_for(
            lambda: None, what="training", on_timeout="raise timeouts.create"
        )
    assert 100 <= clock.now <= 100 + PollPolicy().interval(100)


def test_waiting_survives_transient_errors_but_not_others() -> None:
    clock = FakeClock()
    answers: list[Any] = [errors.ServiceError("InternalServerError", "boom", 500), None, "ok"]

    def poll() -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _context(clock, budget=60).wait_for(poll, what="x", on_timeout="") == "ok"
    with pytest.raises(errors.NotFound):
        _context(clock, budget=60).wait_for(
            lambda: (_ for _ in ()).throw(errors.NotFound("NotFoundProject", "gone", 404)),
            what="x",
            on_timeout="",
        )


def test_rollback_undoes_newest_first_and_reports_what_it_could_not_undo() -> None:
    done: list[str] = []
    ctx = _context(FakeClock(), budget=10)
    ctx.on_failure("delete project", lambda: done.append("project"))
    ctx.on_failure("delete tag", lambda: done.append("tag"))
    ctx.on_failure(
        "gone already", lambda: (_ for _ in ()).throw(errors.NotFound("NotFoundTag", "x", 404))
    )
    ctx.on_failure("unpublish", lambda: (_ for _ in ()).throw(RuntimeError("still busy")))
    left = ctx._roll_back()
    assert done == ["tag", "project"]
    assert left == ["unpublish (still busy)"]


def _lost_answer() -> errors.CustomVisionError:
    error = errors.TransportError("ConnectionDropped", "the connection broke", None)
    error.may_have_succeeded = True
    return error


def test_a_lost_create_is_adopted_if_it_did_its_work_and_sent_again_if_not() -> None:
    ctx = _context(FakeClock(), budget=10)
    calls: list[str] = []

    def create_lost_then_ok() -> str:
        calls.append("create")
        if len(calls) == 1:
            raise _lost_answer()
        return "created"

    assert ctx.create_or_find(create_lost_then_ok, lambda: None) == "created"
    assert calls == ["create", "create"]

    calls.clear()

    def create_lost() -> str:
        calls.append("create")
        raise _lost_answer()

    assert ctx.create_or_find(create_lost, lambda: "found") == "found"
    assert calls == ["create"]
    with pytest.raises(errors.TransportError):
        ctx.create_or_find(create_lost, lambda: None, attempts=2)

    def refused() -> str:
        raise errors.BadRequest("BadRequestTagName", "bad name", 400)

    with pytest.raises(errors.BadRequest):
        ctx.create_or_find(refused, lambda: pytest.fail("a refused create needs no lookup"))


def test_a_failed_update_undoes_its_steps_and_names_what_is_left() -> None:
    undone: list[str] = []

    class HalfwayFailingTag(TagProvider):
        def on_update(self, ctx, id_, olds, args, changed):  # type: ignore[no-untyped-def]
            ctx.on_failure("re-create 3 regions", lambda: undone.append("regions"))
            ctx.on_failure(
                "delete 2 regions", lambda: (_ for _ in ()).throw(RuntimeError("HTTP 503"))
            )
            raise ProviderError("2 regions would take images over the limit")

    with pytest.raises(ProviderError) as failed:
        HalfwayFailingTag().update("t", _stored(), {"project_id": PROJECT, "name": "nut"})
    assert str(failed.value) == (
        "2 regions would take images over the limit; these steps could not be undone and "
        "need cleaning up: delete 2 regions (HTTP 503)"
    )
    assert undone == ["regions"]
