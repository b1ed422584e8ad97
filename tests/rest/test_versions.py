"""The versions table agrees with the Swagger specs, and refusals name the version to use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pulumi_customvision._rest import errors, versions

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _load(version: str) -> dict[str, object]:
    path = SPECS / f"customvision-training-v{version}.json"
    if not path.exists():
        pytest.skip(f"spec {path} not available")
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _spec_operations() -> dict[str, dict[str, object]]:
    """operationId -> {version: (method, path, parameter names)} from every spec."""
    found: dict[str, dict[str, object]] = {}
    for version in versions.API_VERSIONS:
        spec = _load(version)
        paths = spec["paths"]
        assert isinstance(paths, dict)
        for path, item in paths.items():
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue
                names = frozenset(p["name"] for p in op.get("parameters", []) if "name" in p)
                found.setdefault(op["operationId"], {})[version] = (method.upper(), path, names)
    return found


def test_every_spec_base_path_is_the_versions_prefix() -> None:
    for version in versions.API_VERSIONS:
        assert _load(version)["basePath"] == versions.path_prefix(version)


def test_the_table_lists_exactly_the_operations_of_the_specs() -> None:
    assert set(_spec_operations()) == set(versions.OPERATIONS)


@pytest.mark.parametrize("operation_id", sorted(versions.OPERATIONS))
def test_each_operation_matches_every_spec(operation_id: str) -> None:
    in_specs = _spec_operations()[operation_id]
    assert versions.versions_with(operation_id) == tuple(
        v for v in versions.API_VERSIONS if v in in_specs
    )
    for version in versions.API_VERSIONS:
        has = versions.supports(version, operation_id)
        assert has == (version in in_specs), version
        if not has:
            continue
        method, path, names = in_specs[version]  # type: ignore[misc]
        assert versions.operation(operation_id).method == method
        assert versions.path_for(version, operation_id) == path
        all_names = set(versions.operation(operation_id).parameter_since) | set(names)
        for name in all_names:
            assert versions.supports_parameter(version, operation_id, name) == (name in names), (
                version,
                name,
            )


def test_prefixes_capitalize_training_on_v2_only() -> None:
    assert versions.path_prefix("3.3") == "/customvision/v3.3/training"
    assert versions.path_prefix("3.4-preview") == "/customvision/v3.4-preview/training"
    assert versions.path_prefix("2.0") == "/customvision/v2.0/Training"
    assert versions.DEFAULT_API_VERSION == "3.3"


def test_first_version_with() -> None:
    assert versions.first_version_with("ImportProject") == "3.2"
    assert versions.first_version_with("PublishIteration") == "3.0"
    assert versions.first_version_with("GetImages") == "3.3"
    assert versions.first_version_with("CreateTag") == "2.0"
    assert versions.first_version_with("NoSuchOperation") is None


def test_require_names_the_version_that_has_the_operation() -> None:
    versions.require("3.3", "ImportProject")
    with pytest.raises(errors.UnsupportedOperation) as caught:
        versions.require("3.1", "ImportProject")
    text = str(caught.value)
    assert "3.1" in text and "3.2" in text and "customvision:apiVersion" in text
    assert caught.value.operation == "ImportProject"


def test_require_names_the_version_that_has_a_parameter() -> None:
    versions.require("3.3", "ImportProject", "name")
    with pytest.raises(errors.UnsupportedOperation, match=r"'name' of ImportProject.*3\.3"):
        versions.require("3.2", "ImportProject", "name")


def test_unknown_version_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"use one of 2\.0"):
        versions.supports("4.0", "GetProject")
