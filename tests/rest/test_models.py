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


def test_unknown_fields_are_ignored_and_missing_ids_refused() -> None:
    tag = models.Tag.model_validate({"id": "t", "name": "n", "brandNew": {"x": 1}})
    assert tag.id == "t"
    with pytest.raises(ValidationError):
        models.Tag.model_validate({"name": "n"})
    with pytest.raises(ValidationError):
        models.Project.model_validate({"id": "p", "name": "n", "settings": "not an object"})


def test_request_bodies_use_the_services_names() -> None:
    entry = models.ImageRegionCreateEntry(
        image_id="i", tag_id="t", left=0.1, top=0.2, width=0.3, height=0.4
    )
    assert entry.to_api() == {
        "imageId": "i",
        "tagId": "t",
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
