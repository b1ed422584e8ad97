"""API versions of the Custom Vision Training API and which operations each one has.

The table below is derived from the Swagger specs (``shared/specs``), which are not shipped
with the package; ``tests/rest/test_versions.py`` re-derives it from the specs and fails if
the two ever disagree. Every operation and every optional parameter of the specs is
available from some version onward and in all later versions, so one "since" version per
operation (and per parameter added later) describes the specs exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import UnsupportedOperation

API_VERSIONS: tuple[str, ...] = ("2.0", "2.1", "2.2", "3.0", "3.1", "3.2", "3.3", "3.4-preview")
"""Every selectable API version, oldest first."""

DEFAULT_API_VERSION = "3.3"
"""The version used when none is configured."""

_ORDER = {version: index for index, version in enumerate(API_VERSIONS)}


@dataclass(frozen=True)
class OperationSpec:
    """One operation of the Training API as the specs describe it.

    ``path`` is relative to the version's prefix (see :func:`path_prefix`).
    ``since`` is the first version that has the operation; ``parameter_since`` lists the
    parameters (by their spec name) that appeared in a later version than the operation.
    ``path_since`` lists a path that replaced an older one, keyed by the path, valued by
    the first version using it (only GetImageRegionProposals moved).
    """

    operation_id: str
    method: str
    path: str
    since: str
    parameter_since: Mapping[str, str] = field(default_factory=dict)
    path_since: Mapping[str, str] = field(default_factory=dict)


def _op(
    operation_id: str,
    method: str,
    path: str,
    since: str = "2.0",
    parameter_since: dict[str, str] | None = None,
    path_since: dict[str, str] | None = None,
) -> OperationSpec:
    return OperationSpec(
        operation_id,
        method,
        path,
        since,
        MappingProxyType(parameter_since or {}),
        MappingProxyType(path_since or {}),
    )


_P = "/projects/{projectId}"
_I = _P + "/iterations/{iterationId}"

# Derived from shared/specs/customvision-training-v*.json; tests/rest/test_versions.py checks it.
_TABLE = (
    _op("CreateImageRegions", "POST", _P + "/images/regions"),
    _op("CreateImageTags", "POST", _P + "/images/tags"),
    _op("CreateImagesFromData", "POST", _P + "/images"),
    _op("CreateImagesFromFiles", "POST", _P + "/images/files"),
    _op("CreateImagesFromPredictions", "POST", _P + "/images/predictions"),
    _op("CreateImagesFromUrls", "POST", _P + "/images/urls"),
    _op(
        "CreateProject",
        "POST",
        "/projects",
        parameter_since={
            "classificationType": "2.1",
            "targetExportPlatforms": "3.0",
            "options": "3.4-preview",
        },
    ),
    _op("CreateTag", "POST", _P + "/tags", parameter_since={"type": "2.2"}),
    _op("DeleteImageRegions", "DELETE", _P + "/images/regions"),
    _op("DeleteImageTags", "DELETE", _P + "/images/tags"),
    _op(
        "DeleteImages",
        "DELETE",
        _P + "/images",
        parameter_since={"allImages": "3.1", "allIterations": "3.1"},
    ),
    _op("DeleteIteration", "DELETE", _I),
    _op("DeletePrediction", "DELETE", _P + "/predictions"),
    _op("DeleteProject", "DELETE", _P),
    _op("DeleteTag", "DELETE", _P + "/tags/{tagId}"),
    _op("ExportIteration", "POST", _I + "/export"),
    _op("ExportProject", "GET", _P + "/export", since="3.2"),
    _op("GetArtifact", "GET", _P + "/artifacts", since="3.3"),
    _op("GetDomain", "GET", "/domains/{domainId}"),
    _op("GetDomains", "GET", "/domains"),
    _op("GetExports", "GET", _I + "/export"),
    _op("GetImageCount", "GET", _P + "/images/count", since="3.3"),
    _op("GetImagePerformanceCount", "GET", _I + "/performance/images/count"),
    _op("GetImagePerformances", "GET", _I + "/performance/images"),
    _op(
        "GetImageRegionProposals",
        "POST",
        _P + "/images/{imageId}/regionproposals",
        path_since={
            "/{projectId}/images/{imageId}/regionproposals": "2.0",
            _P + "/images/{imageId}/regionproposals": "3.0",
        },
    ),
    _op("GetImages", "GET", _P + "/images", since="3.3"),
    _op("GetImagesByIds", "GET", _P + "/images/id"),
    _op("GetIteration", "GET", _I),
    _op("GetIterationPerformance", "GET", _I + "/performance"),
    _op("GetIterations", "GET", _P + "/iterations"),
    _op("GetProject", "GET", _P),
    _op("GetProjects", "GET", "/projects"),
    _op("GetTag", "GET", _P + "/tags/{tagId}"),
    _op("GetTaggedImageCount", "GET", _P + "/images/tagged/count"),
    _op("GetTaggedImages", "GET", _P + "/images/tagged"),
    _op("GetTags", "GET", _P + "/tags"),
    _op("GetUntaggedImageCount", "GET", _P + "/images/untagged/count"),
    _op("GetUntaggedImages", "GET", _P + "/images/untagged"),
    _op("ImportProject", "POST", "/projects/import", since="3.2", parameter_since={"name": "3.3"}),
    _op(
        "PublishIteration",
        "POST",
        _I + "/publish",
        since="3.0",
        parameter_since={"overwrite": "3.3"},
    ),
    _op("QueryPredictions", "POST", _P + "/predictions/query"),
    _op("QuerySuggestedImageCount", "POST", _P + "/images/suggested/count", since="3.1"),
    _op("QuerySuggestedImages", "POST", _P + "/images/suggested", since="3.1"),
    _op("QuickTestImage", "POST", _P + "/quicktest/image", parameter_since={"store": "3.1"}),
    _op("QuickTestImageUrl", "POST", _P + "/quicktest/url", parameter_since={"store": "3.1"}),
    _op("SuggestTagsAndRegions", "POST", _P + "/tagsandregions/suggestions", since="3.1"),
    _op(
        "TrainProject",
        "POST",
        _P + "/train",
        parameter_since={
            "trainingType": "3.0",
            "reservedBudgetInHours": "3.0",
            "forceTrain": "3.0",
            "notificationEmailAddress": "3.0",
            "trainingParameters": "3.2",
        },
    ),
    _op("UnpublishIteration", "DELETE", _I + "/publish", since="3.0"),
    _op("UpdateImageMetadata", "POST", _P + "/images/metadata", since="3.3"),
    _op("UpdateIteration", "PATCH", _I),
    _op("UpdateProject", "PATCH", _P),
    _op("UpdateTag", "PATCH", _P + "/tags/{tagId}"),
)

OPERATIONS: Mapping[str, OperationSpec] = MappingProxyType({op.operation_id: op for op in _TABLE})
"""Every operation of every version, keyed by the specs' ``operationId``."""


def _check_version(api_version: str) -> int:
    try:
        return _ORDER[api_version]
    except KeyError:
        known = ", ".join(API_VERSIONS)
        raise ValueError(
            f"Unknown Custom Vision API version {api_version!r}; use one of {known}."
        ) from None


def _at_least(api_version: str, since: str) -> bool:
    return _check_version(api_version) >= _ORDER[since]


def operation(operation_id: str) -> OperationSpec:
    """Return the spec entry of ``operation_id`` (``KeyError`` names the unknown operation)."""
    try:
        return OPERATIONS[operation_id]
    except KeyError:
        raise KeyError(f"Unknown Custom Vision operation {operation_id!r}") from None


def path_prefix(api_version: str) -> str:
    """Return the URL path prefix of a version, e.g. ``/customvision/v3.3/training``.

    The v2.x APIs spell the last segment with a capital T (``/customvision/v2.0/Training``).
    """
    _check_version(api_version)
    segment = "Training" if api_version.startswith("2.") else "training"
    return f"/customvision/v{api_version}/{segment}"


def supports(api_version: str, operation_id: str) -> bool:
    """Tell whether ``api_version`` has the operation ``operation_id``."""
    return _at_least(api_version, operation(operation_id).since)


def first_version_with(operation_id: str) -> str | None:
    """Return the oldest version that has the operation, or ``None`` if no version has it."""
    spec = OPERATIONS.get(operation_id)
    return spec.since if spec else None


def versions_with(operation_id: str) -> tuple[str, ...]:
    """Return every version that has the operation, oldest first."""
    since = first_version_with(operation_id)
    if since is None:
        return ()
    return API_VERSIONS[_ORDER[since] :]


def supports_parameter(api_version: str, operation_id: str, parameter: str) -> bool:
    """Tell whether ``api_version`` accepts ``parameter`` (spec name) on the operation."""
    spec = operation(operation_id)
    return _at_least(api_version, spec.parameter_since.get(parameter, spec.since))


def require(api_version: str, operation_id: str, parameter: str | None = None) -> None:
    """Raise :class:`UnsupportedOperation` unless ``api_version`` has the operation.

    With ``parameter``, also require that the version accepts that parameter. The message
    names the first version that has what is missing, so the user knows what to configure.
    """
    spec = operation(operation_id)
    if not _at_least(api_version, spec.since):
        raise UnsupportedOperation.for_version(operation_id, api_version, spec.since)
    if parameter is not None and not supports_parameter(api_version, operation_id, parameter):
        raise UnsupportedOperation.for_version(
            operation_id, api_version, spec.parameter_since[parameter], parameter=parameter
        )


def path_for(api_version: str, operation_id: str) -> str:
    """Return the operation's path template (relative to the prefix) for ``api_version``."""
    spec = operation(operation_id)
    chosen = spec.path
    for path, since in sorted(spec.path_since.items(), key=lambda item: _ORDER[item[1]]):
        if _at_least(api_version, since):
            chosen = path
    return chosen
