"""``ImageRegions``: the bounding boxes of an object-detection project, managed as one set.

REST: CreateImageRegions (64 per call, several calls in flight within the rate limit),
DeleteImageRegions (64 ids per call), GetImagesByIds (256 images per call), GetTags (once,
to resolve tag names).

Canonical form
==============

The service stores coordinates as floats, so regions are compared in **millionths**:
every coordinate is rounded to the nearest ``1e-6`` (``round(value * 1_000_000)``). Keys,
duplicates, the ``revision`` hash and drift all use these integers, and the rounded values
are what is sent to the service. The rules of ``check`` (``0 <= coordinate <= 1``,
``left + width <= 1``, ``top + height <= 1``, ``width`` and ``height`` above 0, exactly one
of ``tag_id`` and ``tag_name``, no two identical regions) apply to the rounded values.

The set is sorted, so reordering the list is no change. ``check`` stores it compactly (the
inputs Pulumi keeps)::

    {"tags": [{"id": "<tag id>"}, {"name": "bolt"}],
     "images": {"<image id>": ["<tag index> <left> <top> <width> <height>", ...]}}

with coordinates in millionths. The outputs hold no copy of the regions: ``region_ids``
maps each image id to ``{region key: region id}``, where the region key is 8 characters of
the SHA-256 of the resolved tag id and the four coordinates, and the region id is the UUID's
16 bytes in URL-safe base64 (22 characters; :func:`full_id` turns it back into a UUID).
That is what delete (the ids), refresh (the images to read, and which region is which) and
update (the set difference, old keys against new) need. 10,000 regions on 2,000 images
take about 0.39 MB of inputs and 0.44 MB of outputs (compact JSON;
``benchmarks/image_regions.py`` measures it).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import itertools
import logging
import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any, NamedTuple, Protocol

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from ._batching import (
    CREATE_ROUNDS,
    ProjectWriter,
    Registrar,
    chunked,
    run_creates,
    run_deletes,
)
from ._config import Profile
from ._lifecycle import (
    Context,
    CustomVisionProvider,
    CustomVisionResource,
    ProviderError,
    ResourceArgs,
    UuidStr,
    _is_uuid,
    arg,
)
from ._rest import errors as rest_errors
from ._rest import models
from ._rest.client import MAX_REGIONS_PER_BATCH

log = logging.getLogger("pulumi_customvision")

MICRO = 1_000_000
"""Coordinates are compared in millionths: ``round(value * MICRO)``."""

MAX_REGIONS_PER_IMAGE = 300
"""The service's limit of regions on one image."""

_KEY_LENGTH = 8


def to_micro(value: float) -> int:
    """A coordinate in millionths, the canonical form used for keys, duplicates and drift."""
    return round(value * MICRO)


# --------------------------------------------------------------------------- inputs


@dataclasses.dataclass(frozen=True, kw_only=True)
class Region:
    """One bounding box on one image, labelled with one tag.

    Coordinates are fractions of the image's width and height, from its top-left corner;
    they are rounded to 6 decimals (millionths) for comparison. Give exactly one of
    ``tag_id`` and ``tag_name``. A plain dict with the same keys works too.

    Example::

        cv.Region(image_id=imgs.ids["bolt1.jpg"], tag_id=bolt.id,
                  left=0.1, top=0.2, width=0.3, height=0.3)
    """

    image_id: pulumi.Input[str]
    """Id of the image (e.g. from ``Images.ids``)."""
    left: pulumi.Input[float]
    """Distance of the box's left edge from the image's left edge, 0 to 1."""
    top: pulumi.Input[float]
    """Distance of the box's top edge from the image's top edge, 0 to 1."""
    width: pulumi.Input[float]
    """Width of the box, above 0; ``left + width`` is at most 1."""
    height: pulumi.Input[float]
    """Height of the box, above 0; ``top + height`` is at most 1."""
    tag_id: pulumi.Input[str] | None = None
    """Id of the region's tag (e.g. ``Tag.id``); or give ``tag_name``."""
    tag_name: pulumi.Input[str] | None = None
    """Name of the region's tag, resolved with GetTags at create and update; or ``tag_id``."""

    def as_input(self) -> dict[str, Any]:
        """The region as the dict the resource sends (``None`` fields left out)."""
        values = ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        return {name: value for name, value in values if value is not None}


@functools.lru_cache(maxsize=1 << 16)
def _uuid(value: str) -> str:
    """:data:`UuidStr`'s rule, remembered (a set repeats its image and tag ids)."""
    return _is_uuid(value)


_Id = Annotated[str, AfterValidator(_uuid)]


class RegionInput(BaseModel):
    """One region as ``check`` validates it (the form of :class:`Region`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    image_id: _Id = Field(description="Id of the image.")
    tag_id: _Id | None = Field(None, description="Id of the tag; or tag_name.")
    tag_name: str | None = Field(None, description="Name of the tag; or tag_id.")
    left: float = Field(ge=0, le=1, description="Left edge, 0 to 1.")
    top: float = Field(ge=0, le=1, description="Top edge, 0 to 1.")
    width: float = Field(ge=0, le=1, description="Width, above 0.")
    height: float = Field(ge=0, le=1, description="Height, above 0.")

    @model_validator(mode="after")
    def _consistent(self) -> RegionInput:
        if (self.tag_id is None) == (self.tag_name is None):
            raise ValueError("give exactly one of tag_id and tag_name")
        if self.tag_name is not None and not self.tag_name.strip():
            raise ValueError("tag_name must not be empty")
        # computed once, where the cached property would keep it
        self.__dict__["box"] = left, top, width, height = (
            round(self.left * MICRO),
            round(self.top * MICRO),
            round(self.width * MICRO),
            round(self.height * MICRO),
        )
        if width <= 0 or height <= 0:
            raise ValueError(
                "width and height must be above 0 (after rounding to 6 decimals), got "
                f"width={self.width}, height={self.height}"
            )
        if left + width > MICRO:
            raise ValueError(
                f"left + width is {self.left} + {self.width}, more than 1: the box leaves the image"
            )
        if top + height > MICRO:
            raise ValueError(
                f"top + height is {self.top} + {self.height}, more than 1: the box leaves the image"
            )
        return self

    @property
    def tag(self) -> tuple[str, str]:
        """``("id", tag id)`` or ``("name", tag name)``."""
        return ("id", self.tag_id) if self.tag_id is not None else ("name", self.tag_name or "")

    @functools.cached_property
    def box(self) -> tuple[int, int, int, int]:
        """``(left, top, width, height)`` in millionths."""
        return to_micro(self.left), to_micro(self.top), to_micro(self.width), to_micro(self.height)

    def sort_key(self) -> tuple[str, str, str, int, int, int, int]:
        """The canonical order (and identity) of a region."""
        return (self.image_id, *self.tag, *self.box)


def _expand_compact(value: Any) -> Any:
    """The compact form kept in state, back into a list of region dicts."""
    if not isinstance(value, Mapping) or "images" not in value:
        return value
    tags = value.get("tags") or []
    regions: list[dict[str, Any]] = []
    for image_id, lines in (value.get("images") or {}).items():
        for line in lines:
            index, left, top, width, height = (int(part) for part in str(line).split())
            tag = tags[index]
            regions.append(
                {
                    "image_id": image_id,
                    **({"tag_id": tag["id"]} if "id" in tag else {"tag_name": tag["name"]}),
                    "left": left / MICRO,
                    "top": top / MICRO,
                    "width": width / MICRO,
                    "height": height / MICRO,
                }
            )
    return regions


def compact(regions: Sequence[RegionInput]) -> dict[str, Any]:
    """The compact form of a canonical (sorted) region set, as ``check`` stores it."""
    tags = sorted({r.tag for r in regions})
    index = {tag: i for i, tag in enumerate(tags)}
    images: dict[str, list[str]] = {}
    for r in regions:
        left, top, width, height = r.box
        images.setdefault(r.image_id, []).append(f"{index[r.tag]} {left} {top} {width} {height}")
    return {"tags": [{kind: value} for kind, value in tags], "images": images}


def revision_of(regions: Sequence[RegionInput]) -> str:
    """A stable hash of a region set: same regions, same revision, whatever the order."""
    digest = hashlib.sha256()
    for r in regions:
        kind, tag = r.tag
        left, top, width, height = r.box
        digest.update(f"{r.image_id} {kind}:{tag} {left} {top} {width} {height}\n".encode())
    return digest.hexdigest()


class ImageRegionsArgs(ResourceArgs):
    """Inputs of :class:`ImageRegions`."""

    project_id: UuidStr = arg("Id of the project the images belong to.", replaces=True)
    regions: tuple[RegionInput, ...] = arg(
        "The regions, as Region objects or dicts with the same keys. Their order does not "
        "matter; coordinates are compared rounded to 6 decimals. Adding or removing regions "
        "updates in place: only the difference is sent.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_stored_form(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("regions"), Mapping):
            return {**data, "regions": _expand_compact(data["regions"])}
        if isinstance(data, Mapping) and isinstance(data.get("regions"), list | tuple):
            regions = [r.as_input() if isinstance(r, Region) else r for r in data["regions"]]
            return {**data, "regions": regions}
        return data

    @field_validator("regions")
    @classmethod
    def _canonical(cls, regions: tuple[RegionInput, ...]) -> tuple[RegionInput, ...]:
        keyed = sorted(((r.sort_key(), i) for i, r in enumerate(regions)), key=lambda p: p[0])
        duplicates = [
            f"regions.{later} is the same region as regions.{first}"
            for (key, first), (next_key, later) in itertools.pairwise(keyed)
            if key == next_key
        ]
        if duplicates:
            raise ValueError(
                "two identical regions (after rounding to 6 decimals): "
                + "; ".join(duplicates[:10])
                + ("; ..." if len(duplicates) > 10 else "")
                + ". Remove the repeats"
            )
        return tuple(regions[i] for _, i in keyed)

    @field_serializer("regions")
    def _stored_form(self, regions: tuple[RegionInput, ...]) -> dict[str, Any]:
        return compact(regions)


# --------------------------------------------------------------------------- the set


class Entry(NamedTuple):
    """A region with its tag resolved: what the service knows it by."""

    image_id: str
    tag_id: str
    left: int
    top: int
    width: int
    height: int

    @property
    def key(self) -> str:
        """The short key of the region among its image's regions (see the module docstring)."""
        return region_key(self.tag_id, self.left, self.top, self.width, self.height)

    def to_api(self) -> models.ImageRegionCreateEntry:
        """The CreateImageRegions entry (coordinates rounded to millionths)."""
        return models.ImageRegionCreateEntry(
            image_id=self.image_id,
            tag_id=self.tag_id,
            left=self.left / MICRO,
            top=self.top / MICRO,
            width=self.width / MICRO,
            height=self.height / MICRO,
        )


class _Placed(Protocol):
    @property
    def tag_id(self) -> str: ...
    @property
    def left(self) -> float: ...
    @property
    def top(self) -> float: ...
    @property
    def width(self) -> float: ...
    @property
    def height(self) -> float: ...


def region_key(tag_id: str, left: int, top: int, width: int, height: int) -> str:
    """8 characters (48 bits) of SHA-256 of a region's tag and coordinates in millionths."""
    text = f"{tag_id.lower()} {left} {top} {width} {height}".encode()
    return base64.urlsafe_b64encode(hashlib.sha256(text).digest())[:_KEY_LENGTH].decode()


def key_of(image_id: str, region: _Placed) -> tuple[str, str]:
    """``(image id, region key)`` of a region as the service returns it."""
    box = (to_micro(region.left), to_micro(region.top))
    size = (to_micro(region.width), to_micro(region.height))
    return image_id.lower(), region_key(region.tag_id, *box, *size)


Owned = dict[tuple[str, str], str]
"""``(image id, region key) -> region id``: the regions a resource owns."""


def short_id(region_id: str) -> str:
    """A region id as kept in state: the UUID's 16 bytes in URL-safe base64 (22 characters)."""
    return base64.urlsafe_b64encode(uuid.UUID(region_id).bytes).rstrip(b"=").decode()


def full_id(stored: str) -> str:
    """A region id from state (22-character short form, or a plain UUID) as a UUID string."""
    if len(stored) == 22:
        return str(uuid.UUID(bytes=base64.urlsafe_b64decode(stored + "==")))
    return str(uuid.UUID(stored))


def flatten(region_ids: Mapping[str, Mapping[str, str]] | None) -> Owned:
    """The ``region_ids`` output as a flat map (with full region ids)."""
    return {
        (image_id, key): full_id(rid)
        for image_id, regions in (region_ids or {}).items()
        for key, rid in regions.items()
    }


def nest(owned: Owned) -> dict[str, dict[str, str]]:
    """The flat map as the ``region_ids`` output: image id -> region key -> short region id."""
    nested: dict[str, dict[str, str]] = {}
    for (image_id, key), rid in sorted(owned.items()):
        nested.setdefault(image_id, {})[key] = short_id(rid)
    return nested


_UNREADABLE_ANSWERS = frozenset({"UnexpectedShape", "InvalidJson"})
"""``UnexpectedResponse`` codes of a *success* status whose body could not be read."""


@dataclasses.dataclass
class _Round:
    """The outcome of one round of CreateImageRegions calls."""

    created: Owned
    """Regions the answers list as created, with their ids."""
    adopt: list[Entry]
    """Regions the answers list as ``duplicated`` (already on the image)."""
    exceeded: list[Entry]
    """Regions that would take their image over the limit."""
    unclear: list[Entry]
    """Regions whose fate the answers do not tell: the call's answer was lost or could not
    be read, or it did not list them (or listed them as created without an id)."""
    reason: str = ""
    """Why some regions are unclear, for the message if they stay so."""


class RegionWriter(ProjectWriter):
    """Creates and deletes regions of one project in batches, concurrently."""

    def delete(self, region_ids: Iterable[str]) -> None:
        """DeleteImageRegions, 64 ids per call; regions already gone are not an error."""
        run_deletes(
            lambda batch: self.client.delete_image_regions(self.project_id, batch),
            region_ids,
            MAX_REGIONS_PER_BATCH,
        )

    def create(
        self,
        entries: Sequence[Entry],
        undo: Registrar,
        *,
        rounds: int = CREATE_ROUNDS,
        remaining_seconds: Callable[[], float] = lambda: math.inf,
    ) -> Owned:
        """Create ``entries``; return what they are now, owned by the caller.

        ``duplicated`` entries (already on the image) are adopted. Entries whose fate is
        unclear (the call's answer was lost or unreadable, or did not list them) are looked
        up (GetImagesByIds) and those still absent sent again, up to ``rounds`` sends in
        all and while ``remaining_seconds()`` (the operation's budget) is above 0. If any
        entry is ``exceeded`` (or a call fails), what this call created is undone through
        ``undo`` and the error raised.
        """
        owned: Owned = {}
        pending = list(entries)
        reason = ""
        sent = 0
        while pending:
            sent += 1
            outcome = self._send(pending, undo)
            owned.update(outcome.created)
            if outcome.exceeded:
                raise ProviderError(_exceeded_message(outcome.exceeded))
            if not outcome.adopt and not outcome.unclear:
                return owned
            found = self._find([*outcome.adopt, *outcome.unclear])
            missing = [e for e in outcome.adopt if (e.image_id, e.key) not in found]
            if missing:
                raise ProviderError(
                    f"the service reported {len(missing)} regions as already present but "
                    f"GetImagesByIds does not show them (e.g. on image {missing[0].image_id}); "
                    "run `pulumi up` again"
                )
            owned.update(found)
            keys = ((e.image_id, e.key) for e in outcome.unclear)
            made = [found[k] for k in keys if k in found]
            if made:
                undo.on_failure(
                    f"delete {len(made)} created regions", functools.partial(self.delete, made)
                )
            pending = [e for e in outcome.unclear if (e.image_id, e.key) not in found]
            reason = outcome.reason or reason
            if pending and (sent >= rounds or remaining_seconds() <= 0):
                break
            if pending:
                log.debug(
                    "%d regions were not created by round %d of CreateImageRegions (%s); "
                    "sending them again",
                    len(pending),
                    sent,
                    reason,
                )
        if not pending:
            return owned
        tried = f"{sent} times" if sent > 1 else "once"
        raise ProviderError(
            f"{len(pending)} regions could not be created: {tried} the service did not answer "
            f"clearly whether it had created them ({reason}); run `pulumi up` again"
        )

    def _create_batch(self, batch: Sequence[Entry]) -> models.ImageRegionCreateSummary:
        """One CreateImageRegions call. A success status with a body that cannot be read
        (not JSON, or not a summary) is an unclear answer: the service may have acted."""
        try:
            return self.client.create_image_regions(self.project_id, [e.to_api() for e in batch])
        except rest_errors.UnexpectedResponse as exc:
            if exc.code in _UNREADABLE_ANSWERS:
                exc.may_have_succeeded = True
            raise

    def _send(self, entries: Sequence[Entry], undo: Registrar) -> _Round:
        """One round of CreateImageRegions over ``entries``, 64 per call, concurrently."""
        outcome = run_creates(self._create_batch, chunked(entries, MAX_REGIONS_PER_BATCH))
        result = _Round({}, [], [], [])
        by_key = {(e.image_id, e.key): e for e in entries}
        silent = 0
        for batch, answer in outcome.answered:
            accounted: set[tuple[str, str]] = set()
            for region in answer.created:
                if region.region_id is not None:
                    key = key_of(region.image_id, region)
                    result.created[key] = region.region_id
                    accounted.add(key)
            for echo in answer.duplicated:
                key = key_of(echo.image_id, echo)
                result.adopt.append(by_key.get(key) or _entry(echo))
                accounted.add(key)
            for echo in answer.exceeded:
                key = key_of(echo.image_id, echo)
                result.exceeded.append(by_key.get(key) or _entry(echo))
                accounted.add(key)
            # A region the answer does not account for (or lists as created without its id)
            # may or may not exist: looked up, like a lost answer, never taken as done.
            unlisted = [e for e in batch if (e.image_id, e.key) not in accounted]
            result.unclear += unlisted
            silent += len(unlisted)
        if result.created:
            ids = list(result.created.values())
            undo.on_failure(f"delete {len(ids)} created regions", lambda: self.delete(ids))
        if outcome.failure is not None:
            raise outcome.failure
        result.unclear += [entry for batch in outcome.unclear for entry in batch]
        reasons = []
        if outcome.unclear:
            lost = outcome.unclear_errors[0] if outcome.unclear_errors else None
            detail = f": {lost.code}, {lost.message}" if lost is not None else ""
            reasons.append(f"{len(outcome.unclear)} calls got no usable answer{detail}")
        if silent:
            reasons.append(f"the answers did not list {silent} of the regions sent")
        result.reason = "; ".join(reasons)
        return result

    def _find(self, entries: Sequence[Entry]) -> Owned:
        """The region ids of ``entries`` that exist (GetImagesByIds), by key."""
        wanted = {(e.image_id, e.key) for e in entries}
        found: Owned = {}
        for image_id, image in self.existing(e.image_id for e in entries).items():
            for region in image.regions or []:
                key = key_of(image_id, region)
                if key in wanted:
                    found[key] = region.region_id
        return found


def _entry(region: _Placed | models.ImageRegionCreateEntry) -> Entry:
    image_id = getattr(region, "image_id", "")
    return Entry(
        image_id.lower(),
        region.tag_id.lower(),
        to_micro(region.left),
        to_micro(region.top),
        to_micro(region.width),
        to_micro(region.height),
    )


def _exceeded_message(exceeded: Sequence[Entry]) -> str:
    counts: dict[str, int] = {}
    for e in exceeded:
        counts[e.image_id] = counts.get(e.image_id, 0) + 1
    listed = ", ".join(f"{image} ({n} over)" for image, n in sorted(counts.items())[:20])
    more = f" and {len(counts) - 20} more" if len(counts) > 20 else ""
    return (
        f"{len(exceeded)} regions would take images over the service's limit of "
        f"{MAX_REGIONS_PER_IMAGE} regions per image: {listed}{more}. Nothing of this change "
        "was kept; remove regions from these images"
    )


# --------------------------------------------------------------------------- provider


class ImageRegionsProvider(CustomVisionProvider[ImageRegionsArgs]):
    """The REST steps of :class:`ImageRegions`."""

    args_model = ImageRegionsArgs
    kind = "image regions"

    def check_for(self, args: ImageRegionsArgs, profile: Profile) -> list[tuple[str, str]]:
        return self.requires(profile, "regions", "CreateImageRegions")

    def state_from_args(self, args: ImageRegionsArgs) -> dict[str, Any]:
        state: dict[str, Any] = {
            "project_id": args.project_id,
            "revision": revision_of(args.regions),
        }
        if args.profile is not None:
            state["profile"] = args.profile
        return state

    def on_create(self, ctx: Context, args: ImageRegionsArgs) -> tuple[str, dict[str, Any]]:
        desired = self._desired(ctx, args)
        writer = RegionWriter(ctx.client, args.project_id)
        owned = writer.create(
            list(desired.values()), ctx, remaining_seconds=lambda: ctx.remaining_seconds
        )
        return str(uuid.uuid4()), _outputs(owned)

    def on_update(
        self,
        ctx: Context,
        id_: str,
        olds: dict[str, Any],
        args: ImageRegionsArgs,
        changed: frozenset[str],
    ) -> dict[str, Any]:
        old = flatten(olds.get("region_ids"))
        desired = self._desired(ctx, args)
        writer = RegionWriter(ctx.client, args.project_id)
        writer.delete(rid for key, rid in old.items() if key not in desired)
        kept = {key: rid for key, rid in old.items() if key in desired}
        added = [e for k, e in desired.items() if k not in old]
        created = writer.create(added, ctx, remaining_seconds=lambda: ctx.remaining_seconds)
        return _outputs({**kept, **created})

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        old = flatten(olds.get("region_ids"))
        writer = RegionWriter(ctx.client, olds["project_id"])
        present: dict[str, tuple[str, str]] = {}
        for image_id, image in writer.existing(image for image, _ in old).items():
            for region in image.regions or []:
                present[region.region_id.lower()] = key_of(image_id, region)
        current = {key: rid for key, rid in old.items() if present.get(rid.lower()) == key}
        if current == old:
            return {"region_ids": nest(old), "count": len(old)}
        outputs = _outputs(current)
        # Not the declared set any more: a revision that differs makes the next up repair it.
        outputs["revision"] = hashlib.sha256(
            "\n".join(f"{i} {k} {r}" for (i, k), r in sorted(current.items())).encode()
        ).hexdigest()
        return outputs

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        writer = RegionWriter(ctx.client, olds["project_id"])
        writer.delete(flatten(olds.get("region_ids")).values())

    @staticmethod
    def _desired(ctx: Context, args: ImageRegionsArgs) -> dict[tuple[str, str], Entry]:
        """The declared set with tag names resolved (one GetTags, only if names are used)."""
        names = {r.tag_name for r in args.regions if r.tag_name is not None}
        tag_ids: dict[str, str] = {}
        if names:
            tags = ctx.client.get_tags(args.project_id)
            by_name = {t.name.casefold(): t.id.lower() for t in tags}
            unknown = sorted(n for n in names if n.casefold() not in by_name)
            if unknown:
                raise ProviderError(
                    f"the project has no tag named {', '.join(map(repr, unknown))}; create it "
                    "(cv.Tag) or use an existing tag's name or id"
                )
            tag_ids = {n: by_name[n.casefold()] for n in names}
        desired: dict[tuple[str, str], Entry] = {}
        for r in args.regions:
            tag_id = r.tag_id if r.tag_id is not None else tag_ids[r.tag_name or ""]
            entry = Entry(r.image_id, tag_id.lower(), *r.box)
            key = (entry.image_id, entry.key)
            if key in desired and desired[key] != entry:
                raise ProviderError(
                    f"two different regions on image {r.image_id} have the same short key "
                    f"{entry.key!r} (a 48-bit hash collision); move one of them by 1e-6"
                )
            if key in desired:
                raise ProviderError(
                    f"two regions on image {r.image_id} are the same once tag names are "
                    f"resolved (tag {tag_id}, box {r.left}, {r.top}, {r.width}, {r.height}); "
                    "remove one"
                )
            desired[key] = entry
        return desired


def _outputs(owned: Owned) -> dict[str, Any]:
    return {"region_ids": nest(owned), "count": len(owned)}


# --------------------------------------------------------------------------- resource


class ImageRegions(CustomVisionResource):
    """The bounding boxes of an object-detection project, managed as one set.

    Creating it resolves tag names (one GetTags) and sends CreateImageRegions in batches of
    64, several at a time within the account's rate limit. Regions the service already has
    are adopted; if a region would take an image over 300 regions, what the call created is
    undone and the images are named. Adding or removing regions sends only the difference;
    reordering the list is no change. Refresh reads the images (GetImagesByIds) and reports
    regions deleted out of band, which the next ``pulumi up`` puts back. Destroying it deletes
    the regions it owns. Coordinates are compared rounded to 6 decimals.

    ``revision`` is a hash of the region set: pass it as a trigger to retrain when labels change.

    Example::

        labels = cv.ImageRegions("labels", project_id=project.id, regions=[
            cv.Region(image_id=imgs.ids["bolt1.jpg"], tag_id=bolt.id,
                      left=0.1, top=0.2, width=0.3, height=0.3),
        ])
    """

    project_id: pulumi.Output[str]
    """Id of the project."""
    region_ids: pulumi.Output[dict[str, dict[str, str]]]
    """Image id -> region key -> region id (22-character base64 of the UUID), for every
    region this resource owns."""
    count: pulumi.Output[int]
    """Number of regions this resource owns."""
    revision: pulumi.Output[str]
    """A stable hash of the region set (order-independent); use it as a training trigger.

    It is computed from the regions as written, in millionths: the same set gives the same
    revision on every machine; naming a tag by ``tag_name`` instead of ``tag_id`` gives
    another revision. After a refresh that found regions missing it differs until the
    next ``pulumi up`` has put them back."""

    def __init__(
        self,
        resource_name: str,
        *,
        project_id: pulumi.Input[str],
        regions: pulumi.Input[Sequence[Region | Mapping[str, Any]]],
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of regions.

        Args:
            resource_name: The Pulumi name of this resource.
            project_id: Id of the project; changing it replaces the set.
            regions: The regions, as :class:`Region` objects or dicts with the same keys
                (``image_id``, ``tag_id`` or ``tag_name``, ``left``, ``top``, ``width``,
                ``height``). The order does not matter.
            profile: Account profile (``customvision:profiles.<name>``); unset: the default.
            opts: Pulumi resource options.
        """
        if isinstance(regions, list | tuple):
            regions = [r.as_input() if isinstance(r, Region) else r for r in regions]
        super().__init__(
            ImageRegionsProvider(),
            resource_name,
            {"project_id": project_id, "regions": regions, "profile": profile},
            outputs=("region_ids", "count", "revision"),
            opts=opts,
        )
