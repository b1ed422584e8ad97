"""Every answer of the emulator validates against the v3.3 spec's schema for its operation.

A scenario calls each operation the provider uses (and the listings and counts around
them) on v3.3; every JSON answer is checked with ``jsonschema`` against the response
schema the spec gives for that path, method and status. Swagger 2.0 has no ``null``, and
the real service answers ``null`` even for members the spec marks ``x-nullable: false``
(the recordings have ``"tagName": null`` in CreateImageRegions answers and
``"publishName": null`` on unpublished iterations), so ``null`` is accepted for every
member; names, types, enums and required members must match.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from customvision_emulator.testing import RunningEmulator

from .conftest import GENERAL_DETECTION, PREDICTION_ID, Api

SPEC_PATH = (
    Path(__file__).resolve().parents[3] / "shared" / "specs" / "customvision-training-v3.3.json"
)

# The operations the provider calls: each must be answered and validated here.
PROVIDER_OPERATIONS = {
    "GetDomains", "GetDomain", "GetProjects", "GetProject", "CreateProject", "UpdateProject",
    "DeleteProject", "ExportProject", "ImportProject", "GetIterations", "GetIteration",
    "UpdateIteration", "DeleteIteration", "PublishIteration", "UnpublishIteration",
    "TrainProject", "CreateTag", "GetTag", "GetTags", "UpdateTag", "DeleteTag",
    "CreateImagesFromUrls", "CreateImagesFromData", "GetImagesByIds", "GetImages",
    "GetImageCount", "DeleteImages", "CreateImageRegions", "DeleteImageRegions",
    "CreateImageTags", "DeleteImageTags",
}  # fmt: skip


def _nullable(schema: Any) -> Any:
    """A copy of a Swagger schema that also accepts ``null`` for every member."""
    if isinstance(schema, list):
        return [_nullable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _nullable(value) for key, value in schema.items() if key != "properties"}
    if "properties" in schema:
        out["properties"] = {
            name: _or_null(_nullable(prop)) for name, prop in schema["properties"].items()
        }
    return out


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [{"$ref": schema["$ref"]}, {"type": "null"}]}
    out = dict(schema)
    if "type" in out:
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


class Spec:
    """The v3.3 paths as patterns, and a validator per response schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.definitions = _nullable(document["definitions"])
        self.routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for path, methods in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$", re.IGNORECASE)
            for method, operation in methods.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.routes.append((pattern, method.upper(), operation))

    def operation(self, method: str, path: str) -> dict[str, Any]:
        """The spec's operation for a concrete request path (relative to the version base)."""
        for pattern, verb, operation in self.routes:
            if verb == method and pattern.match(path):
                return operation
        raise AssertionError(f"no operation in the spec for {method} {path}")

    def validate(self, operation: dict[str, Any], status: int, body: Any) -> None:
        """Raise if ``body`` does not fit the spec's schema for this status."""
        response = operation["responses"].get(str(status))
        assert response is not None, f"{operation['operationId']} has no {status} in the spec"
        schema = response.get("schema")
        if schema is None:
            assert body is None, f"{operation['operationId']} {status} should have no body"
            return
        jsonschema.validate(body, {**_nullable(schema), "definitions": self.definitions})


class RecordingApi(Api):
    """:class:`Api` that keeps every (method, path, status, body) it sends and receives."""

    def __init__(self, emu: RunningEmulator) -> None:
        super().__init__(emu, "3.3")
        self.answers: list[tuple[str, str, int, Any]] = []

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = super().call(method, path, **kwargs)
        body = response.json() if response.content else None
        self.answers.append((method, path.split("?")[0], response.status_code, body))
        return response


def _wait(api: Api, path: str, field: str, busy: str) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = api.ok("GET", path)
        if current[field] != busy:
            return current
        time.sleep(0.1)
    raise AssertionError(f"{path} still {busy}")


def _scenario(api: Api) -> None:
    domains = api.ok("GET", "/domains")
    api.ok("GET", f"/domains/{domains[0]['id']}")
    pid = api.project("schemas", GENERAL_DETECTION)["id"]
    api.ok("GET", "/projects")
    api.ok("PATCH", f"/projects/{pid}", json={"description": "validated"})
    tags = [api.tag(pid, name)["id"] for name in ("bolt", "nut")]
    api.ok("GET", f"/projects/{pid}/tags")
    api.ok("PATCH", f"/projects/{pid}/tags/{tags[0]}", json={"name": "bolt", "type": "Regular"})
    api.ok("GET", f"/projects/{pid}/tags/{tags[0]}")
    images = api.images(pid, range(100, 130), [])
    api.ok("POST", f"/projects/{pid}/images/urls", json={"images": [{"url": "https://x/1.jpg"}]})
    api.ok(
        "POST",
        f"/projects/{pid}/images/tags",
        json={"tags": [{"imageId": images[0], "tagId": tags[1]}]},
    )
    api.ok(
        "DELETE",
        f"/projects/{pid}/images/tags",
        status=204,
        params={"imageIds": images[0], "tagIds": tags[1]},
    )
    regions = [
        {"imageId": image, "tagId": tags[n % 2], "left": 0.1, "top": 0.1, "width": 0.5,
         "height": 0.5}
        for n, image in enumerate(images)
    ]  # fmt: skip
    created = api.ok("POST", f"/projects/{pid}/images/regions", json={"regions": regions})
    api.ok("GET", f"/projects/{pid}/images/id", params={"imageIds": ",".join(images[:5])})
    api.ok("GET", f"/projects/{pid}/images", params={"take": 10})
    api.ok("GET", f"/projects/{pid}/images/count")
    first_region = created["created"][0]["regionId"]
    api.ok(
        "DELETE", f"/projects/{pid}/images/regions", status=204, params={"regionIds": first_region}
    )
    api.ok(
        "POST", f"/projects/{pid}/images/regions", json={"regions": [regions[0]]}
    )  # puts it back
    iteration = api.ok("POST", f"/projects/{pid}/train")
    api.ok("GET", f"/projects/{pid}/iterations")
    _wait(api, f"/projects/{pid}/iterations/{iteration['id']}", "status", "Training")
    api.ok("PATCH", f"/projects/{pid}/iterations/{iteration['id']}", json={"name": "v1"})
    api.ok(
        "POST",
        f"/projects/{pid}/iterations/{iteration['id']}/publish",
        params={"publishName": "schemas", "predictionId": PREDICTION_ID},
    )
    api.ok("DELETE", f"/projects/{pid}/iterations/{iteration['id']}/publish", status=204)
    token = api.ok("GET", f"/projects/{pid}/export")["token"]
    imported = api.ok("POST", "/projects/import", params={"token": token, "name": "imported"})
    _wait(api, f"/projects/{imported['id']}", "status", "Importing")
    api.ok("DELETE", f"/projects/{pid}/images", status=204, params={"imageIds": images[-1]})
    api.ok("DELETE", f"/projects/{pid}/tags/{tags[1]}", status=204)
    api.ok("DELETE", f"/projects/{pid}/iterations/{iteration['id']}", status=204)
    api.ok("DELETE", f"/projects/{pid}", status=204)


@pytest.mark.skipif(
    not SPEC_PATH.exists(), reason="the team's shared specs are not beside the repo"
)
def test_every_answer_validates_against_the_v33_spec(
    customvision_emulator: RunningEmulator,
) -> None:
    spec = Spec(json.loads(SPEC_PATH.read_text()))
    api = RecordingApi(customvision_emulator)
    _scenario(api)
    seen: set[str] = set()
    problems: list[str] = []
    for method, path, status, body in api.answers:
        operation = spec.operation(method, path)
        seen.add(operation["operationId"])
        try:
            spec.validate(operation, status, body)
        except (AssertionError, jsonschema.ValidationError) as exc:
            where = "/".join(map(str, getattr(exc, "absolute_path", [])))
            first = str(exc).splitlines()[0]
            problems.append(f"{operation['operationId']} {status} at {where or '.'}: {first}")
    assert not problems, "\n".join(problems)
    assert seen >= PROVIDER_OPERATIONS, f"not exercised: {sorted(PROVIDER_OPERATIONS - seen)}"
