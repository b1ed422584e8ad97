"""Training state machine, validation, limits; export tokens and asynchronous import."""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path

import pytest

from customvision_emulator.testing import RunningEmulator, run_emulator
from pulumi_customvision._rest import TrainingClient, errors

from .conftest import GENERAL_DETECTION, PREDICTION_ID, Api


def test_training_validation_classification(api: Api) -> None:
    pid = api.project()["id"]
    a, b = api.tag(pid, "a")["id"], api.tag(pid, "b")["id"]
    api.error("POST", f"/projects/{pid}/train", 400, "BadRequestTrainingValidationFailed")
    api.images(pid, range(5), [a])
    api.images(pid, range(5, 9), [b])  # only 4 images for b
    body = api.error("POST", f"/projects/{pid}/train", 400, "BadRequestTrainingValidationFailed")
    assert "b" in body["message"]
    api.images(pid, [9], [b])
    assert api.ok("POST", f"/projects/{pid}/train")["status"] == "Training"


def test_training_validation_detection_needs_15_images_per_tag(api: Api) -> None:
    pid = api.project("od", GENERAL_DETECTION)["id"]
    tag = api.tag(pid, "t")["id"]
    images = api.images(pid, range(15), [])

    def regions(ids: list[str]) -> None:
        entries = [
            {"imageId": i, "tagId": tag, "left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}
            for i in ids
        ]
        api.ok("POST", f"/projects/{pid}/images/regions", json={"regions": entries})

    regions(images[:14])
    api.error("POST", f"/projects/{pid}/train", 400, "BadRequestTrainingValidationFailed")
    regions(images[14:])
    it = api.ok("POST", f"/projects/{pid}/train")
    assert api.wait_iteration(pid, it["id"], "Completed")["domainId"] == GENERAL_DETECTION


def test_training_state_machine_and_refusals(api: Api) -> None:
    api.emu.admin.configure(training_seconds=1.0)
    pid, tags = api.trainable()
    it = api.ok(
        "POST",
        f"/projects/{pid}/train",
        params={
            "trainingType": "Regular",
            "reservedBudgetInHours": 0,
            "forceTrain": "false",
            "notificationEmailAddress": "me@example.com",
        },
    )
    assert it["status"] == "Training" and it["trainingType"] == "Regular"
    api.error("POST", f"/projects/{pid}/train", 400, "BadRequestTrainingAlreadyInProgress")
    api.error("GET", f"/projects/{pid}/export", 400, "BadRequestExportWhileTraining")
    api.error(
        "POST",
        f"/projects/{pid}/iterations/{it['id']}/publish",
        400,
        "BadRequestIterationIsNotTrained",
        params={"publishName": "m", "predictionId": PREDICTION_ID},
    )
    api.wait_iteration(pid, it["id"], "Completed")
    api.error("POST", f"/projects/{pid}/train", 400, "BadRequestTrainingNotNeeded")
    forced = api.ok("POST", f"/projects/{pid}/train", params={"forceTrain": "true"})
    assert forced["name"] == "Iteration 2"
    api.wait_iteration(pid, forced["id"], "Completed")
    # A change makes training needed again.
    api.images(pid, [42], [tags[0]])
    assert api.ok("POST", f"/projects/{pid}/train")["name"] == "Iteration 3"


def test_training_parameter_validation(api: Api) -> None:
    pid, tags = api.trainable()
    api.error(
        "POST",
        f"/projects/{pid}/train",
        400,
        "BadRequestInvalidEmailAddress",
        params={"notificationEmailAddress": "nope"},
    )
    api.error(
        "POST",
        f"/projects/{pid}/train",
        400,
        "BadRequestReservedBudgetInHoursNotEnoughForAdvancedTraining",
        params={"trainingType": "Advanced"},
    )
    # selectedTags: training only on tag a still needs 2 tags for classification.
    api.error(
        "POST",
        f"/projects/{pid}/train",
        400,
        "BadRequestTrainingValidationFailed",
        json={"selectedTags": [tags[0]]},
    )
    it = api.ok(
        "POST",
        f"/projects/{pid}/train",
        json={"selectedTags": tags},
        params={"trainingType": "Advanced", "reservedBudgetInHours": 1},
    )
    assert it["trainingType"] == "Advanced" and it["reservedBudgetInHours"] == 1


def test_forced_training_failure(api: Api) -> None:
    pid, _ = api.trainable()
    api.emu.admin.force_outcome("TrainProject", "Failed")
    it = api.ok("POST", f"/projects/{pid}/train")
    failed = api.wait_iteration(pid, it["id"], "Failed")
    assert "trainingErrorDetails" not in failed  # v3.4-preview only
    preview = api.at("3.4-preview").ok("GET", f"/projects/{pid}/iterations/{it['id']}")
    assert preview["trainingErrorDetails"]
    # The next one is back to normal.
    it = api.ok("POST", f"/projects/{pid}/train")
    api.wait_iteration(pid, it["id"], "Completed")


def test_twenty_iterations_cap(api: Api) -> None:
    api.emu.admin.configure(training_seconds=0.0)
    pid, _ = api.trainable()
    for n in range(20):
        it = api.ok("POST", f"/projects/{pid}/train", params={"forceTrain": "true"})
        assert it["name"] == f"Iteration {n + 1}"
    api.error(
        "POST",
        f"/projects/{pid}/train",
        400,
        "BadRequestExceedIterationPerProjectLimit",
        params={"forceTrain": "true"},
    )
    first = api.ok("GET", f"/projects/{pid}/iterations")[0]
    api.ok("DELETE", f"/projects/{pid}/iterations/{first['id']}", status=204)
    assert api.ok("POST", f"/projects/{pid}/train", params={"forceTrain": "true"})["name"] == (
        "Iteration 21"
    )


def test_publish_rules(api: Api) -> None:
    pid, _ = api.trainable()
    it = api.ok("POST", f"/projects/{pid}/train")
    api.wait_iteration(pid, it["id"], "Completed")
    publish = f"/projects/{pid}/iterations/{it['id']}/publish"
    api.error(
        "POST",
        publish,
        400,
        "BadRequestInvalidPublishTarget",
        params={"publishName": "m", "predictionId": "nope"},
    )
    assert (
        api.ok("POST", publish, params={"publishName": "m", "predictionId": PREDICTION_ID}) is True
    )
    got = api.ok("GET", f"/projects/{pid}/iterations/{it['id']}")
    assert got["publishName"] == "m" and got["originalPublishResourceId"] == PREDICTION_ID
    api.error(
        "DELETE", f"/projects/{pid}/iterations/{it['id']}", 400, "BadRequestIterationIsPublished"
    )
    api.error("DELETE", f"/projects/{pid}", 400, "BadRequestIterationIsPublished")
    api.ok("DELETE", publish, status=204)
    api.error("DELETE", publish, 400, "BadRequestIterationNotPublished")
    api.ok("DELETE", f"/projects/{pid}", status=204)


def test_export_import_roundtrip(api: Api) -> None:
    api.emu.admin.configure(import_seconds=0.5)
    pid = api.project("Source", GENERAL_DETECTION)["id"]
    tag = api.tag(pid, "t")["id"]
    images = api.images(pid, range(15), [])
    entries = [
        {"imageId": i, "tagId": tag, "left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}
        for i in images
    ]
    api.ok("POST", f"/projects/{pid}/images/regions", json={"regions": entries})
    it = api.ok("POST", f"/projects/{pid}/train")
    api.wait_iteration(pid, it["id"], "Completed")
    api.ok("PATCH", f"/projects/{pid}/iterations/{it['id']}", json={"name": "Kept name"})
    api.ok(
        "POST",
        f"/projects/{pid}/iterations/{it['id']}/publish",
        params={"publishName": "m", "predictionId": PREDICTION_ID},
    )
    export = api.ok("GET", f"/projects/{pid}/export")
    assert (
        export["iterationCount"],
        export["imageCount"],
        export["tagCount"],
        export["regionCount"],
    ) == (1, 15, 1, 15)
    token = export["token"]
    imported = api.ok("POST", "/projects/import", params={"token": token})
    assert imported["status"] == "Importing" and imported["name"] == "Source (1)"
    assert imported["id"] != pid
    time.sleep(0.1)
    assert api.ok("GET", f"/projects/{imported['id']}")["status"] == "Importing"
    api.wait_project(imported["id"], "Succeeded")
    new_tags = api.ok("GET", f"/projects/{imported['id']}/tags")
    assert [t["name"] for t in new_tags] == ["t"] and new_tags[0]["id"] != tag
    new_images = api.ok("GET", f"/projects/{imported['id']}/images/tagged", params={"take": 100})
    assert len(new_images) == 15 and not {i["id"] for i in new_images} & set(images)
    assert all(i["regions"][0]["tagId"] == new_tags[0]["id"] for i in new_images)
    iterations = api.ok("GET", f"/projects/{imported['id']}/iterations")
    assert [i["name"] for i in iterations] == ["Kept name"]
    assert iterations[0]["id"] != it["id"] and iterations[0]["publishName"] is None
    # Same data as its trained iteration: no training needed.
    api.error("POST", f"/projects/{imported['id']}/train", 400, "BadRequestTrainingNotNeeded")
    # A name may be given from v3.3; a second import without name gets " (2)".
    named = api.ok("POST", "/projects/import", params={"token": token, "name": "Chosen"})
    assert named["name"] == "Chosen"
    again = api.ok("POST", "/projects/import", params={"token": token})
    assert again["name"] == "Source (2)"


def test_import_tokens_must_be_valid_encoded_and_fresh(api: Api) -> None:
    pid = api.project("Src")["id"]
    token = api.ok("GET", f"/projects/{pid}/export")["token"]
    assert "%" in token and "&" in token  # opaque, needs URL-encoding
    api.error(
        "POST", "/projects/import", 400, "BadRequestInvalidImportToken", params={"token": "garbage"}
    )
    # Sent without URL-encoding, the token is cut at its first '&': invalid.
    r = api.session.post(f"{api.base}/projects/import?token={token}", timeout=10)
    assert r.status_code == 400 and r.json()["code"] == "BadRequestInvalidImportToken"
    encoded = urllib.parse.quote(token, safe="")
    r = api.session.post(f"{api.base}/projects/import?token={encoded}", timeout=10)
    assert r.status_code == 200, r.text
    # Expiry.
    api.emu.admin.configure(export_token_ttl_seconds=0.2)
    short = api.ok("GET", f"/projects/{pid}/export")["token"]
    time.sleep(0.3)
    api.error(
        "POST", "/projects/import", 400, "BadRequestInvalidImportToken", params={"token": short}
    )


def test_forced_import_failure(api: Api) -> None:
    pid = api.project("Src")["id"]
    token = api.ok("GET", f"/projects/{pid}/export")["token"]
    api.emu.admin.force_outcome("ImportProject", "Failed")
    imported = api.ok("POST", "/projects/import", params={"token": token})
    api.wait_project(imported["id"], "Failed")


def test_state_dump(customvision_emulator: RunningEmulator, api: Api) -> None:
    pid, tags = api.trainable("dumped")
    state = customvision_emulator.admin.state()
    (project,) = state["projects"]
    assert project["id"] == pid and project["name"] == "dumped"
    assert [t["id"] for t in project["tags"]] == tags
    assert len(project["images"]) == 10 and project["iterations"] == []


def test_one_emulator_imports_what_another_exported(tmp_path: Path) -> None:
    """Two accounts: a token from one imports into the other, as real export tokens do."""
    with (
        run_emulator(exports_dir=str(tmp_path), training_key="dev-key") as dev,
        run_emulator(exports_dir=str(tmp_path), training_key="prod-key") as prod,
    ):
        dev_client = TrainingClient(dev.url, dev.training_key)
        source = dev_client.create_project("parts")
        dev_client.create_tag(source.id, "bolt")
        token = dev_client.export_project(source.id).token

        prod_client = TrainingClient(prod.url, prod.training_key)
        imported = prod_client.import_project(token, name="parts")
        assert imported.id != source.id
        assert [t.name for t in prod_client.get_tags(imported.id)] == ["bolt"]

    with run_emulator(exports_dir=str(tmp_path / "elsewhere")) as stranger:
        with pytest.raises(errors.BadRequest) as refused:
            TrainingClient(stranger.url, stranger.training_key).import_project(token)
        assert refused.value.code == "BadRequestInvalidImportToken"
