"""Pydantic models of every payload the client sends to or reads from the Training API.

Python names are snake_case; the JSON names (camelCase, as in the specs) are aliases, so
``model_validate(json)`` reads service bodies and ``model_dump(by_alias=True)`` writes them.

Response models ignore fields they do not know (the service adds fields over time) but
require what the provider relies on (``id`` and ``name`` of projects, iterations, tags,
``id`` of images, the region geometry): a body without them, or with values of the wrong
type, fails validation and the client raises ``UnexpectedResponse`` instead of recording
wrong state. Ids the resources keep (of projects, iterations, tags, images, regions) are
:data:`Uuid`: the spec's ``format: uuid``, checked and normalized to lower case, so that an
answer whose "id" is not an id (``"../../etc/passwd"``) never reaches a stack's state.
Enumerations the service may extend (statuses, domain types, export platforms) are plain
strings; the known values are listed as constants.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "CLASSIFICATION_TYPES",
    "EXPORT_PLATFORMS",
    "IMAGE_CREATE_STATUSES",
    "ITERATION_STATUSES",
    "PROJECT_STATUSES",
    "TAG_TYPES",
    "TRAINING_TYPES",
    "CreateProjectOptions",
    "Domain",
    "Image",
    "ImageCreateResult",
    "ImageCreateSummary",
    "ImageFileCreateBatch",
    "ImageFileCreateEntry",
    "ImageProcessingSettings",
    "ImageRegion",
    "ImageRegionCreateBatch",
    "ImageRegionCreateEntry",
    "ImageRegionCreateResult",
    "ImageRegionCreateSummary",
    "ImageTag",
    "ImageTagCreateBatch",
    "ImageTagCreateEntry",
    "ImageTagCreateSummary",
    "ImageUrlCreateBatch",
    "ImageUrlCreateEntry",
    "Iteration",
    "IterationUpdate",
    "Project",
    "ProjectExport",
    "ProjectSettings",
    "ProjectUpdate",
    "Region",
    "Tag",
    "TagUpdate",
    "TrainingParameters",
    "Uuid",
]

PROJECT_STATUSES = ("Succeeded", "Importing", "Failed")
ITERATION_STATUSES = ("Training", "Completed", "Failed")
CLASSIFICATION_TYPES = ("Multiclass", "Multilabel")
TAG_TYPES = ("Regular", "Negative", "GeneralProduct")
TRAINING_TYPES = ("Regular", "Advanced")
EXPORT_PLATFORMS = ("CoreML", "TensorFlow", "DockerFile", "ONNX", "VAIDK", "OpenVino")
IMAGE_CREATE_STATUSES = (
    "OK",
    "OKDuplicate",
    "ErrorSource",
    "ErrorImageFormat",
    "ErrorImageSize",
    "ErrorStorage",
    "ErrorLimitExceed",
    "ErrorTagLimitExceed",
    "ErrorRegionLimitExceed",
    "ErrorUnknown",
    "ErrorNegativeAndRegularTagOnSameImage",
)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


@functools.lru_cache(maxsize=1 << 16)
def _uuid(value: str) -> str:
    """A Custom Vision id in its canonical form (lower case), or ``ValueError``.

    Only the form the service writes is accepted (8-4-4-4-12 hexadecimal digits), not the
    other spellings ``uuid.UUID`` parses (braces, ``urn:uuid:``, no hyphens). The message
    does not repeat the value: it ends up in error messages, and the value is whatever an
    endpoint sent. Remembered: an answer repeats its image and tag ids.
    """
    if not _UUID.fullmatch(value):
        raise ValueError("not an id: Custom Vision ids are UUIDs (8-4-4-4-12 hex digits)")
    return value.lower()


Uuid = Annotated[str, AfterValidator(_uuid)]
"""A Custom Vision id (``format: uuid`` in the spec): a ``str`` in lower case with hyphens."""


class ApiModel(BaseModel):
    """Base of every payload: camelCase aliases, snake_case names, unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=False,
    )

    def to_api(self) -> dict[str, Any]:
        """Return the JSON body the service expects (camelCase, unset ``None`` fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class _NullListsAsEmpty(ApiModel):
    """Reads ``null`` list fields (the spec marks them nullable) as empty lists."""

    @field_validator("*", mode="before")
    @classmethod
    def _null_as_empty(cls, value: Any) -> Any:
        return [] if value is None else value


# --- domains, projects ----------------------------------------------------------------------


class Domain(ApiModel):
    """A training domain (GetDomains/GetDomain)."""

    id: str
    name: str | None = None
    type: str | None = None
    exportable: bool | None = None
    enabled: bool | None = None
    exportable_platforms: list[str] | None = None


class ImageProcessingSettings(ApiModel):
    """Image preprocessing settings of a project (v3.2+)."""

    augmentation_methods: dict[str, bool] | None = None


class ProjectSettings(ApiModel):
    """The settings of a project (domain, classification type, export platforms...)."""

    domain_id: Uuid | None = None
    classification_type: str | None = None
    target_export_platforms: list[str] | None = None
    use_negative_set: bool | None = None
    detection_parameters: str | None = None
    image_processing_settings: ImageProcessingSettings | None = None
    export_model_container_uri: str | None = None
    notification_queue_uri: str | None = None


class Project(ApiModel):
    """A project (CreateProject, GetProject(s), UpdateProject, ImportProject)."""

    id: Uuid
    name: str
    description: str | None = None
    settings: ProjectSettings | None = None
    created: datetime | None = None
    last_modified: datetime | None = None
    thumbnail_uri: str | None = None
    dr_mode_enabled: bool | None = None
    status: str | None = None
    """``Succeeded``, ``Importing`` or ``Failed`` (v3.2+; older versions omit it)."""


class ProjectUpdate(ApiModel):
    """The writable fields of a project, for UpdateProject (only the fields set are sent)."""

    name: str | None = None
    description: str | None = None
    settings: ProjectSettings | None = None


class CreateProjectOptions(ApiModel):
    """Optional body of CreateProject (v3.4-preview)."""

    export_model_container_uri: str | None = None
    notification_queue_uri: str | None = None


class ProjectExport(ApiModel):
    """The result of ExportProject; ``token`` is a secret that ImportProject accepts."""

    iteration_count: int | None = None
    image_count: int | None = None
    tag_count: int | None = None
    region_count: int | None = None
    estimated_import_time_in_ms: int | None = Field(default=None, alias="estimatedImportTimeInMS")
    token: str

    def __repr__(self) -> str:
        return (
            f"ProjectExport(iteration_count={self.iteration_count}, image_count="
            f"{self.image_count}, tag_count={self.tag_count}, token='***')"
        )


# --- iterations, training -------------------------------------------------------------------


class Iteration(ApiModel):
    """An iteration (a trained or training model of a project)."""

    id: Uuid
    name: str
    status: str | None = None
    """``Training``, ``Completed`` or ``Failed`` (the service may add others)."""
    is_default: bool | None = None
    """Only on API v2.x."""
    created: datetime | None = None
    last_modified: datetime | None = None
    trained_at: datetime | None = None
    project_id: str | None = None
    exportable: bool | None = None
    exportable_to: list[str] | None = None
    domain_id: str | None = None
    classification_type: str | None = None
    training_type: str | None = None
    reserved_budget_in_hours: int | None = None
    training_time_in_minutes: int | None = None
    publish_name: str | None = None
    original_publish_resource_id: str | None = None
    training_error_details: str | None = None


class IterationUpdate(ApiModel):
    """The body of UpdateIteration: ``name``, plus ``isDefault`` on API v2.x only."""

    name: str | None = None
    is_default: bool | None = None


class TrainingParameters(ApiModel):
    """The optional body of TrainProject (v3.2+): which tags to train on."""

    selected_tags: list[str] | None = None


# --- tags -----------------------------------------------------------------------------------


class Tag(ApiModel):
    """A tag of a project."""

    id: Uuid
    name: str
    description: str | None = None
    type: str | None = None
    """``Regular``, ``Negative`` or ``GeneralProduct`` (v2.2+)."""
    image_count: int | None = None


class TagUpdate(ApiModel):
    """The writable fields of a tag, for UpdateTag (only the fields set are sent)."""

    name: str | None = None
    description: str | None = None
    type: str | None = None


# --- images ---------------------------------------------------------------------------------


class Region(ApiModel):
    """A region to create together with an image (normalized coordinates 0..1)."""

    tag_id: Uuid
    left: float
    top: float
    width: float
    height: float


class ImageTag(ApiModel):
    """A tag applied to an image."""

    tag_id: Uuid
    tag_name: str | None = None
    created: datetime | None = None


class ImageRegion(ApiModel):
    """A tagged region of an image."""

    region_id: Uuid
    tag_id: Uuid
    tag_name: str | None = None
    created: datetime | None = None
    left: float
    top: float
    width: float
    height: float


class Image(ApiModel):
    """An image of a project, with its tags and regions."""

    id: Uuid
    created: datetime | None = None
    width: int | None = None
    height: int | None = None
    resized_image_uri: str | None = None
    thumbnail_uri: str | None = None
    original_image_uri: str | None = None
    tags: list[ImageTag] | None = None
    regions: list[ImageRegion] | None = None
    metadata: dict[str, str] | None = None


class ImageUrlCreateEntry(ApiModel):
    """One image to add by URL."""

    url: str
    tag_ids: list[str] | None = None
    regions: list[Region] | None = None


class ImageUrlCreateBatch(ApiModel):
    """The body of CreateImagesFromUrls (at most 64 images)."""

    images: list[ImageUrlCreateEntry]
    tag_ids: list[str] | None = None
    metadata: dict[str, str] | None = None


class ImageFileCreateEntry(ApiModel):
    """One image to add from bytes (``contents`` is sent base64-encoded)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    name: str | None = None
    contents: bytes
    tag_ids: list[str] | None = None
    regions: list[Region] | None = None


class ImageFileCreateBatch(ApiModel):
    """The body of CreateImagesFromFiles (at most 64 images)."""

    images: list[ImageFileCreateEntry]
    tag_ids: list[str] | None = None
    metadata: dict[str, str] | None = None


class ImageCreateResult(ApiModel):
    """The outcome for one image of a create call (``status`` ``OK``/``OKDuplicate``/``Error*``)."""

    source_url: str | None = None
    status: str
    image: Image | None = None


class ImageCreateSummary(_NullListsAsEmpty):
    """The result of CreateImagesFromUrls/Data/Files."""

    is_batch_successful: bool
    images: list[ImageCreateResult] = Field(default_factory=list)


class ImageRegionCreateEntry(ApiModel):
    """One region to create on an image (normalized coordinates 0..1)."""

    image_id: Uuid
    tag_id: Uuid
    left: float
    top: float
    width: float
    height: float


class ImageRegionCreateBatch(ApiModel):
    """The body of CreateImageRegions (at most 64 regions)."""

    regions: list[ImageRegionCreateEntry]


class ImageRegionCreateResult(ApiModel):
    """A region that CreateImageRegions created."""

    image_id: Uuid
    region_id: Uuid | None = None
    tag_name: str | None = None
    created: datetime | None = None
    tag_id: Uuid
    left: float
    top: float
    width: float
    height: float


class ImageRegionCreateSummary(_NullListsAsEmpty):
    """The result of CreateImageRegions: ``created``, ``duplicated`` (already there) and
    ``exceeded`` (over the per-image limit) entries.

    The three fields are required (``null`` reads as an empty list): every example of the
    specs and the recorded answers have all three, and a body without them (``{}``) says
    nothing about what was done, so it is an ``UnexpectedResponse``, not "nothing created".
    """

    created: list[ImageRegionCreateResult]
    duplicated: list[ImageRegionCreateEntry]
    exceeded: list[ImageRegionCreateEntry]


class ImageTagCreateEntry(ApiModel):
    """One (image, tag) pair for CreateImageTags."""

    image_id: Uuid
    tag_id: Uuid


class ImageTagCreateBatch(ApiModel):
    """The body of CreateImageTags (at most 128 pairs)."""

    tags: list[ImageTagCreateEntry]


class ImageTagCreateSummary(_NullListsAsEmpty):
    """The result of CreateImageTags."""

    created: list[ImageTagCreateEntry] = Field(default_factory=list)
    duplicated: list[ImageTagCreateEntry] = Field(default_factory=list)
    exceeded: list[ImageTagCreateEntry] = Field(default_factory=list)
