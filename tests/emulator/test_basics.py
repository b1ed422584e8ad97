"""Projects, tags, iterations and domains on v3.3; the testing API itself."""

from __future__ import annotations

import requests

from customvision_emulator.testing import DEFAULT_TRAINING_KEY, RunningEmulator

from .conftest import GENERAL_CLASSIFICATION, GENERAL_DETECTION, Api


def test_fixture_gives_a_reset_emulator(customvision_emulator: RunningEmulator) -> None:
    assert customvision_emulator.url.startswith("http://127.0.0.1:")
    assert not customvision_emulator.url.endswith("/")
    assert customvision_emulator.training_key == DEFAULT_TRAINING_KEY
    assert customvision_emulator.admin.state()["projects"] == []
    settings = customvision_emulator.admin.settings()
    assert settings["requests_per_second"] == 0
    assert settings["training_seconds"] == 0.3


def test_domains(api: Api) -> None:
    domains = {d["id"]: d for d in api.ok("GET", "/domains")}
    assert domains[GENERAL_CLASSIFICATION]["name"] == "General"
    assert domains[GENERAL_CLASSIFICATION]["type"] == "Classification"
    assert domains[GENERAL_DETECTION]["type"] == "ObjectDetection"
    assert api.ok("GET", f"/domains/{GENERAL_DETECTION}")["name"] == "General"
    api.error("GET", "/domains/00000000-0000-0000-0000-000000000000", 404, "NotFoundDomain")


def test_project_crud(api: Api) -> None:
    p = api.ok(
        "POST",
        "/projects",
        params={"name": "Test Project", "description": "d", "classificationType": "Multiclass"},
    )
    assert p["name"] == "Test Project"
    assert p["settings"]["domainId"] == GENERAL_CLASSIFICATION
    assert p["settings"]["classificationType"] == "Multiclass"
    assert p["status"] == "Succeeded"
    assert p["created"].endswith("Z")
    assert api.ok("GET", f"/projects/{p['id']}") == p
    assert [x["id"] for x in api.ok("GET", "/projects")] == [p["id"]]
    # Partial PATCH: only the name changes.
    updated = api.ok("PATCH", f"/projects/{p['id']}", json={"name": "Another"})
    assert updated["name"] == "Another"
    assert updated["description"] == "d"
    assert updated["settings"]["classificationType"] == "Multiclass"
    api.ok("DELETE", f"/projects/{p['id']}", status=204)
    api.error("GET", f"/projects/{p['id']}", 404, "NotFoundProject")
    api.error("DELETE", f"/projects/{p['id']}", 404, "NotFoundProject")


def test_project_validation(api: Api) -> None:
    api.error("POST", "/projects", 400, "BadRequestProjectName", params={"name": ""})
    api.error(
        "POST",
        "/projects",
        400,
        "BadRequestProjectUnknownDomain",
        params={"name": "x", "domainId": "00000000-0000-0000-0000-000000000001"},
    )
    api.error(
        "POST",
        "/projects",
        400,
        "BadRequestProjectUnknownClassification",
        params={"name": "x", "classificationType": "Nope"},
    )
    p = api.project("same")
    api.error("POST", "/projects", 400, "BadRequestProjectNameNotUnique", params={"name": "same"})
    api.error(
        "PATCH",
        f"/projects/{p['id']}",
        400,
        "BadRequestProjectUnsupportedDomainTypeChange",
        json={"settings": {"domainId": GENERAL_DETECTION}},
    )


def test_detection_project_has_no_classification_type(api: Api) -> None:
    p = api.project("od", GENERAL_DETECTION)
    assert p["settings"]["domainId"] == GENERAL_DETECTION
    assert p["settings"]["classificationType"] is None


def test_tag_crud(api: Api) -> None:
    pid = api.project()["id"]
    tag = api.ok("POST", f"/projects/{pid}/tags", params={"name": "Test Tag 1"})
    assert tag == {
        "id": tag["id"],
        "name": "Test Tag 1",
        "description": None,
        "type": "Regular",
        "imageCount": 0,
    }
    api.error(
        "POST",
        f"/projects/{pid}/tags",
        400,
        "BadRequestTagNameNotUnique",
        params={"name": "test tag 1"},
    )
    neg = api.ok("POST", f"/projects/{pid}/tags", params={"name": "neg", "type": "Negative"})
    assert neg["type"] == "Negative"
    api.error(
        "POST",
        f"/projects/{pid}/tags",
        400,
        "BadRequestMultipleNegativeTag",
        params={"name": "neg2", "type": "Negative"},
    )
    assert api.ok("GET", f"/projects/{pid}/tags/{tag['id']}") == tag
    assert [t["id"] for t in api.ok("GET", f"/projects/{pid}/tags")] == [tag["id"], neg["id"]]
    updated = api.ok("PATCH", f"/projects/{pid}/tags/{tag['id']}", json={"name": "Renamed"})
    assert updated["name"] == "Renamed"
    api.ok("DELETE", f"/projects/{pid}/tags/{tag['id']}", status=204)
    api.error("GET", f"/projects/{pid}/tags/{tag['id']}", 404, "NotFoundTag")


def test_iterations_train_rename_delete(api: Api) -> None:
    pid, _ = api.trainable()
    it = api.ok("POST", f"/projects/{pid}/train")
    assert it["status"] == "Training"
    assert it["name"] == "Iteration 1"
    assert "trainedAt" not in it
    assert it["domainId"] is None  # as the service answers while training
    done = api.wait_iteration(pid, it["id"], "Completed")
    assert done["domainId"] == GENERAL_CLASSIFICATION
    assert done["trainedAt"]
    assert [i["id"] for i in api.ok("GET", f"/projects/{pid}/iterations")] == [it["id"]]
    renamed = api.ok("PATCH", f"/projects/{pid}/iterations/{it['id']}", json={"name": "Best"})
    assert renamed["name"] == "Best"
    assert "isDefault" not in renamed  # v3.x Iteration has no isDefault
    api.ok("DELETE", f"/projects/{pid}/iterations/{it['id']}", status=204)
    api.error("GET", f"/projects/{pid}/iterations/{it['id']}", 404, "NotFoundIteration")


def test_unknown_route_and_missing_key(customvision_emulator: RunningEmulator) -> None:
    url = customvision_emulator.url
    r = requests.get(f"{url}/customvision/v3.3/training/projects", timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "401"
    r = requests.get(
        f"{url}/customvision/v3.3/training/projects",
        headers={"training-key": "wrong"},
        timeout=10,
    )
    assert r.status_code == 401
    r = requests.get(
        f"{url}/customvision/v3.3/training/projects",
        headers={"TRAINING-KEY": customvision_emulator.training_key},
        timeout=10,
    )
    assert r.status_code == 200
    r = requests.get(f"{url}/customvision/v9.9/training/projects", timeout=10)
    assert r.status_code == 404
