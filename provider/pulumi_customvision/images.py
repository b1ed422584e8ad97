"""``Images``: the training images of a project, from URLs and local files, as one set.

REST: CreateImagesFromUrls and CreateImagesFromData (64 images per call, several calls in
flight within the rate limit), DeleteImages (256 ids per call), GetImagesByIds (256 per
call), CreateImageTags / DeleteImageTags when ``tag_ids`` change.

State: ``ids`` maps each source (the URL, or the file path as written) to its image id and
``file_hashes`` each file to the SHA-256 of its content; ``revision`` is a hash of the
sources and file contents, which is what ``diff`` compares, so the URL list is not kept
twice. A file whose content changes gets a new revision, and the update re-uploads it; a
file that only moved (same content under another path, e.g. another checkout directory)
keeps its image and is not uploaded again.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import field_validator

from ._batching import (
    CREATE_ROUNDS,
    ProjectWriter,
    Registrar,
    chunked,
    run_batches,
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
    arg,
)
from ._rest import TrainingClient, models
from ._rest.client import MAX_IDS_PER_GET, MAX_IMAGE_TAGS_PER_BATCH, MAX_IMAGES_PER_BATCH

MAX_FILE_BYTES = 6 * 1024 * 1024
"""The service refuses images larger than 6 MB."""

MAX_UPLOAD_BYTES = 32 * 1024 * 1024
"""Files are uploaded at most 64 and at most this many bytes per CreateImagesFromData call."""

UNTAG_IMAGES_PER_CALL, UNTAG_TAGS_PER_CALL = 64, 20
"""DeleteImageTags takes at most 64 image ids and 20 tag ids (the client checks the same)."""

_FORMATS = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
_URL = re.compile(r"^https?://[^\s/]+\S*$", re.IGNORECASE)
_OK = ("OK", "OKDuplicate")


def image_format(head: bytes) -> str | None:
    """``"JPEG"``, ``"PNG"``, ``"GIF"`` or ``"BMP"`` from a file's first bytes, else ``None``."""
    return next((name for magic, name in _FORMATS if head.startswith(magic)), None)


def file_problem(path: str) -> str | None:
    """Why ``path`` cannot be uploaded (naming it), or ``None`` if it can."""
    if os.path.isdir(path):
        return f"{path!r} is a directory; list the image files in it"
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        return (
            f"cannot read {path!r} ({exc.strerror or exc}); check the path (relative paths "
            "start in the project directory)"
        )
    if size > MAX_FILE_BYTES:
        return f"{path!r} is {size / 1024 / 1024:.1f} MB; Custom Vision accepts images up to 6 MB"
    if size == 0:
        return f"{path!r} is empty"
    if image_format(head) is None:
        return f"{path!r} is not a JPEG, PNG, GIF or BMP image, the formats Custom Vision accepts"
    return None


class _HashCache:
    """SHA-256 of files, kept while a file's size and modification time stay the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[int, int, str]] = {}

    def digest(self, path: str) -> str:
        stat = os.stat(path)
        with self._lock:
            known = self._known.get(path)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            return known[2]
        with open(path, "rb") as handle:
            value = hashlib.sha256(handle.read()).hexdigest()
        with self._lock:
            self._known[path] = (stat.st_size, stat.st_mtime_ns, value)
        return value


_hashes = _HashCache()


class ImagesArgs(ResourceArgs):
    """Inputs of :class:`Images`."""

    project_id: UuidStr = arg("Id of the project the images belong to.", replaces=True)
    urls: tuple[str, ...] = arg(
        "Public http(s) URLs of images (JPEG, PNG, GIF or BMP, up to 6 MB) for the service "
        "to download. Adding or removing URLs updates in place.",
        default=(),
    )
    files: tuple[str, ...] = arg(
        "Paths of local image files (JPEG, PNG, GIF or BMP, up to 6 MB), uploaded as bytes; "
        "relative paths start in the project directory. A file whose content changes is "
        "uploaded again.",
        default=(),
    )
    tag_ids: tuple[UuidStr, ...] = arg(
        "Ids of tags every image gets (e.g. for classification projects). Changing them "
        "re-tags the images in place.",
        default=(),
    )

    @field_validator("urls")
    @classmethod
    def _urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        bad = [u for u in urls if not _URL.match(u)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an http(s) URL")
        return _sorted_unique(urls, "URL")

    @field_validator("files")
    @classmethod
    def _files(cls, files: tuple[str, ...]) -> tuple[str, ...]:
        if any(not f.strip() for f in files):
            raise ValueError("a file path is empty")
        return _sorted_unique(files, "file")

    @field_validator("tag_ids")
    @classmethod
    def _tags(cls, tag_ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(tag_ids)))


def _sorted_unique(values: Sequence[str], what: str) -> tuple[str, ...]:
    twice = sorted(v for v, n in Counter(values).items() if n > 1)
    if twice:
        raise ValueError(f"{what} {twice[0]!r} is listed twice; list each {what} once")
    return tuple(sorted(values))


def revision_of(urls: Iterable[str], file_hashes: Mapping[str, str]) -> str:
    """A stable hash of the sources and the files' contents."""
    lines = [f"url {u}" for u in sorted(urls)]
    lines += [f"file {p} {h}" for p, h in sorted(file_hashes.items())]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# --------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class _Source:
    """One image to upload: a URL, or a file path (with its size, for packing batches)."""

    name: str
    is_file: bool
    size: int = 0


class ImageWriter(ProjectWriter):
    """Uploads and deletes the images of one project in batches, concurrently."""

    def __init__(self, client: TrainingClient, project_id: str, tag_ids: Sequence[str]) -> None:
        super().__init__(client, project_id)
        self.tag_ids = list(tag_ids)

    def upload(self, urls: Sequence[str], files: Sequence[str], undo: Registrar) -> dict[str, str]:
        """Upload the sources; return source -> image id. Fails naming the refused sources.

        Images the project already has (``OKDuplicate``) are adopted. A batch whose call may
        or may not have reached the service is sent again once: the service answers
        ``OKDuplicate`` for what it already made.
        """
        pending = [_Source(u, False) for u in urls]
        pending += [_Source(f, True, os.stat(f).st_size) for f in files]
        ids: dict[str, str] = {}
        refused: list[str] = []
        for _ in range(CREATE_ROUNDS):
            made, refused_now, unclear = self._send(pending, undo)
            ids.update(made)
            refused += refused_now
            pending = unclear
            if not pending:
                break
        if pending:
            refused += [
                f"{s.name}: the service did not answer clearly, {CREATE_ROUNDS} times"
                for s in pending
            ]
        if refused:
            shown = "; ".join(refused[:20]) + (
                f"; and {len(refused) - 20} more" if len(refused) > 20 else ""
            )
            raise ProviderError(
                f"{len(refused)} images were not accepted: {shown}. Nothing of this change was kept"
            )
        return ids

    def _send(
        self, sources: Sequence[_Source], undo: Registrar
    ) -> tuple[dict[str, str], list[str], list[_Source]]:
        batches = chunked([s for s in sources if not s.is_file], MAX_IMAGES_PER_BATCH)
        batches += _pack([s for s in sources if s.is_file])

        def send(batch: list[_Source]) -> models.ImageCreateSummary:
            if batch[0].is_file:
                return self.client.create_images_from_data(
                    self.project_id,
                    [(_upload_name(i, s), _read(s)) for i, s in enumerate(batch)],
                    tag_ids=self.tag_ids or None,
                )
            return self.client.create_images_from_urls(
                self.project_id, [s.name for s in batch], tag_ids=self.tag_ids or None
            )

        outcome = run_creates(send, batches)
        ids: dict[str, str] = {}
        created: list[str] = []
        refused: list[str] = []
        for batch, answer in outcome.answered:
            for source, result in _match(batch, answer):
                if result is None:
                    refused.append(f"{source.name}: no answer for it")
                elif result.status in _OK and result.image is not None:
                    ids[source.name] = result.image.id
                    if result.status == "OK":
                        created.append(result.image.id)
                else:
                    refused.append(f"{source.name}: {result.status}")
        if created:
            undo.on_failure(
                f"delete {len(created)} uploaded images", functools.partial(self.delete, created)
            )
        if outcome.failure is not None:
            raise outcome.failure
        return ids, refused, [source for batch in outcome.unclear for source in batch]

    def delete(self, image_ids: Iterable[str]) -> None:
        """DeleteImages, 256 ids per call; images already gone are not an error."""
        run_deletes(
            lambda batch: self.client.delete_images(self.project_id, batch),
            image_ids,
            MAX_IDS_PER_GET,
        )

    def retag(self, image_ids: Sequence[str], added: Sequence[str], removed: Sequence[str]) -> None:
        """Give every image the ``added`` tags and take the ``removed`` ones away."""
        pairs = [models.ImageTagCreateEntry(image_id=i, tag_id=t) for i in image_ids for t in added]
        run_batches(
            lambda batch: self.client.create_image_tags(self.project_id, batch),
            chunked(pairs, MAX_IMAGE_TAGS_PER_BATCH),
        )
        if removed:
            for tags in chunked(list(removed), UNTAG_TAGS_PER_CALL):
                run_deletes(functools.partial(self._untag, tags), image_ids, UNTAG_IMAGES_PER_CALL)

    def _untag(self, tag_ids: list[str], image_ids: list[str]) -> None:
        self.client.delete_image_tags(self.project_id, image_ids, tag_ids)


def _upload_name(index: int, source: _Source) -> str:
    return f"{index}{os.path.splitext(source.name)[1].lower()}"


def _read(source: _Source) -> bytes:
    with open(source.name, "rb") as handle:
        return handle.read()


def _pack(files: Sequence[_Source]) -> list[list[_Source]]:
    """Files in batches of at most 64 and at most :data:`MAX_UPLOAD_BYTES`."""
    batches: list[list[_Source]] = []
    current: list[_Source] = []
    size = 0
    for source in files:
        if current and (
            len(current) == MAX_IMAGES_PER_BATCH or size + source.size > MAX_UPLOAD_BYTES
        ):
            batches.append(current)
            current, size = [], 0
        current.append(source)
        size += source.size
    if current:
        batches.append(current)
    return batches


def _match(
    batch: Sequence[_Source], answer: models.ImageCreateSummary
) -> list[tuple[_Source, models.ImageCreateResult | None]]:
    """Pair each source of a batch with its result (by URL, or by upload name)."""
    by_name: dict[str, models.ImageCreateResult] = {}
    for result in answer.images:
        if result.source_url is not None:
            by_name[result.source_url.strip('"')] = result
    pairs: list[tuple[_Source, models.ImageCreateResult | None]] = []
    for index, source in enumerate(batch):
        name = _upload_name(index, source) if source.is_file else source.name
        found = by_name.get(name)
        if found is None and len(answer.images) == len(batch):
            found = answer.images[index]
        pairs.append((source, found))
    return pairs


# --------------------------------------------------------------------------- provider


class ImagesProvider(CustomVisionProvider[ImagesArgs]):
    """The REST steps of :class:`Images`."""

    args_model = ImagesArgs
    kind = "images"

    def check_for(self, args: ImagesArgs, profile: Profile) -> list[tuple[str, str]]:
        failures = [("files", p) for p in map(file_problem, args.files) if p is not None]
        both = sorted(set(args.urls) & set(args.files))
        if both:
            failures.append(("files", f"{both[0]!r} is listed both as a URL and as a file"))
        if args.urls:
            failures += self.requires(profile, "urls", "CreateImagesFromUrls")
        if args.files:
            failures += self.requires(profile, "files", "CreateImagesFromData")
        return failures

    def state_from_args(self, args: ImagesArgs) -> dict[str, Any]:
        state: dict[str, Any] = {
            "project_id": args.project_id,
            "revision": revision_of(args.urls, _file_hashes(args.files)),
        }
        if args.tag_ids:
            state["tag_ids"] = list(args.tag_ids)
        if args.profile is not None:
            state["profile"] = args.profile
        return state

    def on_create(self, ctx: Context, args: ImagesArgs) -> tuple[str, dict[str, Any]]:
        hashes = _file_hashes(args.files)
        writer = ImageWriter(ctx.client, args.project_id, args.tag_ids)
        ids = writer.upload(args.urls, args.files, ctx)
        return str(uuid.uuid4()), _outputs(ids, hashes)

    def on_update(
        self,
        ctx: Context,
        id_: str,
        olds: dict[str, Any],
        args: ImagesArgs,
        changed: frozenset[str],
    ) -> dict[str, Any]:
        old_ids: dict[str, str] = dict(olds.get("ids") or {})
        old_hashes: dict[str, str] = dict(olds.get("file_hashes") or {})
        hashes = _file_hashes(args.files)
        wanted = set(args.urls) | set(args.files)
        stale = {p for p, h in hashes.items() if p in old_ids and old_hashes.get(p) != h}
        kept = {s: i for s, i in old_ids.items() if s in wanted and s not in stale}
        # A file moved or renamed (same content, e.g. another checkout directory) keeps its image.
        by_content = {h: old_ids[p] for p, h in old_hashes.items() if p in old_ids}
        kept |= {f: by_content[h] for f, h in hashes.items() if f not in kept and h in by_content}
        writer = ImageWriter(ctx.client, args.project_id, args.tag_ids)
        old_tags = sorted(olds.get("tag_ids") or [])

        def upload_then_retag(undo: Registrar) -> dict[str, str]:
            # New images get the new tags as they are uploaded; the kept ones are re-tagged
            # after, so that a refused upload leaves the tags as they were.
            uploaded = writer.upload(
                [u for u in args.urls if u not in kept],
                [f for f in args.files if f not in kept],
                undo,
            )
            if list(args.tag_ids) != old_tags and kept:
                added = [t for t in args.tag_ids if t not in old_tags]
                removed = [t for t in old_tags if t not in args.tag_ids]
                writer.retag(sorted(set(kept.values())), added, removed)
            return uploaded

        ids = {**kept, **upload_then_retag(ctx)}
        in_use = set(ids.values())
        writer.delete(i for s, i in old_ids.items() if i not in in_use)
        return _outputs(ids, hashes)

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        old_ids: dict[str, str] = dict(olds.get("ids") or {})
        writer = ImageWriter(ctx.client, olds["project_id"], ())
        present = writer.existing(old_ids.values())
        ids = {s: i for s, i in old_ids.items() if i.lower() in present}
        hashes = {p: h for p, h in (olds.get("file_hashes") or {}).items() if p in ids}
        outputs = _outputs(ids, hashes)
        outputs["revision"] = (
            olds.get("revision")
            if ids == old_ids
            else revision_of((s for s in ids if s not in hashes), hashes)
        )
        return outputs

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        writer = ImageWriter(ctx.client, olds["project_id"], ())
        writer.delete((olds.get("ids") or {}).values())


def _file_hashes(files: Iterable[str]) -> dict[str, str]:
    return {path: _hashes.digest(path) for path in files}


def _outputs(ids: Mapping[str, str], hashes: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ids": dict(sorted(ids.items())),
        "count": len(set(ids.values())),
        "file_hashes": {p: h for p, h in sorted(hashes.items()) if p in ids},
    }


# --------------------------------------------------------------------------- resource


class Images(CustomVisionResource):
    """The training images of a project, from URLs and local files, managed as one set.

    Creating it uploads the images in batches of 64 (CreateImagesFromUrls for ``urls``,
    CreateImagesFromData for ``files``, read and sent as bytes), several calls at a time
    within the account's rate limit; if the service refuses any image, the uploaded ones
    are deleted and the refused sources named. Adding or removing sources uploads or
    deletes only the difference; a file whose content changed is uploaded again (its id
    changes), a file that only moved keeps its image. Refresh reports images deleted out
    of band, which the next ``pulumi up`` uploads again. Destroying it deletes the images
    (DeleteImages).

    ``check`` refuses unreadable files, files over 6 MB and formats other than JPEG, PNG,
    GIF and BMP, naming the file. An image the project already has (same content) is
    adopted, and deleted with this resource.

    Example::

        imgs = cv.Images("imgs", project_id=project.id, files=["img/bolt1.jpg", "img/bolt2.jpg"])
        first = imgs.ids["img/bolt1.jpg"]
    """

    project_id: pulumi.Output[str]
    """Id of the project."""
    ids: pulumi.Output[dict[str, str]]
    """Source (the URL, or the file path as written) -> image id."""
    count: pulumi.Output[int]
    """Number of images."""
    file_hashes: pulumi.Output[dict[str, str]]
    """File path -> SHA-256 of the content uploaded."""
    revision: pulumi.Output[str]
    """A hash of the sources and the files' contents."""

    def __init__(
        self,
        resource_name: str,
        *,
        project_id: pulumi.Input[str],
        urls: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        files: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        tag_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of images.

        Args:
            resource_name: The Pulumi name of this resource.
            project_id: Id of the project; changing it replaces the images.
            urls: Public http(s) URLs of images for the service to download.
            files: Paths of local image files (JPEG, PNG, GIF or BMP, up to 6 MB each);
                relative paths start in the project directory.
            tag_ids: Ids of tags every image gets; changing them re-tags in place.
            profile: Account profile (``customvision:profiles.<name>``); unset: the default.
            opts: Pulumi resource options.
        """
        super().__init__(
            ImagesProvider(),
            resource_name,
            {
                "project_id": project_id,
                "urls": [] if urls is None else urls,
                "files": [] if files is None else files,
                "tag_ids": [] if tag_ids is None else tag_ids,
                "profile": profile,
            },
            outputs=("ids", "count", "file_hashes", "revision"),
            opts=opts,
        )
