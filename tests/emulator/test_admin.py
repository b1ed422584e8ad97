"""The admin API: faults, dropped connections, delays, rate limits, log and counters."""

from __future__ import annotations

import time

import pytest
import requests

from customvision_emulator.testing import RunningEmulator

from .conftest import Api


def test_fault_by_count_and_operation(api: Api) -> None:
    admin = api.emu.admin
    admin.inject_fault(status=503, count=2, operation="GetProjects", retry_after=3)
    api.ok("GET", "/domains")  # another operation is untouched
    for _ in range(2):
        r = api.call("GET", "/projects")
        assert r.status_code == 503 and r.headers["Retry-After"] == "3"
        assert r.json()["code"] == "ErrorUnknown"
    api.ok("GET", "/projects")
    assert admin.faults() == []  # used up


def test_fault_429_has_gateway_shape(api: Api) -> None:
    api.emu.admin.inject_fault(status=429, retry_after=2)
    r = api.call("GET", "/projects")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert r.json()["error"]["code"] == "429"


def test_fault_by_fraction_is_seedable(api: Api) -> None:
    def run() -> list[int]:
        api.emu.admin.clear_faults()
        api.emu.admin.inject_fault(status=500, fraction=0.3, seed=7)
        return [api.call("GET", "/domains").status_code for _ in range(60)]

    first, second = run(), run()
    assert first == second
    failures = first.count(500)
    assert 5 <= failures <= 35 and set(first) == {200, 500}
    api.emu.admin.clear_faults()
    assert all(api.call("GET", "/domains").status_code == 200 for _ in range(10))


def test_dropped_connection(api: Api) -> None:
    api.emu.admin.inject_fault(drop_connection=True, count=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(
            f"{api.base}/projects", headers={"Training-Key": api.emu.training_key}, timeout=10
        )
    api.ok("GET", "/projects")  # the server lives on
    (entry,) = api.emu.admin.requests(operation="GetProjects")[:1]
    assert entry["status"] == 0


def test_delay_fault_and_latency(api: Api) -> None:
    api.emu.admin.inject_fault(delay_ms=300, count=1)
    started = time.monotonic()
    api.ok("GET", "/projects")
    assert time.monotonic() - started >= 0.3
    api.emu.admin.configure(latency_ms=100)
    started = time.monotonic()
    api.ok("GET", "/projects")
    assert time.monotonic() - started >= 0.1


def test_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    api.emu.admin.configure(requests_per_second=5)
    statuses = [api.call("GET", "/domains") for _ in range(12)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert throttled, [r.status_code for r in statuses]
    r = throttled[0]
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "429"
    assert api.emu.admin.counters()["GetDomains"]["429"] == len(throttled)
    # Admin calls are never limited.
    for _ in range(20):
        api.emu.admin.counters()


def test_training_rate_limit_is_separate(api: Api) -> None:
    api.emu.admin.configure(
        requests_per_second=0, training_requests_per_second=2, training_seconds=0
    )
    pid, _ = api.trainable()
    codes = [
        api.call("POST", f"/projects/{pid}/train", params={"forceTrain": "true"}).status_code
        for _ in range(4)
    ]
    assert codes[:2] == [200, 200] and 429 in codes[2:]
    api.ok("GET", "/projects")  # other calls are not throttled


def test_request_log_and_counters(customvision_emulator: RunningEmulator, api: Api) -> None:
    admin = customvision_emulator.admin
    before = time.time()
    pid = api.project()["id"]
    api.error("GET", "/projects/00000000-0000-0000-0000-000000000000", 404, "NotFoundProject")
    api.ok("GET", f"/projects/{pid}")
    admin.state()  # admin requests are not logged
    log = admin.requests()
    assert [(e["method"], e["operation"], e["status"]) for e in log] == [
        ("POST", "CreateProject", 200),
        ("GET", "GetProject", 404),
        ("GET", "GetProject", 200),
    ]
    assert log[0]["api_version"] == "3.3" and log[0]["time"] >= before
    assert log[0]["path"] == "/customvision/v3.3/training/projects"
    assert admin.requests(operation="CreateProject") == log[:1]
    assert admin.counters() == {"CreateProject": {"200": 1}, "GetProject": {"404": 1, "200": 1}}
    admin.clear_log()
    assert admin.requests() == [] and admin.counters() == {}


def test_reset_empties_everything(customvision_emulator: RunningEmulator, api: Api) -> None:
    api.project()
    customvision_emulator.admin.inject_fault(status=500, count=5)
    customvision_emulator.admin.reset()
    assert customvision_emulator.admin.faults() == []
    assert customvision_emulator.admin.requests() == []
    assert api.ok("GET", "/projects") == []


def test_admin_rejects_bad_input(customvision_emulator: RunningEmulator) -> None:
    admin = customvision_emulator.admin
    with pytest.raises(ValueError):
        admin.configure(no_such_setting=1)
    with pytest.raises(ValueError):
        admin.force_outcome("TrainProject", "Maybe")
    with pytest.raises(ValueError):
        admin.inject_fault(count=1)  # neither status, drop nor delay


def test_drop_after_handling_applies_the_change_then_drops(api: Api) -> None:
    api.emu.admin.inject_fault(drop_after_handling=True, count=1, operation="CreateProject")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{api.base}/projects",
            params={"name": "lost answer"},
            headers={"Training-Key": api.emu.training_key},
            timeout=10,
        )
    assert [p["name"] for p in api.ok("GET", "/projects")] == ["lost answer"]
    assert api.emu.admin.requests(operation="CreateProject")[0]["status"] == 0
