"""One handler per Training API operation, shared by every API version.

A handler only sees the parameters its version's spec declares (``parse_query``), so a
parameter a version lacks (``name`` on ImportProject before v3.3, ``overwrite`` on
PublishIteration before v3.3, ...) is ignored as the real service ignores unknown ones.
Version differences in bodies are read from the version's models (e.g. ``isDefault``
exists in the v2.x Iteration model only).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .errors import ApiError
from .store import ImageInput

if TYPE_CHECKING:
    from .app import Emulator

Json = dict[str, Any]


@dataclass
class Reply:
    """A successful answer; ``partial`` asks for 207 where the version has it."""

    status: int = 200
    body: Any = None
    partial: bool = False


@dataclass
class Ctx:
    """What a handler gets: the version, parameters and the emulator."""

    version: str
    operation: str
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    request: Request
    emulator: Emulator
    now: float

    def model(self, name: str) -> dict[str, Any]:
        """The properties of a model in this version."""
        return self.emulator.router.model(self.version, name)

    def json_body(self) -> Json:
        """The JSON body as an object (empty if absent)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise ApiError("BadRequest", "The request body must be a JSON object.")
        return self.body


Handler = Callable[[Ctx], "Reply | Awaitable[Reply]"]
HANDLERS: dict[str, Handler] = {}


def handles(*operations: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more operationIds."""

    def register(fn: Handler) -> Handler:
        for op in operations:
            HANDLERS[op] = fn
        return fn

    return register


def parse_query(spec: Json, items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The declared query parameters, typed; names match case-insensitively."""
    given: dict[str, list[str]] = {}
    for key, value in items:
        given.setdefault(key.lower(), []).append(value)
    out: dict[str, Any] = {}
    for p in spec["params"]:
        if p["in"] != "query" or p["name"].lower() not in given:
            continue
        values = given[p["name"].lower()]
        name, ptype = p["name"], p.get("type")
        if ptype == "array":
            items_ = [v.strip() for raw in values for v in raw.split(",") if v.strip()]
            if "maxItems" in p and len(items_) > p["maxItems"]:
                raise ApiError(
                    "BadRequestExceededBatchSize", f"{name} takes at most {p['maxItems']} items."
                )
            out[name] = items_
        elif ptype == "integer":
            try:
                out[name] = int(values[0])
            except ValueError:
                raise ApiError("BadRequest", f"{name} must be an integer.") from None
        elif ptype == "number":
            try:
                out[name] = float(values[0])
            except ValueError:
                raise ApiError("BadRequest", f"{name} must be a number.") from None
        elif ptype == "boolean":
            low = values[0].strip().lower()
            if low not in ("true", "false"):
                raise ApiError("BadRequest", f"{name} must be true or false.")
            out[name] = low == "true"
        else:
            out[name] = values[0]
    return out


# ---------------------------------------------------------------------- domains
@handles("GetDomains")
def get_domains(ctx: Ctx) -> Reply:
    """GetDomains."""
    return Reply(body=ctx.emulator.store.get_domains())


@handles("GetDomain")
def get_domain(ctx: Ctx) -> Reply:
    """GetDomain."""
    return Reply(body=ctx.emulator.store.get_domain(ctx.path["domainId"]))


# ---------------------------------------------------------------------- projects
@handles("CreateProject")
def create_project(ctx: Ctx) -> Reply:
    """CreateProject: everything in the query string (plus ``options`` body on 3.4-preview)."""
    q = ctx.query
    options = None
    if ctx.body is not None:
        body = ctx.json_body()
        options = {k: body.get(k) for k in ctx.model("CreateProjectOptions")}
    return Reply(
        body=ctx.emulator.store.create_project(
            ctx.now,
            q.get("name"),
            q.get("description"),
            q.get("domainId"),
            q.get("classificationType"),
            q.get("targetExportPlatforms"),
            options,
        )
    )


@handles("GetProject")
def get_project(ctx: Ctx) -> Reply:
    """GetProject."""
    return Reply(body=ctx.emulator.store.get_project(ctx.path["projectId"]))


@handles("GetProjects")
def get_projects(ctx: Ctx) -> Reply:
    """GetProjects."""
    return Reply(body=ctx.emulator.store.get_projects())


@handles("UpdateProject")
def update_project(ctx: Ctx) -> Reply:
    """UpdateProject."""
    return Reply(
        body=ctx.emulator.store.update_project(ctx.now, ctx.path["projectId"], ctx.json_body())
    )


@handles("DeleteProject")
def delete_project(ctx: Ctx) -> Reply:
    """DeleteProject."""
    ctx.emulator.store.delete_project(ctx.path["projectId"])
    return Reply(status=204)


@handles("ExportProject")
def export_project(ctx: Ctx) -> Reply:
    """ExportProject."""
    ttl = ctx.emulator.settings.export_token_ttl_seconds
    return Reply(body=ctx.emulator.store.export_project(ctx.now, ctx.path["projectId"], ttl))


@handles("ImportProject")
def import_project(ctx: Ctx) -> Reply:
    """ImportProject (``name`` from v3.3)."""
    return Reply(
        body=ctx.emulator.store.import_project(
            ctx.now,
            ctx.query.get("token"),
            ctx.query.get("name"),
            ctx.emulator.settings.import_seconds,
        )
    )


# ---------------------------------------------------------------------- tags
@handles("CreateTag")
def create_tag(ctx: Ctx) -> Reply:
    """CreateTag (``type`` from v2.2)."""
    q = ctx.query
    return Reply(
        body=ctx.emulator.store.create_tag(
            ctx.now, ctx.path["projectId"], q.get("name"), q.get("description"), q.get("type")
        )
    )


@handles("GetTag")
def get_tag(ctx: Ctx) -> Reply:
    """GetTag."""
    return Reply(body=ctx.emulator.store.get_tag(ctx.path["projectId"], ctx.path["tagId"]))


@handles("GetTags")
def get_tags(ctx: Ctx) -> Reply:
    """GetTags."""
    return Reply(body=ctx.emulator.store.get_tags(ctx.path["projectId"]))


@handles("UpdateTag")
def update_tag(ctx: Ctx) -> Reply:
    """UpdateTag."""
    body = ctx.json_body()
    patch = {k: body.get(k) for k in ctx.model("Tag") if k in body}
    return Reply(
        body=ctx.emulator.store.update_tag(ctx.now, ctx.path["projectId"], ctx.path["tagId"], patch)
    )


@handles("DeleteTag")
def delete_tag(ctx: Ctx) -> Reply:
    """DeleteTag."""
    ctx.emulator.store.delete_tag(ctx.now, ctx.path["projectId"], ctx.path["tagId"])
    return Reply(status=204)


# ---------------------------------------------------------------------- iterations
@handles("GetIterations")
def get_iterations(ctx: Ctx) -> Reply:
    """GetIterations."""
    return Reply(body=ctx.emulator.store.get_iterations(ctx.path["projectId"]))


@handles("GetIteration")
def get_iteration(ctx: Ctx) -> Reply:
    """GetIteration."""
    return Reply(
        body=ctx.emulator.store.get_iteration(ctx.path["projectId"], ctx.path["iterationId"])
    )


@handles("UpdateIteration")
def update_iteration(ctx: Ctx) -> Reply:
    """UpdateIteration: ``name``; ``isDefault`` only where the version's Iteration has it."""
    body = ctx.json_body()
    is_default = body.get("isDefault") if "isDefault" in ctx.model("Iteration") else None
    return Reply(
        body=ctx.emulator.store.update_iteration(
            ctx.now, ctx.path["projectId"], ctx.path["iterationId"], body.get("name"), is_default
        )
    )


@handles("DeleteIteration")
def delete_iteration(ctx: Ctx) -> Reply:
    """DeleteIteration."""
    ctx.emulator.store.delete_iteration(ctx.path["projectId"], ctx.path["iterationId"])
    return Reply(status=204)


@handles("PublishIteration")
def publish_iteration(ctx: Ctx) -> Reply:
    """PublishIteration (``overwrite`` from v3.3)."""
    q = ctx.query
    return Reply(
        body=ctx.emulator.store.publish_iteration(
            ctx.now,
            ctx.path["projectId"],
            ctx.path["iterationId"],
            q.get("publishName"),
            q.get("predictionId"),
            q.get("overwrite"),
        )
    )


@handles("UnpublishIteration")
def unpublish_iteration(ctx: Ctx) -> Reply:
    """UnpublishIteration."""
    ctx.emulator.store.unpublish_iteration(ctx.now, ctx.path["projectId"], ctx.path["iterationId"])
    return Reply(status=204)


@handles("TrainProject")
def train_project(ctx: Ctx) -> Reply:
    """TrainProject (query options from v3.0, ``selectedTags`` body from v3.2)."""
    q = ctx.query
    selected = ctx.json_body().get("selectedTags") if ctx.body is not None else None
    if selected is not None and not isinstance(selected, list):
        raise ApiError("BadRequest", "selectedTags must be a list of tag ids.")
    return Reply(
        body=ctx.emulator.store.train_project(
            ctx.now,
            ctx.path["projectId"],
            ctx.emulator.settings.training_seconds,
            training_type=q.get("trainingType"),
            reserved_budget=q.get("reservedBudgetInHours"),
            force=q.get("forceTrain"),
            email=q.get("notificationEmailAddress"),
            selected_tags=selected,
        )
    )


# ---------------------------------------------------------------------- images
_DISPOSITION_NAME = re.compile(rb'filename="?([^";\r\n]*)"?', re.IGNORECASE)


def _multipart(body: bytes, content_type: str) -> list[tuple[str | None, bytes]]:
    """The (filename, bytes) of every part of a multipart body, byte-exact."""
    found = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    if not found:
        raise ApiError("BadRequestImageStream", "The multipart body has no boundary.")
    delimiter = b"--" + found.group(1).encode("latin-1")
    parts: list[tuple[str | None, bytes]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = _DISPOSITION_NAME.search(head)
        parts.append((name.group(1).decode("utf-8", "replace") if name else None, data))
    return parts


async def _image_data(ctx: Ctx) -> Reply:
    content_type = ctx.request.headers.get("content-type", "")
    raw = await ctx.request.body()
    if content_type.lower().startswith("multipart/"):
        inputs = [
            ImageInput(source=f'"{name}"' if name else None, data=data)
            for name, data in _multipart(raw, content_type)
        ]
    elif content_type.lower().startswith("application/octet-stream") or raw:
        inputs = [ImageInput(source=None, data=raw)]
    else:
        inputs = []
    summary, ok = ctx.emulator.store.create_images(
        ctx.now, ctx.path["projectId"], inputs, ctx.query.get("tagIds"), None
    )
    return Reply(body=summary, partial=not ok)


@handles("CreateImagesFromData")
def create_images_from_data(ctx: Ctx) -> Awaitable[Reply]:
    """CreateImagesFromData: multipart/form-data (one or more parts) or octet-stream."""
    return _image_data(ctx)


def _batch(ctx: Ctx, model: str) -> tuple[list[Json], list[str] | None, Json | None]:
    body = ctx.json_body()
    images = body.get("images")
    if not isinstance(images, list):
        raise ApiError("BadRequestImageBatch", "The batch needs an 'images' list.")
    # metadata exists in the batch models from v3.3 only.
    metadata = body.get("metadata") if "metadata" in ctx.model(model) else None
    return [i if isinstance(i, dict) else {} for i in images], body.get("tagIds"), metadata


@handles("CreateImagesFromFiles")
def create_images_from_files(ctx: Ctx) -> Reply:
    """CreateImagesFromFiles: base64 ``contents`` per entry."""
    entries, tags, metadata = _batch(ctx, "ImageFileCreateBatch")
    inputs = []
    for e in entries:
        try:
            data = base64.b64decode(e.get("contents") or "", validate=True)
        except (binascii.Error, ValueError):
            data = b""
        inputs.append(
            ImageInput(
                source=e.get("name"),
                data=data,
                tag_ids=e.get("tagIds") or [],
                regions=e.get("regions") or [],
            )
        )
    summary, ok = ctx.emulator.store.create_images(
        ctx.now, ctx.path["projectId"], inputs, tags, metadata
    )
    return Reply(body=summary, partial=not ok)


@handles("CreateImagesFromUrls")
def create_images_from_urls(ctx: Ctx) -> Reply:
    """CreateImagesFromUrls (the emulator does not download: see docs/emulator.md)."""
    entries, tags, metadata = _batch(ctx, "ImageUrlCreateBatch")
    inputs = [
        ImageInput(
            source=e.get("url"),
            url=str(e.get("url") or ""),
            tag_ids=e.get("tagIds") or [],
            regions=e.get("regions") or [],
        )
        for e in entries
    ]
    summary, ok = ctx.emulator.store.create_images(
        ctx.now, ctx.path["projectId"], inputs, tags, metadata
    )
    return Reply(body=summary, partial=not ok)


@handles("GetImagesByIds")
def get_images_by_ids(ctx: Ctx) -> Reply:
    """GetImagesByIds."""
    return Reply(
        body=ctx.emulator.store.get_images_by_ids(
            ctx.path["projectId"], ctx.query.get("imageIds") or []
        )
    )


_TAGGING = {"GetImages": None, "GetTaggedImages": "Tagged", "GetUntaggedImages": "Untagged"}


@handles("GetImages", "GetTaggedImages", "GetUntaggedImages")
def get_images(ctx: Ctx) -> Reply:
    """GetImages (taggingStatus), GetTaggedImages and GetUntaggedImages: one query."""
    q = ctx.query
    tagging = _TAGGING[ctx.operation] or q.get("taggingStatus") or "All"
    return Reply(
        body=ctx.emulator.store.query_images(
            ctx.path["projectId"],
            tagging,
            q.get("tagIds"),
            q.get("orderBy"),
            q.get("take"),
            q.get("skip"),
        )
    )


_COUNTING = {
    "GetImageCount": None,
    "GetTaggedImageCount": "Tagged",
    "GetUntaggedImageCount": "Untagged",
}


@handles("GetImageCount", "GetTaggedImageCount", "GetUntaggedImageCount")
def count_images(ctx: Ctx) -> Reply:
    """The three image counts."""
    q = ctx.query
    tagging = _COUNTING[ctx.operation] or q.get("taggingStatus") or "All"
    return Reply(
        body=ctx.emulator.store.count_images(ctx.path["projectId"], tagging, q.get("tagIds"))
    )


@handles("DeleteImages")
def delete_images(ctx: Ctx) -> Reply:
    """DeleteImages: 204; 202 when all images go (the service deletes those in background)."""
    all_images = bool(ctx.query.get("allImages"))
    ctx.emulator.store.delete_images(
        ctx.now, ctx.path["projectId"], ctx.query.get("imageIds"), all_images
    )
    return Reply(status=202 if all_images else 204)


# ---------------------------------------------------------------------- regions and image tags
@handles("CreateImageRegions")
def create_image_regions(ctx: Ctx) -> Reply:
    """CreateImageRegions: 207 (where the version has it) if some were not created."""
    summary, ok = ctx.emulator.store.create_regions(
        ctx.now, ctx.path["projectId"], ctx.json_body().get("regions")
    )
    return Reply(body=summary, partial=not ok)


@handles("DeleteImageRegions")
def delete_image_regions(ctx: Ctx) -> Reply:
    """DeleteImageRegions."""
    ctx.emulator.store.delete_regions(
        ctx.now, ctx.path["projectId"], ctx.query.get("regionIds") or []
    )
    return Reply(status=204)


@handles("CreateImageTags")
def create_image_tags(ctx: Ctx) -> Reply:
    """CreateImageTags."""
    return Reply(
        body=ctx.emulator.store.create_image_tags(
            ctx.now, ctx.path["projectId"], ctx.json_body().get("tags")
        )
    )


@handles("DeleteImageTags")
def delete_image_tags(ctx: Ctx) -> Reply:
    """DeleteImageTags."""
    ctx.emulator.store.delete_image_tags(
        ctx.now,
        ctx.path["projectId"],
        ctx.query.get("imageIds") or [],
        ctx.query.get("tagIds") or [],
    )
    return Reply(status=204)


# ---------------------------------------------------------------------- extras
@handles("GetIterationPerformance")
def get_iteration_performance(ctx: Ctx) -> Reply:
    """GetIterationPerformance (fixed figures)."""
    return Reply(
        body=ctx.emulator.store.iteration_performance(
            ctx.path["projectId"], ctx.path["iterationId"]
        )
    )


@handles("GetImageRegionProposals")
def get_image_region_proposals(ctx: Ctx) -> Reply:
    """GetImageRegionProposals (one fixed proposal)."""
    return Reply(
        body=ctx.emulator.store.region_proposals(ctx.path["projectId"], ctx.path["imageId"])
    )


@handles("UpdateImageMetadata")
def update_image_metadata(ctx: Ctx) -> Reply:
    """UpdateImageMetadata (v3.3+)."""
    summary, ok = ctx.emulator.store.update_image_metadata(
        ctx.path["projectId"], ctx.query.get("imageIds") or [], ctx.body
    )
    return Reply(body=summary, partial=not ok)
