"""Every API version is served, each with its own operations, parameters and shapes."""

from __future__ import annotations

import pytest

from customvision_emulator.testing import RunningEmulator

from .conftest import GENERAL_DETECTION, PREDICTION_ID, Api

ALL_VERSIONS = ["2.0", "2.1", "2.2", "3.0", "3.1", "3.2", "3.3", "3.4-preview"]


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_every_version_serves_projects_and_tags(
    customvision_emulator: RunningEmulator, version: str
) -> None:
    api = Api(customvision_emulator, version)
    project = api.project(f"p {version}")
    assert api.ok("GET", f"/projects/{project['id']}")["id"] == project["id"]
    tag = api.tag(project["id"], "t")
    assert api.ok("GET", f"/projects/{project['id']}/tags")[0]["id"] == tag["id"]
    assert len(api.ok("GET", "/domains")) >= 10
    api.ok("DELETE", f"/projects/{project['id']}", status=204)


def test_paths_are_case_insensitive_and_tolerate_a_doubled_slash(api: Api) -> None:
    key = {"Training-Key": api.emu.training_key}
    for path in (
        "/customvision/v2.0/Training/projects",
        "/customvision/v2.0/training/projects",
        "/CustomVision/V3.3/TRAINING/Projects",
        "//customvision/v3.4-preview/training/projects",
    ):
        r = api.session.get(api.emu.url + path, headers=key, timeout=10)
        assert r.status_code == 200, (path, r.status_code)


def test_response_shapes_follow_each_versions_models(api: Api) -> None:
    pid = api.project("shapes")["id"]
    v20 = api.at("2.0").ok("GET", f"/projects/{pid}")
    assert set(v20) == {
        "id",
        "name",
        "description",
        "settings",
        "created",
        "lastModified",
        "thumbnailUri",
    }
    assert set(v20["settings"]) == {"domainId"}
    v31 = api.at("3.1").ok("GET", f"/projects/{pid}")
    assert "drModeEnabled" in v31 and "status" not in v31
    v33 = api.at("3.3").ok("GET", f"/projects/{pid}")
    assert v33["status"] == "Succeeded"
    tag = api.at("2.0").tag(pid, "t")
    assert "type" not in tag  # Tag.type arrived in v2.2
    assert api.at("2.2").ok("GET", f"/projects/{pid}/tags/{tag['id']}")["type"] == "Regular"


def test_update_iteration_is_default_only_on_v2(api: Api) -> None:
    pid, _ = api.trainable()
    it = api.ok("POST", f"/projects/{pid}/train")
    api.wait_iteration(pid, it["id"], "Completed")
    path = f"/projects/{pid}/iterations/{it['id']}"
    v2 = api.at("2.2").ok("PATCH", path, json={"name": "v2 name", "isDefault": True})
    assert v2["name"] == "v2 name" and v2["isDefault"] is True
    # v3.x takes only the name: isDefault is neither read nor answered.
    v3 = api.ok("PATCH", path, json={"name": "v3 name", "isDefault": False})
    assert v3["name"] == "v3 name" and "isDefault" not in v3
    assert api.at("2.0").ok("GET", path)["isDefault"] is True


def test_operations_a_version_lacks_answer_404(api: Api) -> None:
    pid, _ = api.trainable()
    it = api.ok("POST", f"/projects/{pid}/train")
    api.wait_iteration(pid, it["id"], "Completed")
    publish = f"/projects/{pid}/iterations/{it['id']}/publish"
    params = {"publishName": "m", "predictionId": PREDICTION_ID}
    # Publish/Unpublish exist from v3.0.
    r = api.at("2.2").call("POST", publish, params=params)
    assert r.status_code == 404 and r.json()["error"]["code"] == "404"
    assert api.at("3.0").ok("POST", publish, params=params) is True
    assert api.at("2.2").call("DELETE", publish).status_code == 404
    api.at("3.0").ok("DELETE", publish, status=204)
    # Export/Import exist from v3.2.
    assert api.at("3.1").call("GET", f"/projects/{pid}/export").status_code == 404
    token = api.at("3.2").ok("GET", f"/projects/{pid}/export")["token"]
    assert (
        api.at("3.1").call("POST", "/projects/import", params={"token": token}).status_code == 404
    )
    # The name parameter of ImportProject exists from v3.3: v3.2 ignores it.
    old = api.at("3.2").ok("POST", "/projects/import", params={"token": token, "name": "N"})
    assert old["name"] == "p (1)"
    new = api.at("3.3").ok("POST", "/projects/import", params={"token": token, "name": "N"})
    assert new["name"] == "N"
    # GetImages and GetImageCount exist from v3.3.
    assert api.at("3.2").call("GET", f"/projects/{pid}/images").status_code == 404
    assert api.at("3.3").ok("GET", f"/projects/{pid}/images/count") == 10


def test_train_options_by_version(api: Api) -> None:
    pid, tags = api.trainable()
    # v3.1 has no trainingParameters body: selectedTags is ignored (all tags train).
    it = api.at("3.1").ok("POST", f"/projects/{pid}/train", json={"selectedTags": [tags[0]]})
    api.wait_iteration(pid, it["id"], "Completed")
    # v2.x has no forceTrain: training again is refused as not needed.
    api.at("2.2").error(
        "POST",
        f"/projects/{pid}/train",
        400,
        "BadRequestTrainingNotNeeded",
        params={"forceTrain": "true"},
    )
    # From v3.2 selectedTags is read (and validated).
    api.at("3.2").error(
        "POST",
        f"/projects/{pid}/train",
        400,
        "BadRequestTrainingValidationFailed",
        params={"forceTrain": "true"},
        json={"selectedTags": [tags[0]]},
    )


def test_partial_success_is_207_only_where_the_spec_has_it(api: Api) -> None:
    pid = api.project("od", GENERAL_DETECTION)["id"]
    tag = api.tag(pid, "t")["id"]
    (image,) = api.images(pid, [1], [])
    region = {"imageId": image, "tagId": tag, "left": 0.1, "top": 0.1, "width": 0.1, "height": 0.1}
    api.ok("POST", f"/projects/{pid}/images/regions", json={"regions": [region]})
    dup = api.at("3.2").call("POST", f"/projects/{pid}/images/regions", json={"regions": [region]})
    assert dup.status_code == 200 and len(dup.json()["duplicated"]) == 1
    dup = api.at("3.3").call("POST", f"/projects/{pid}/images/regions", json={"regions": [region]})
    assert dup.status_code == 207
    files = [("imageData", ("x.png", b"not an image", "image/png"))]
    assert api.at("3.2").call("POST", f"/projects/{pid}/images", files=files).status_code == 200
    assert (
        api.at("3.4-preview").call("POST", f"/projects/{pid}/images", files=files).status_code
        == 207
    )


def test_v2_images_have_image_uri_and_v22_resized_uri(api: Api) -> None:
    pid = api.project()["id"]
    (image,) = api.images(pid, [1], [])
    v20 = api.at("2.0").ok("GET", f"/projects/{pid}/images/id", params={"imageIds": image})[0]
    assert "imageUri" in v20 and "resizedImageUri" not in v20
    v22 = api.at("2.2").ok("GET", f"/projects/{pid}/images/id", params={"imageIds": image})[0]
    assert "resizedImageUri" in v22 and "imageUri" not in v22


def test_operation_table_is_generated_from_the_specs() -> None:
    from pathlib import Path

    from customvision_emulator import spectable

    specs = Path(__file__).resolve().parents[3] / "shared" / "specs"
    if not specs.is_dir():
        pytest.skip("shared/specs not available")
    assert spectable.build(specs) == spectable.load(), (
        "regenerate: python -m customvision_emulator.spectable ../shared/specs"
    )
