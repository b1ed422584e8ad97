"""The models read every response body of the specs' examples and of the real recordings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from pulumi_customvision._rest import models

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXAMPLES = SHARED / "specs" / "examples"
RECORDINGS = SHARED / "recordings" / "azure-sdk-for-net"

RESULT_TYPES: dict[str, Any] = {
    "CreateProject": models.Project,
    "GetProject": models.Project,
    "UpdateProject": models.Project,
    "ImportProject": models.Project,
    "GetProjects": list[models.Project],
    "ExportProject": models.ProjectExport,
    "TrainProject": models.Iteration,
    "GetIteration": models.Iteration,
    "UpdateIteration": models.Iteration,
    "GetIterations": list[models.Iteration],
    "CreateTag": models.Tag,
    "UpdateTag": models.Tag,
    "GetTags": list[models.Tag],
    "GetImages": list[models.Image],
    "GetImagesByIds": list[models.Image],
    "GetTaggedImages": list[models.Image],
    "CreateImagesFromUrls": models.ImageCreateSummary,
    "CreateImagesFromData": models.ImageCreateSummary,
    "CreateImageRegions": models.ImageRegionCreateSummary,
    "PublishIteration": bool,
}


def _example_bodies() -> list[tuple[str, str, Any]]:
    found = []
    for path in sorted(EXAMPLES.glob("*/*.json")):
        operation = path.stem
        if operation not in RESULT_TYPES:
            continue
        example = json.loads(path.read_text(encoding="utf-8"))
        for status, response in example.get("responses", {}).items():
            if "body" in response and status.startswith("2"):
                found.append(
                    (f"{path.parent.name}/{operation}/{status}", operation, response["body"])
                )
    return found


_RECORDED_OPERATION = {
    ("POST", "projects"): "CreateProject",
    ("PATCH", "projects/{}"): "UpdateProject",
    ("GET", "projects/{}"): "GetProject",
    ("GET", "projects/{}/export"): "ExportProject",
    ("POST", "projects/import"): "ImportProject",
    ("POST", "projects/{}/train"): "TrainProject",
    ("GET", "projects/{}/iterations"): "GetIterations",
    ("GET", "projects/{}/iterations/{}"): "GetIteration",
    ("PATCH", "projects/{}/iterations/{}"): "UpdateIteration",
    ("POST", "projects/{}/tags"): "CreateTag",
    ("PATCH", "projects/{}/tags/{}"): "UpdateTag",
    ("GET", "projects/{}/tags"): "GetTags",
    ("GET", "projects/{}/images/tagged"): "GetTaggedImages",
    ("GET", "projects/{}/images/id"): "GetImagesByIds",
    ("POST", "projects/{}/images/urls"): "CreateImagesFromUrls",
    ("POST", "projects/{}/images/regions"): "CreateImageRegions",
    ("POST", "projects/{}/iterations/{}/publish"): "PublishIteration",
}


def _recorded_bodies() -> list[tuple[str, str, Any]]:
    found = []
    for path in sorted(RECORDINGS.glob("TrainingTests__*.json")):
        recording = json.loads(path.read_text(encoding="utf-8"))
        for index, entry in enumerate(recording.get("entries", [])):
            uri = entry["uri"].split("?")[0]
            if "/v1.2/" in uri:
                continue  # legacy PascalCase API, not selectable
            relative = uri.split("/training/", 1)[1]
            shape = "/".join(
                "{}" if len(part) == 36 and part.count("-") == 4 else part
                for part in relative.split("/")
            )
            operation = _RECORDED_OPERATION.get((entry["method"], shape))
            if operation is not None and entry["response_body"] != "":
                found.append((f"{path.stem}[{index}]", operation, entry["response_body"]))
    return found


@pytest.mark.parametrize(
    ("name", "operation", "body"), _example_bodies() + _recorded_bodies(), ids=lambda v: str(v)[:60]
)
def test_documented_and_recorded_bodies_parse(name: str, operation: str, body: Any) -> None:
    TypeAdapter(RESULT_TYPES[operation]).validate_python(body)


def test_there_are_bodies_to_check() -> None:
    if not EXAMPLES.exists() or not RECORDINGS.exists():
        pytest.skip("shared specs/recordings not available")
    assert len(_example_bodies()) > 30 and len(_recorded_bodies()) > 30


IMAGE = "4d6eb844-42ee-42bc-bd6f-c32455ef07c9"
TAG = "b607964f-7bd6-4a3b-a869-6791fb6aab87"


def test_unknown_fields_are_ignored_and_missing_ids_refused() -> None:
    tag = models.Tag.model_validate({"id": TAG, "name": "n", "brandNew": {"x": 1}})
    assert tag.id == TAG
    with pytest.raises(ValidationError):
        models.Tag.model_validate({"name": "n"})
    with pytest.raises(ValidationError):
        models.Project.model_validate({"id": TAG, "name": "n", "settings": "not an object"})


@pytest.mark.parametrize(
    "value",
    [
        "../../etc/passwd",
        "",
        "t1",
        "{4d6eb844-42ee-42bc-bd6f-c32455ef07c9}",
        "urn:uuid:4d6eb844-42ee-42bc-bd6f-c32455ef07c9",
        "4d6eb84442ee42bcbd6fc32455ef07c9",
        " 4d6eb844-42ee-42bc-bd6f-c32455ef07c9",
        "4d6eb844-42ee-42bc-bd6f-c32455ef07c9\n",
        "4d6eb844-42ee-42bc-bd6f-c32455ef07c9/../x",
    ],
)
def test_ids_in_answers_must_be_uuids(value: str) -> None:
    """An "id" that is not one must not reach state; the message does not repeat it."""
    for model, body in [
        (models.Tag, {"id": value, "name": "n"}),
        (models.Project, {"id": value, "name": "n"}),
        (models.Iteration, {"id": value, "name": "n"}),
        (models.Image, {"id": value}),
        (
            models.ImageRegionCreateResult,
            {
                "imageId": IMAGE,
                "regionId": value,
                "tagId": TAG,
                "left": 0,
                "top": 0,
                "width": 1,
                "height": 1,
            },
        ),
    ]:
        with pytest.raises(ValidationError) as caught:
            model.model_validate(body)
        assert "Custom Vision ids are UUIDs" in str(caught.value)
        messages = [e["msg"] for e in caught.value.errors(include_input=False)]
        assert value not in " ".join(messages) or not value.strip()


def test_ids_in_answers_are_normalized_to_lower_case() -> None:
    tag = models.Tag.model_validate({"id": TAG.upper(), "name": "n"})
    assert tag.id == TAG and type(tag.id) is str
    image = models.Image.model_validate(
        {
            "id": IMAGE.upper(),
            "regions": [
                {
                    "regionId": TAG.upper(),
                    "tagId": TAG.upper(),
                    "left": 0,
                    "top": 0,
                    "width": 1,
                    "height": 1,
                }
            ],
        }
    )
    assert image.id == IMAGE
    assert image.regions and image.regions[0].region_id == TAG == image.regions[0].tag_id


@pytest.mark.parametrize("body", [{}, {"created": []}, {"id": 5, "name": ["bolt"]}])
def test_a_region_summary_without_its_three_lists_is_refused(body: dict[str, Any]) -> None:
    """``{}`` says nothing about what was created; reading it as "nothing" would be wrong."""
    with pytest.raises(ValidationError):
        models.ImageRegionCreateSummary.model_validate(body)


def test_request_bodies_use_the_services_names() -> None:
    entry = models.ImageRegionCreateEntry(
        image_id=IMAGE, tag_id=TAG, left=0.1, top=0.2, width=0.3, height=0.4
    )
    assert entry.to_api() == {
        "imageId": IMAGE,
        "tagId": TAG,
        "left": 0.1,
        "top": 0.2,
        "width": 0.3,
        "height": 0.4,
    }
    assert models.TrainingParameters(selected_tags=["a"]).to_api() == {"selectedTags": ["a"]}
    export = models.ProjectExport.model_validate({"token": "secret", "estimatedImportTimeInMS": 5})
    assert export.estimated_import_time_in_ms == 5 and "secret" not in repr(export)


def test_nullable_summary_lists_read_as_empty() -> None:
    summary = models.ImageRegionCreateSummary.model_validate(
        {"created": None, "duplicated": None, "exceeded": None}
    )
    assert summary.created == [] and summary.duplicated == [] and summary.exceeded == []
