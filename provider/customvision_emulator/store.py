"""The emulated service's state and rules, kept in SQLite.

Every public method is one service behaviour and raises :class:`ApiError` the way the real
service answers. Results are plain dicts in the *newest* JSON shapes; the HTTP layer trims
them to the shapes of the requested API version. Slow work (training, import) is modelled by
timestamps that :meth:`Store.settle` evaluates on every request, so a restart in the middle
of a training is consistent: the training simply finishes when its time has come.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import secrets
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .domains import DOMAINS, GENERAL_CLASSIFICATION, is_detection
from .errors import ApiError
from .exchange import ExportExchange

Json = dict[str, Any]

MAX_ITERATIONS_PER_PROJECT = 20
MAX_REGIONS_PER_IMAGE = 300
MAX_REGION_BATCH = 64
MAX_IMAGE_BATCH = 64
MAX_TAG_BATCH = 128
MAX_TAGS_PER_IMAGE = 20
MAX_TAGS_PER_PROJECT = 500
MAX_IMAGE_BYTES = 6 * 1024 * 1024
MIN_IMAGES_PER_TAG_CLASSIFICATION = 5
MIN_TAGS_CLASSIFICATION = 2
MIN_IMAGES_PER_TAG_DETECTION = 15
CLASSIFICATION_TYPES = ("Multiclass", "Multilabel")
TAG_TYPES = ("Regular", "Negative", "GeneralProduct")
EXPORT_PLATFORMS = ("CoreML", "TensorFlow", "DockerFile", "ONNX", "VAIDK", "OpenVino")
_AUGMENTATION = {
    "rotation": True,
    "scaling": True,
    "translation": True,
    "horizontal flip": True,
    "equalize": True,
    "solarize": True,
    "padtosquare": True,
}
_PREDICTION_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.CognitiveServices/"
    r"accounts/[^/]+$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BLOB_HOST = "https://customvision-emulator.blob.core.windows.net"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, domain_id TEXT NOT NULL,
    classification_type TEXT, target_export_platforms TEXT NOT NULL, options TEXT,
    created REAL NOT NULL, last_modified REAL NOT NULL, status TEXT NOT NULL,
    import_ready_at REAL, import_outcome TEXT, data_version INTEGER NOT NULL DEFAULT 0,
    iteration_counter INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tags(
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
    type TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tags_project ON tags(project_id);
CREATE TABLE IF NOT EXISTS images(
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, created REAL NOT NULL, width INTEGER NOT NULL,
    height INTEGER NOT NULL, digest TEXT NOT NULL, metadata TEXT);
CREATE INDEX IF NOT EXISTS images_project ON images(project_id, created);
CREATE INDEX IF NOT EXISTS images_digest ON images(project_id, digest);
CREATE TABLE IF NOT EXISTS image_tags(
    image_id TEXT NOT NULL, tag_id TEXT NOT NULL, project_id TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY(image_id, tag_id));
CREATE INDEX IF NOT EXISTS image_tags_tag ON image_tags(tag_id);
CREATE INDEX IF NOT EXISTS image_tags_project ON image_tags(project_id);
CREATE TABLE IF NOT EXISTS regions(
    id TEXT PRIMARY KEY, image_id TEXT NOT NULL, tag_id TEXT NOT NULL, project_id TEXT NOT NULL,
    left REAL NOT NULL, top REAL NOT NULL, width REAL NOT NULL, height REAL NOT NULL,
    created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS regions_image ON regions(image_id);
CREATE INDEX IF NOT EXISTS regions_project ON regions(project_id);
CREATE TABLE IF NOT EXISTS iterations(
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, last_modified REAL NOT NULL, trained_at REAL, ready_at REAL,
    outcome TEXT, domain_id TEXT, classification_type TEXT, training_type TEXT NOT NULL,
    reserved_budget INTEGER NOT NULL, publish_name TEXT, prediction_id TEXT,
    is_default INTEGER NOT NULL DEFAULT 0, trained_version INTEGER, error_details TEXT,
    training_minutes INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS iterations_project ON iterations(project_id);
CREATE INDEX IF NOT EXISTS iterations_status ON iterations(status);
CREATE TABLE IF NOT EXISTS exports(
    token TEXT PRIMARY KEY, project_id TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,
    snapshot TEXT NOT NULL);
"""

_TABLES = ("projects", "tags", "images", "image_tags", "regions", "iterations", "exports")


def iso(ts: float | None) -> str | None:
    """Format an epoch timestamp like the service: ``2020-11-06T16:31:44.723Z``."""
    if ts is None:
        return None
    text = datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def iso_image(ts: float) -> str:
    """Image, image-tag and region times as the service writes them: 7 digits, no zone."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def new_id() -> str:
    """A fresh lower-case GUID, as the service issues them."""
    return str(uuid.uuid4())


def parse_guid(value: Any, code: str, what: str) -> str:
    """Normalise a GUID given by a client or raise ``code`` (a NotFound* or BadRequest* code)."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise ApiError(code, f"{what} {value!r} is not a valid id.") from None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or BMP image; None if the bytes are none of them."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data.startswith(b"BM") and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(int(w)), abs(int(h))
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + length
    return None


@dataclass
class ImageInput:
    """One image of a create batch, whatever the source (data, file entry or URL)."""

    source: str | None
    data: bytes | None = None
    url: str | None = None
    tag_ids: Sequence[str] = ()
    regions: Sequence[Json] = ()


def _check_batch(entries: Any, empty_code: str, one: str, many: str, limit: int) -> None:
    """Refuse a batch that is not a non-empty list (``empty_code``) or is over ``limit``."""
    if not isinstance(entries, list) or not entries:
        raise ApiError(empty_code, f"The batch contains no {one}.")
    if len(entries) > limit:
        raise ApiError("BadRequestExceededBatchSize", f"A batch has at most {limit} {many}.")


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Store:
    """The service state in one SQLite database, guarded by a lock (one connection)."""

    def __init__(self, path: str | Path | None, exchange: ExportExchange | None = None) -> None:
        target = ":memory:" if path is None else str(path)
        #: Where exports are published for other emulators to import (None: this one only).
        self.exchange = exchange
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        #: Forced outcome of the next TrainProject / ImportProject (admin API).
        self.forced: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One serialised transaction; rolled back if the service answers an error."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def reset(self) -> None:
        """Forget everything (admin reset)."""
        with self.tx() as db:
            for table in _TABLES:
                db.execute(f"DELETE FROM {table}")
        self.forced.clear()

    def settle(self, now: float) -> None:
        """Finish the trainings and imports whose time has come (evaluated on every request)."""
        with self.tx() as db:
            db.execute(
                "UPDATE iterations SET status = outcome, trained_at = ready_at, "
                "last_modified = ready_at WHERE status = 'Training' AND ready_at <= ?",
                (now,),
            )
            db.execute(
                "UPDATE projects SET status = import_outcome, last_modified = import_ready_at "
                "WHERE status = 'Importing' AND import_ready_at <= ?",
                (now,),
            )

    # ------------------------------------------------------------------ rendering
    def _project_json(self, row: sqlite3.Row) -> Json:
        settings: Json = {
            "domainId": row["domain_id"],
            "classificationType": row["classification_type"],
            "targetExportPlatforms": json.loads(row["target_export_platforms"]),
            "useNegativeSet": True,
            "detectionParameters": None,
            "imageProcessingSettings": {"augmentationMethods": dict(_AUGMENTATION)},
        }
        if row["options"]:
            settings.update(json.loads(row["options"]))
        return {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "settings": settings,
            "created": iso(row["created"]),
            "lastModified": iso(row["last_modified"]),
            "thumbnailUri": None,
            "drModeEnabled": False,
            "status": row["status"],
        }

    def _iteration_json(self, row: sqlite3.Row) -> Json:
        training = row["status"] == "Training"
        domain = DOMAINS.get(row["domain_id"] or "")
        exportable = bool(domain and domain["exportable"]) and row["status"] == "Completed"
        out: Json = {
            "id": row["id"],
            "name": row["name"],
            "isDefault": bool(row["is_default"]),
            "status": row["status"],
            "created": iso(row["created"]),
            "lastModified": iso(row["last_modified"]),
        }
        # The service omits trainedAt until the training has finished (recordings).
        if row["trained_at"] is not None and not training:
            out["trainedAt"] = iso(row["trained_at"])
        out.update(
            {
                "projectId": row["project_id"],
                "exportable": exportable,
                "exportableTo": None
                if training
                else (list(EXPORT_PLATFORMS) if exportable else []),
                "domainId": None if training else row["domain_id"],
                "classificationType": None if training else row["classification_type"],
                "trainingType": row["training_type"],
                "reservedBudgetInHours": row["reserved_budget"],
                "trainingTimeInMinutes": 0 if training else row["training_minutes"],
                "publishName": row["publish_name"],
                "originalPublishResourceId": row["prediction_id"],
                "customBaseModelInfo": None,
                "trainingErrorDetails": row["error_details"] if row["status"] == "Failed" else None,
            }
        )
        return out

    def _tag_json(self, row: sqlite3.Row, count: int) -> Json:
        return {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "type": row["type"],
            "imageCount": count,
        }

    def _images_json(
        self, db: sqlite3.Connection, rows: Sequence[sqlite3.Row], fresh: bool = False
    ) -> list[Json]:
        """Images with their tags and regions, two queries for the whole page.

        ``fresh`` renders images just created: the service answers their tag names as null
        (recordings). Empty ``tags``/``regions``/``metadata`` are left out, as it does.
        """
        ids = [r["id"] for r in rows]
        tags: dict[str, list[Json]] = {}
        regions: dict[str, list[Json]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for t in db.execute(
                "SELECT it.image_id, it.tag_id, it.created, t.name FROM image_tags it "
                f"JOIN tags t ON t.id = it.tag_id WHERE it.image_id IN ({marks}) "
                "ORDER BY it.rowid",
                chunk,
            ):
                tags.setdefault(t["image_id"], []).append(
                    {
                        "tagId": t["tag_id"],
                        "tagName": None if fresh else t["name"],
                        "created": iso_image(t["created"]),
                    }
                )
            for g in db.execute(
                "SELECT r.*, t.name AS tag_name FROM regions r JOIN tags t ON t.id = r.tag_id "
                f"WHERE r.image_id IN ({marks}) ORDER BY r.rowid",
                chunk,
            ):
                regions.setdefault(g["image_id"], []).append(
                    {
                        "regionId": g["id"],
                        "tagName": None if fresh else g["tag_name"],
                        "created": iso_image(g["created"]),
                        "tagId": g["tag_id"],
                        "left": g["left"],
                        "top": g["top"],
                        "width": g["width"],
                        "height": g["height"],
                    }
                )
        out = []
        for r in rows:
            folder = f"{_BLOB_HOST}/i-{r['project_id'].replace('-', '')}"
            uri = f"{folder}/i-{r['id'].replace('-', '')}"
            image: Json = {
                "id": r["id"],
                "created": iso_image(r["created"]),
                "width": r["width"],
                "height": r["height"],
                "imageUri": uri,
                "resizedImageUri": uri,
                "thumbnailUri": f"{folder}/t-{r['id'].replace('-', '')}",
                "originalImageUri": uri,
            }
            if r["id"] in tags:
                image["tags"] = tags[r["id"]]
            if r["id"] in regions:
                image["regions"] = regions[r["id"]]
            if r["metadata"]:
                image["metadata"] = json.loads(r["metadata"])
            out.append(image)
        return out

    # ------------------------------------------------------------------ lookups
    def _row(
        self,
        db: sqlite3.Connection,
        kind: str,
        table: str,
        object_id: str,
        project_id: str | None = None,
    ) -> sqlite3.Row:
        """The ``kind`` (Project, Iteration, Tag) with this id, in ``project_id`` when given;
        the service's ``NotFound<kind>`` error if there is none."""
        oid = parse_guid(object_id, f"NotFound{kind}", kind)
        sql, params = f"SELECT * FROM {table} WHERE id = ?", [oid]
        if project_id is not None:
            sql, params = sql + " AND project_id = ?", [oid, project_id]
        row = db.execute(sql, params).fetchone()
        if row is None:
            raise ApiError(f"NotFound{kind}", f"{kind} {object_id} was not found.")
        found: sqlite3.Row = row
        return found

    def _project(self, db: sqlite3.Connection, project_id: str) -> sqlite3.Row:
        return self._row(db, "Project", "projects", project_id)

    def _iteration(self, db: sqlite3.Connection, project_id: str, iteration_id: str) -> sqlite3.Row:
        return self._row(db, "Iteration", "iterations", iteration_id, project_id)

    def _tag(self, db: sqlite3.Connection, project_id: str, tag_id: str) -> sqlite3.Row:
        return self._row(db, "Tag", "tags", tag_id, project_id)

    def _touch(self, db: sqlite3.Connection, project_id: str, now: float) -> None:
        """Record a change that a new training would see (drives TrainingNotNeeded)."""
        db.execute(
            "UPDATE projects SET data_version = data_version + 1, last_modified = ? WHERE id = ?",
            (now, project_id),
        )

    def _tag_counts(self, db: sqlite3.Connection, project_id: str) -> dict[str, int]:
        return {
            r[0]: r[1]
            for r in db.execute(
                "SELECT tag_id, COUNT(*) FROM image_tags WHERE project_id = ? GROUP BY tag_id",
                (project_id,),
            )
        }

    def _check_project_name(
        self, db: sqlite3.Connection, name: Any, exclude: str | None = None
    ) -> str:
        if not isinstance(name, str) or not name.strip() or len(name) > 256:
            raise ApiError("BadRequestProjectName", "The project name is missing or invalid.")
        clash = db.execute(
            "SELECT 1 FROM projects WHERE lower(name) = lower(?) AND id != ?",
            (name, exclude or ""),
        ).fetchone()
        if clash:
            raise ApiError("BadRequestProjectNameNotUnique", f"A project named {name!r} exists.")
        return name

    # ------------------------------------------------------------------ domains
    def get_domains(self) -> list[Json]:
        """GetDomains."""
        return [dict(d) for d in DOMAINS.values()]

    def get_domain(self, domain_id: str) -> Json:
        """GetDomain."""
        did = parse_guid(domain_id, "NotFoundDomain", "Domain")
        if did not in DOMAINS:
            raise ApiError("NotFoundDomain", f"Domain {domain_id} was not found.")
        return dict(DOMAINS[did])

    # ------------------------------------------------------------------ projects
    def create_project(
        self,
        now: float,
        name: Any,
        description: str | None,
        domain_id: str | None,
        classification_type: str | None,
        target_export_platforms: Sequence[str] | None,
        options: Json | None = None,
    ) -> Json:
        """CreateProject (parameters in the query string)."""
        with self.tx() as db:
            name = self._check_project_name(db, name)
            did = self._domain(domain_id)
            ctype = self._classification(did, classification_type)
            platforms = self._platforms(did, target_export_platforms)
            pid = new_id()
            opts = {k: v for k, v in (options or {}).items() if v is not None}
            db.execute(
                "INSERT INTO projects(id, name, description, domain_id, classification_type, "
                "target_export_platforms, options, created, last_modified, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Succeeded')",
                (
                    pid,
                    name,
                    description or "",
                    did,
                    ctype,
                    json.dumps(platforms),
                    json.dumps(opts) if opts else None,
                    now,
                    now,
                ),
            )
            return self._project_json(self._project(db, pid))

    def _domain(self, domain_id: str | None) -> str:
        if domain_id in (None, ""):
            return GENERAL_CLASSIFICATION
        did = parse_guid(domain_id, "BadRequestProjectUnknownDomain", "Domain")
        if did not in DOMAINS:
            raise ApiError("BadRequestProjectUnknownDomain", f"Domain {domain_id} is unknown.")
        return did

    def _classification(self, domain_id: str, ctype: str | None) -> str | None:
        if is_detection(domain_id):
            return None  # detection projects have no classification type
        if ctype in (None, ""):
            return "Multilabel"
        for known in CLASSIFICATION_TYPES:
            if str(ctype).lower() == known.lower():
                return known
        raise ApiError(
            "BadRequestProjectUnknownClassification", f"Classification type {ctype!r} is unknown."
        )

    def _platforms(self, domain_id: str, platforms: Sequence[str] | None) -> list[str]:
        chosen = [p for p in (platforms or []) if p]
        for p in chosen:
            if p not in EXPORT_PLATFORMS or not DOMAINS[domain_id]["exportable"]:
                raise ApiError(
                    "BadRequestProjectUnsupportedExportPlatform",
                    f"Export platform {p!r} is not supported by this project's domain.",
                )
        return chosen

    def get_project(self, project_id: str) -> Json:
        """GetProject."""
        with self.tx() as db:
            return self._project_json(self._project(db, project_id))

    def get_projects(self) -> list[Json]:
        """GetProjects."""
        with self.tx() as db:
            rows = db.execute("SELECT * FROM projects ORDER BY rowid").fetchall()
            return [self._project_json(r) for r in rows]

    def update_project(self, now: float, project_id: str, patch: Json | None) -> Json:
        """UpdateProject: a partial update; absent or null members keep their value."""
        patch = patch or {}
        with self.tx() as db:
            row = self._project(db, project_id)
            name = row["name"]
            if patch.get("name") is not None:
                name = self._check_project_name(db, patch["name"], exclude=row["id"])
            description = patch.get("description")
            if description is None:
                description = row["description"]
            settings = patch.get("settings") or {}
            did = row["domain_id"]
            if settings.get("domainId") is not None:
                did = self._domain(settings["domainId"])
                if is_detection(did) != is_detection(row["domain_id"]):
                    raise ApiError(
                        "BadRequestProjectUnsupportedDomainTypeChange",
                        "A project cannot change between classification and object detection.",
                    )
            ctype = row["classification_type"]
            if settings.get("classificationType") is not None or did != row["domain_id"]:
                ctype = self._classification(did, settings.get("classificationType") or ctype)
            platforms = json.loads(row["target_export_platforms"])
            if settings.get("targetExportPlatforms") is not None:
                platforms = self._platforms(did, settings["targetExportPlatforms"])
            db.execute(
                "UPDATE projects SET name = ?, description = ?, domain_id = ?, "
                "classification_type = ?, target_export_platforms = ?, last_modified = ? "
                "WHERE id = ?",
                (name, description, did, ctype, json.dumps(platforms), now, row["id"]),
            )
            return self._project_json(self._project(db, row["id"]))

    def delete_project(self, project_id: str) -> None:
        """DeleteProject: refused while an iteration is published."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            if db.execute(
                "SELECT 1 FROM iterations WHERE project_id = ? AND publish_name IS NOT NULL",
                (pid,),
            ).fetchone():
                raise ApiError(
                    "BadRequestIterationIsPublished",
                    "Cannot delete a project with a published iteration; unpublish it first.",
                )
            for table in ("tags", "images", "image_tags", "regions", "iterations"):
                db.execute(f"DELETE FROM {table} WHERE project_id = ?", (pid,))
            db.execute("DELETE FROM projects WHERE id = ?", (pid,))

    # ------------------------------------------------------------------ export / import
    def export_project(self, now: float, project_id: str, ttl_seconds: float) -> Json:
        """ExportProject: snapshot the project behind an opaque, expiring token."""
        with self.tx() as db:
            row = self._project(db, project_id)
            pid = row["id"]
            if db.execute(
                "SELECT 1 FROM iterations WHERE project_id = ? AND status = 'Training'", (pid,)
            ).fetchone():
                raise ApiError(
                    "BadRequestExportWhileTraining", "Cannot export a project while it trains."
                )
            snapshot = self._snapshot(db, row)
            expires = now + ttl_seconds
            sig = base64.b64encode(secrets.token_bytes(32)).decode()
            # Shaped like the real SAS URL: it contains '/', '+', '=', '&' and '%', so a client
            # that forgets to URL-encode it when importing gets BadRequestInvalidImportToken.
            token = (
                f"{_BLOB_HOST}/prjexp-{pid.replace('-', '')}/project-export-info?sv=2017-04-17"
                f"&sr=b&sig={quote(sig, safe='')}&se={quote(iso(expires) or '', safe='')}&sp=r"
            )
            db.execute(
                "INSERT INTO exports(token, project_id, created, expires, snapshot) "
                "VALUES (?, ?, ?, ?, ?)",
                (token, pid, now, expires, json.dumps(snapshot)),
            )
            if self.exchange is not None:
                self.exchange.publish(token, expires, json.dumps(snapshot), now)
            return {
                "iterationCount": len(snapshot["iterations"]),
                "imageCount": len(snapshot["images"]),
                "tagCount": len(snapshot["tags"]),
                "regionCount": len(snapshot["regions"]),
                "estimatedImportTimeInMS": 1000 + 10 * len(snapshot["images"]),
                "token": token,
            }

    def _snapshot(self, db: sqlite3.Connection, project: sqlite3.Row) -> Json:
        pid = project["id"]

        def rows(sql: str) -> list[Json]:
            return [dict(r) for r in db.execute(sql, (pid,))]

        return {
            "project": dict(project),
            "tags": rows("SELECT * FROM tags WHERE project_id = ? ORDER BY rowid"),
            "images": rows("SELECT * FROM images WHERE project_id = ? ORDER BY rowid"),
            "image_tags": rows("SELECT * FROM image_tags WHERE project_id = ? ORDER BY rowid"),
            "regions": rows("SELECT * FROM regions WHERE project_id = ? ORDER BY rowid"),
            # Only trained iterations travel with an export.
            "iterations": rows(
                "SELECT * FROM iterations WHERE project_id = ? AND status = 'Completed' "
                "ORDER BY rowid"
            ),
        }

    def import_project(
        self, now: float, token: str | None, name: str | None, import_seconds: float
    ) -> Json:
        """ImportProject: a new project with new ids, 'Importing' until its time has come."""
        with self.tx() as db:
            found = db.execute("SELECT * FROM exports WHERE token = ?", (token or "",)).fetchone()
            snapshot: str | None = None
            if found is not None and found["expires"] > now:
                snapshot = found["snapshot"]
            elif found is None and token and self.exchange is not None:
                snapshot = self.exchange.find(token, now)  # another emulator's export
            if snapshot is None:
                raise ApiError(
                    "BadRequestInvalidImportToken",
                    "The import token is invalid or has expired (tokens must be URL-encoded).",
                )
            snap = json.loads(snapshot)
            source = snap["project"]
            if name is not None and name != "":
                new_name = self._check_project_name(db, name)
            else:
                new_name = self._free_name(db, source["name"])
            outcome = self.forced.pop("ImportProject", "Succeeded")
            pid = new_id()
            db.execute(
                "INSERT INTO projects(id, name, description, domain_id, classification_type, "
                "target_export_platforms, options, created, last_modified, status, "
                "import_ready_at, import_outcome, data_version, iteration_counter) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Importing', ?, ?, 1, ?)",
                (
                    pid,
                    new_name,
                    source["description"],
                    source["domain_id"],
                    source["classification_type"],
                    source["target_export_platforms"],
                    source["options"],
                    now,
                    now,
                    now + import_seconds,
                    outcome,
                    source["iteration_counter"],
                ),
            )
            ids: dict[str, str] = {}

            def remap(old: str) -> str:
                return ids.setdefault(old, new_id())

            db.executemany(
                "INSERT INTO tags(id, project_id, name, description, type, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (remap(t["id"]), pid, t["name"], t["description"], t["type"], now)
                    for t in snap["tags"]
                ],
            )
            db.executemany(
                "INSERT INTO images(id, project_id, created, width, height, digest, metadata) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (remap(i["id"]), pid, now, i["width"], i["height"], i["digest"], i["metadata"])
                    for i in snap["images"]
                ],
            )
            db.executemany(
                "INSERT INTO image_tags(image_id, tag_id, project_id, created) VALUES (?, ?, ?, ?)",
                [(remap(t["image_id"]), remap(t["tag_id"]), pid, now) for t in snap["image_tags"]],
            )
            db.executemany(
                "INSERT INTO regions(id, image_id, tag_id, project_id, left, top, width, height, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        remap(r["id"]),
                        remap(r["image_id"]),
                        remap(r["tag_id"]),
                        pid,
                        r["left"],
                        r["top"],
                        r["width"],
                        r["height"],
                        now,
                    )
                    for r in snap["regions"]
                ],
            )
            current = source["data_version"]
            db.executemany(
                "INSERT INTO iterations(id, project_id, name, status, created, last_modified, "
                "trained_at, domain_id, classification_type, training_type, reserved_budget, "
                "trained_version, training_minutes) "
                "VALUES (?, ?, ?, 'Completed', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                # Names and training times are kept; publish state is not.
                [
                    (
                        remap(i["id"]),
                        pid,
                        i["name"],
                        now,
                        now,
                        i["trained_at"],
                        i["domain_id"],
                        i["classification_type"],
                        i["training_type"],
                        i["reserved_budget"],
                        1 if i["trained_version"] == current else 0,
                        i["training_minutes"],
                    )
                    for i in snap["iterations"]
                ],
            )
            return self._project_json(self._project(db, pid))

    def _free_name(self, db: sqlite3.Connection, base: str) -> str:
        n = 1
        while db.execute(
            "SELECT 1 FROM projects WHERE lower(name) = lower(?)", (f"{base} ({n})",)
        ).fetchone():
            n += 1
        return f"{base} ({n})"

    # ------------------------------------------------------------------ tags
    def create_tag(
        self, now: float, project_id: str, name: Any, description: str | None, tag_type: str | None
    ) -> Json:
        """CreateTag."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            name = self._check_tag_name(db, pid, name)
            ttype = self._tag_type(db, pid, tag_type)
            count = db.execute("SELECT COUNT(*) FROM tags WHERE project_id = ?", (pid,)).fetchone()
            if count[0] >= MAX_TAGS_PER_PROJECT:
                raise ApiError(
                    "BadRequestExceedTagPerProjectLimit",
                    f"A project has at most {MAX_TAGS_PER_PROJECT} tags.",
                )
            tid = new_id()
            db.execute(
                "INSERT INTO tags(id, project_id, name, description, type, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (tid, pid, name, description, ttype, now),
            )
            self._touch(db, pid, now)
            return self._tag_json(self._tag(db, pid, tid), 0)

    def _check_tag_name(
        self, db: sqlite3.Connection, pid: str, name: Any, exclude: str = ""
    ) -> str:
        if not isinstance(name, str) or not name.strip() or len(name) > 256:
            raise ApiError("BadRequestTagName", "The tag name is missing or invalid.")
        if db.execute(
            "SELECT 1 FROM tags WHERE project_id = ? AND lower(name) = lower(?) AND id != ?",
            (pid, name, exclude),
        ).fetchone():
            raise ApiError("BadRequestTagNameNotUnique", f"A tag named {name!r} exists.")
        return name

    def _tag_type(
        self, db: sqlite3.Connection, pid: str, tag_type: str | None, exclude: str = ""
    ) -> str:
        if tag_type in (None, ""):
            return "Regular"
        match = [t for t in TAG_TYPES if t.lower() == str(tag_type).lower()]
        if not match:
            raise ApiError("BadRequestTagType", f"Tag type {tag_type!r} is unknown.")
        for special, code in (
            ("Negative", "BadRequestMultipleNegativeTag"),
            ("GeneralProduct", "BadRequestMultipleGeneralProductTag"),
        ):
            if (
                match[0] == special
                and db.execute(
                    "SELECT 1 FROM tags WHERE project_id = ? AND type = ? AND id != ?",
                    (pid, special, exclude),
                ).fetchone()
            ):
                raise ApiError(code, f"A project has at most one {special} tag.")
        return match[0]

    def get_tag(self, project_id: str, tag_id: str) -> Json:
        """GetTag."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            row = self._tag(db, pid, tag_id)
            return self._tag_json(row, self._tag_counts(db, pid).get(row["id"], 0))

    def get_tags(self, project_id: str) -> list[Json]:
        """GetTags."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            counts = self._tag_counts(db, pid)
            rows = db.execute("SELECT * FROM tags WHERE project_id = ? ORDER BY rowid", (pid,))
            return [self._tag_json(r, counts.get(r["id"], 0)) for r in rows]

    def update_tag(self, now: float, project_id: str, tag_id: str, patch: Json | None) -> Json:
        """UpdateTag: name, description and type; absent members keep their value."""
        patch = patch or {}
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            row = self._tag(db, pid, tag_id)
            name = row["name"]
            if patch.get("name") is not None:
                name = self._check_tag_name(db, pid, patch["name"], exclude=row["id"])
            description = patch.get("description", row["description"])
            ttype = row["type"]
            if patch.get("type") is not None:
                ttype = self._tag_type(db, pid, patch["type"], exclude=row["id"])
            db.execute(
                "UPDATE tags SET name = ?, description = ?, type = ? WHERE id = ?",
                (name, description, ttype, row["id"]),
            )
            if ttype != row["type"]:
                self._touch(db, pid, now)
            return self._tag_json(
                self._tag(db, pid, row["id"]), self._tag_counts(db, pid).get(row["id"], 0)
            )

    def delete_tag(self, now: float, project_id: str, tag_id: str) -> None:
        """DeleteTag: also removes the tag from images and its regions."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            tid = self._tag(db, pid, tag_id)["id"]
            db.execute("DELETE FROM image_tags WHERE tag_id = ?", (tid,))
            db.execute("DELETE FROM regions WHERE tag_id = ?", (tid,))
            db.execute("DELETE FROM tags WHERE id = ?", (tid,))
            self._touch(db, pid, now)

    # ------------------------------------------------------------------ iterations
    def get_iterations(self, project_id: str) -> list[Json]:
        """GetIterations."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            rows = db.execute(
                "SELECT * FROM iterations WHERE project_id = ? ORDER BY rowid", (pid,)
            )
            return [self._iteration_json(r) for r in rows]

    def get_iteration(self, project_id: str, iteration_id: str) -> Json:
        """GetIteration."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            return self._iteration_json(self._iteration(db, pid, iteration_id))

    def update_iteration(
        self, now: float, project_id: str, iteration_id: str, name: Any, is_default: Any
    ) -> Json:
        """UpdateIteration: ``name`` (all versions) and ``isDefault`` (v2.x only, else None)."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            row = self._iteration(db, pid, iteration_id)
            new_name = row["name"]
            if name is not None:
                if not isinstance(name, str) or not name.strip() or len(name) > 256:
                    raise ApiError("BadRequestIterationName", "The iteration name is invalid.")
                if db.execute(
                    "SELECT 1 FROM iterations WHERE project_id = ? AND lower(name) = lower(?) "
                    "AND id != ?",
                    (pid, name, row["id"]),
                ).fetchone():
                    raise ApiError(
                        "BadRequestIterationNameNotUnique", f"An iteration named {name!r} exists."
                    )
                new_name = name
            if is_default is True:
                if row["status"] != "Completed":
                    raise ApiError(
                        "BadRequestIterationIsNotTrained",
                        "Only a trained iteration can be the default one.",
                    )
                db.execute("UPDATE iterations SET is_default = 0 WHERE project_id = ?", (pid,))
            db.execute(
                "UPDATE iterations SET name = ?, is_default = ?, last_modified = ? WHERE id = ?",
                (
                    new_name,
                    row["is_default"] if is_default is None else int(bool(is_default)),
                    now,
                    row["id"],
                ),
            )
            return self._iteration_json(self._iteration(db, pid, row["id"]))

    def delete_iteration(self, project_id: str, iteration_id: str) -> None:
        """DeleteIteration: refused while published or training."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            row = self._iteration(db, pid, iteration_id)
            if row["publish_name"] is not None:
                raise ApiError(
                    "BadRequestIterationIsPublished",
                    "Cannot delete a published iteration; unpublish it first.",
                )
            if row["status"] == "Training":
                raise ApiError(
                    "BadRequestTrainingAlreadyInProgress",
                    "Cannot delete an iteration while it trains.",
                )
            db.execute("DELETE FROM iterations WHERE id = ?", (row["id"],))

    def publish_iteration(
        self,
        now: float,
        project_id: str,
        iteration_id: str,
        publish_name: str | None,
        prediction_id: str | None,
        overwrite: bool | None,
    ) -> bool:
        """PublishIteration."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            row = self._iteration(db, pid, iteration_id)
            if row["status"] != "Completed":
                raise ApiError(
                    "BadRequestIterationIsNotTrained", "Only a trained iteration can be published."
                )
            if not publish_name or not publish_name.strip() or len(publish_name) > 256:
                raise ApiError("BadRequestInvalidPublishName", "The publish name is invalid.")
            if not prediction_id or not _PREDICTION_ID.match(prediction_id):
                raise ApiError(
                    "BadRequestInvalidPublishTarget",
                    "predictionId must be the resource id of a Custom Vision prediction resource.",
                )
            if row["publish_name"] is not None and not overwrite:
                raise ApiError(
                    "BadRequestIterationIsPublished", "The iteration is already published."
                )
            holder = db.execute(
                "SELECT id FROM iterations WHERE project_id = ? AND publish_name = ? AND id != ?",
                (pid, publish_name, row["id"]),
            ).fetchone()
            if holder is not None:
                if not overwrite:
                    raise ApiError(
                        "BadRequestInvalidPublishName",
                        f"The publish name {publish_name!r} is used by another iteration.",
                    )
                db.execute(
                    "UPDATE iterations SET publish_name = NULL, prediction_id = NULL, "
                    "last_modified = ? WHERE id = ?",
                    (now, holder["id"]),
                )
            db.execute(
                "UPDATE iterations SET publish_name = ?, prediction_id = ?, last_modified = ? "
                "WHERE id = ?",
                (publish_name, prediction_id, now, row["id"]),
            )
            return True

    def unpublish_iteration(self, now: float, project_id: str, iteration_id: str) -> None:
        """UnpublishIteration."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            row = self._iteration(db, pid, iteration_id)
            if row["publish_name"] is None:
                raise ApiError("BadRequestIterationNotPublished", "The iteration is not published.")
            db.execute(
                "UPDATE iterations SET publish_name = NULL, prediction_id = NULL, "
                "last_modified = ? WHERE id = ?",
                (now, row["id"]),
            )

    def train_project(
        self,
        now: float,
        project_id: str,
        training_seconds: float,
        training_type: str | None = None,
        reserved_budget: int | None = None,
        force: bool | None = None,
        email: str | None = None,
        selected_tags: Sequence[str] | None = None,
    ) -> Json:
        """TrainProject: validate, then start an iteration that finishes after training_seconds."""
        with self.tx() as db:
            project = self._project(db, project_id)
            pid = project["id"]
            if project["status"] == "Importing":
                raise ApiError("BadRequestNotSupported", "The project is still importing.")
            ttype = "Regular"
            if training_type not in (None, ""):
                match = [t for t in ("Regular", "Advanced") if t.lower() == training_type.lower()]
                if not match:
                    raise ApiError("BadRequest", f"Training type {training_type!r} is unknown.")
                ttype = match[0]
            budget = int(reserved_budget or 0)
            if ttype == "Advanced" and budget < 1:
                raise ApiError(
                    "BadRequestReservedBudgetInHoursNotEnoughForAdvancedTraining",
                    "Advanced training needs reservedBudgetInHours of at least 1.",
                )
            if ttype == "Regular":
                budget = 0
            if email and not _EMAIL.match(email):
                raise ApiError("BadRequestInvalidEmailAddress", f"{email!r} is not an address.")
            if db.execute(
                "SELECT 1 FROM iterations WHERE project_id = ? AND status = 'Training'", (pid,)
            ).fetchone():
                raise ApiError(
                    "BadRequestTrainingAlreadyInProgress", "A training of this project is running."
                )
            latest = db.execute(
                "SELECT trained_version FROM iterations WHERE project_id = ? AND "
                "status = 'Completed' ORDER BY trained_at DESC, rowid DESC LIMIT 1",
                (pid,),
            ).fetchone()
            if latest and latest[0] == project["data_version"] and not force:
                raise ApiError(
                    "BadRequestTrainingNotNeeded",
                    "Nothing changed since the last training; pass forceTrain=true to retrain.",
                )
            count = db.execute(
                "SELECT COUNT(*) FROM iterations WHERE project_id = ?", (pid,)
            ).fetchone()[0]
            if count >= MAX_ITERATIONS_PER_PROJECT:
                raise ApiError(
                    "BadRequestExceedIterationPerProjectLimit",
                    f"A project has at most {MAX_ITERATIONS_PER_PROJECT} iterations; "
                    "delete one first.",
                )
            self._validate_training(db, project, selected_tags)
            outcome = self.forced.pop("TrainProject", "Completed")
            number = project["iteration_counter"] + 1
            iid = new_id()
            db.execute(
                "INSERT INTO iterations(id, project_id, name, status, created, last_modified, "
                "ready_at, outcome, domain_id, classification_type, training_type, "
                "reserved_budget, trained_version, error_details, training_minutes) "
                "VALUES (?, ?, ?, 'Training', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    iid,
                    pid,
                    f"Iteration {number}",
                    now,
                    now,
                    now + training_seconds,
                    outcome,
                    project["domain_id"],
                    project["classification_type"],
                    ttype,
                    budget,
                    project["data_version"],
                    "Training failed (outcome forced by the emulator)."
                    if outcome == "Failed"
                    else None,
                    max(1, math.ceil(training_seconds / 60)),
                ),
            )
            db.execute("UPDATE projects SET iteration_counter = ? WHERE id = ?", (number, pid))
            return self._iteration_json(self._iteration(db, pid, iid))

    def _validate_training(
        self, db: sqlite3.Connection, project: sqlite3.Row, selected: Sequence[str] | None
    ) -> None:
        pid = project["id"]
        tags = {
            r["id"]: r
            for r in db.execute(
                "SELECT * FROM tags WHERE project_id = ? AND type != 'Negative'", (pid,)
            )
        }
        if selected:
            chosen = [parse_guid(t, "BadRequestInvalidIds", "Tag") for t in selected]
            unknown = [t for t in chosen if t not in tags]
            if unknown:
                raise ApiError("BadRequestInvalidIds", f"Unknown selected tags: {unknown}.")
            tags = {t: tags[t] for t in chosen}
        detection = is_detection(project["domain_id"])
        if detection:
            sql = "SELECT tag_id, COUNT(DISTINCT image_id) FROM regions WHERE project_id = ? "
            minimum, min_tags = MIN_IMAGES_PER_TAG_DETECTION, 1
        else:
            sql = "SELECT tag_id, COUNT(*) FROM image_tags WHERE project_id = ? "
            minimum, min_tags = MIN_IMAGES_PER_TAG_CLASSIFICATION, MIN_TAGS_CLASSIFICATION
        counts = {r[0]: r[1] for r in db.execute(sql + "GROUP BY tag_id", (pid,))}
        short = [tags[t]["name"] for t in tags if counts.get(t, 0) < minimum]
        if len(tags) < min_tags or short:
            what = "object detection" if detection else "classification"
            raise ApiError(
                "BadRequestTrainingValidationFailed",
                f"Not enough data to train ({what} needs at least {min_tags} tag(s) with at "
                f"least {minimum} {'images with regions' if detection else 'images'} each"
                + (f"; too few for: {', '.join(sorted(short))}" if short else "")
                + ").",
            )

    # ------------------------------------------------------------------ images
    def create_images(
        self,
        now: float,
        project_id: str,
        inputs: Sequence[ImageInput],
        batch_tag_ids: Sequence[str] | None,
        metadata: Json | None,
    ) -> tuple[Json, bool]:
        """CreateImagesFrom{Data,Files,Urls}: the summary and whether the batch fully succeeded."""
        if not inputs:
            raise ApiError("BadRequestImageBatch", "The batch contains no image.")
        if len(inputs) > MAX_IMAGE_BATCH:
            raise ApiError("BadRequestImageBatch", f"A batch has at most {MAX_IMAGE_BATCH} images.")
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            known_tags = {
                r[0] for r in db.execute("SELECT id FROM tags WHERE project_id = ?", (pid,))
            }
            results: list[Json] = []
            created_ids: list[str] = []
            all_ok = True
            for item in inputs:
                result, image_id = self._create_one(
                    db, now, pid, item, list(batch_tag_ids or []), known_tags, metadata
                )
                all_ok = all_ok and result["status"] == "OK"
                if image_id:
                    created_ids.append(image_id)
                results.append(result)
            rendered = {
                img["id"]: img
                for img in self._images_json(
                    db,
                    [
                        r
                        for chunk in _chunks(created_ids)
                        for r in db.execute(
                            f"SELECT * FROM images WHERE id IN ({','.join('?' * len(chunk))})",
                            chunk,
                        )
                    ],
                    fresh=True,
                )
            }
            for result in results:
                if "image" in result:
                    result["image"] = rendered[result.pop("image")]
            if created_ids:
                self._touch(db, pid, now)
            return {"isBatchSuccessful": all_ok, "images": results}, all_ok

    def _create_one(
        self,
        db: sqlite3.Connection,
        now: float,
        pid: str,
        item: ImageInput,
        batch_tags: list[str],
        known_tags: set[str],
        metadata: Json | None,
    ) -> tuple[Json, str | None]:
        result: Json = {"sourceUrl": item.source, "status": "OK"}
        tag_ids: list[str] = []
        for t in list(item.tag_ids) + batch_tags + [r.get("tagId") for r in item.regions]:
            try:
                tid = str(uuid.UUID(str(t)))
            except ValueError:
                tid = ""
            if tid not in known_tags:
                result["status"] = "ErrorInvalidTag"
                return result, None
            if tid not in tag_ids:
                tag_ids.append(tid)
        if len(tag_ids) > MAX_TAGS_PER_IMAGE:
            result["status"] = "ErrorTagLimitExceed"
            return result, None
        if len(item.regions) > MAX_REGIONS_PER_IMAGE:
            result["status"] = "ErrorRegionLimitExceed"
            return result, None
        if item.url is not None:
            if not re.match(r"^https?://[^\s/]+", item.url, re.IGNORECASE):
                result["status"] = "ErrorSource"
                return result, None
            # No network here: URL images get a fixed size and are identified by their URL.
            size = (640, 480)
            digest = "url:" + hashlib.sha256(item.url.encode()).hexdigest()
        else:
            data = item.data or b""
            if len(data) > MAX_IMAGE_BYTES:
                result["status"] = "ErrorImageSize"
                return result, None
            sniffed = image_size(data)
            if sniffed is None:
                result["status"] = "ErrorImageFormat"
                return result, None
            size = sniffed
            digest = hashlib.sha256(data).hexdigest()
        dup = db.execute(
            "SELECT id FROM images WHERE project_id = ? AND digest = ?", (pid, digest)
        ).fetchone()
        if dup is not None:
            result["status"] = "OKDuplicate"
            result["image"] = dup["id"]
            return result, dup["id"]
        iid = new_id()
        db.execute(
            "INSERT INTO images(id, project_id, created, width, height, digest, metadata) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (iid, pid, now, size[0], size[1], digest, json.dumps(metadata) if metadata else None),
        )
        db.executemany(
            "INSERT INTO image_tags(image_id, tag_id, project_id, created) VALUES (?, ?, ?, ?)",
            [(iid, t, pid, now) for t in tag_ids],
        )
        db.executemany(
            "INSERT INTO regions(id, image_id, tag_id, project_id, left, top, width, height, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (new_id(), iid, str(uuid.UUID(str(r["tagId"]))), pid, *self._box(r), now)
                for r in item.regions
            ],
        )
        result["image"] = iid
        return result, iid

    @staticmethod
    def _box(entry: Json) -> tuple[float, float, float, float]:
        try:
            box = tuple(float(entry[k]) for k in ("left", "top", "width", "height"))
        except (KeyError, TypeError, ValueError):
            raise ApiError(
                "BadRequestImageRegions", "A region needs left, top, width and height."
            ) from None
        left, top, width, height = box
        if not (0 <= left <= 1 and 0 <= top <= 1 and 0 < width <= 1 and 0 < height <= 1) or (
            left + width > 1 + 1e-6 or top + height > 1 + 1e-6
        ):
            raise ApiError(
                "BadRequestImageRegions",
                "Region coordinates are normalised: 0 <= left, top; left+width, top+height <= 1.",
            )
        return left, top, width, height

    @staticmethod
    def _image_ids(ids: Iterable[str]) -> list[str]:
        return [parse_guid(i, "BadRequestInvalidIds", "Image") for i in ids]

    def get_images_by_ids(self, project_id: str, image_ids: Sequence[str]) -> list[Json]:
        """GetImagesByIds: unknown ids are left out."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            ids = self._image_ids(image_ids)
            rows: list[sqlite3.Row] = []
            for chunk in _chunks(ids):
                rows += db.execute(
                    f"SELECT * FROM images WHERE project_id = ? AND id IN "
                    f"({','.join('?' * len(chunk))})",
                    (pid, *chunk),
                ).fetchall()
            order = {i: n for n, i in enumerate(ids)}
            rows.sort(key=lambda r: order[r["id"]])
            return self._images_json(db, rows)

    def _filter(
        self, pid: str, tagging: str, tag_ids: Sequence[str] | None
    ) -> tuple[str, list[Any]]:
        where = "i.project_id = ?"
        args: list[Any] = [pid]
        status = tagging.lower()
        if status == "tagged":
            where += " AND EXISTS (SELECT 1 FROM image_tags it WHERE it.image_id = i.id)"
        elif status == "untagged":
            where += " AND NOT EXISTS (SELECT 1 FROM image_tags it WHERE it.image_id = i.id)"
        elif status != "all":
            raise ApiError("BadRequest", f"taggingStatus {tagging!r} is unknown.")
        if tag_ids:
            tids = [parse_guid(t, "BadRequestInvalidIds", "Tag") for t in tag_ids]
            where += (
                " AND EXISTS (SELECT 1 FROM image_tags it WHERE it.image_id = i.id AND "
                f"it.tag_id IN ({','.join('?' * len(tids))}))"
            )
            args += tids
        return where, args

    def query_images(
        self,
        project_id: str,
        tagging: str,
        tag_ids: Sequence[str] | None,
        order_by: str | None,
        take: int | None,
        skip: int | None,
    ) -> list[Json]:
        """GetImages / GetTaggedImages / GetUntaggedImages (tagging: All, Tagged, Untagged)."""
        take = 50 if take is None else take
        skip = skip or 0
        if not 0 <= take <= 256 or skip < 0:
            raise ApiError("BadRequest", "take must be between 0 and 256 and skip >= 0.")
        order = (order_by or "Newest").lower()
        if order not in ("newest", "oldest"):
            raise ApiError("BadRequest", f"orderBy {order_by!r} is unknown.")
        direction = "DESC" if order == "newest" else "ASC"
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            where, args = self._filter(pid, tagging, tag_ids)
            rows = db.execute(
                f"SELECT i.* FROM images i WHERE {where} "
                f"ORDER BY i.created {direction}, i.rowid {direction} LIMIT ? OFFSET ?",
                (*args, take, skip),
            ).fetchall()
            return self._images_json(db, rows)

    def count_images(self, project_id: str, tagging: str, tag_ids: Sequence[str] | None) -> int:
        """GetImageCount / GetTaggedImageCount / GetUntaggedImageCount."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            where, args = self._filter(pid, tagging, tag_ids)
            return int(
                db.execute(f"SELECT COUNT(*) FROM images i WHERE {where}", args).fetchone()[0]
            )

    def delete_images(
        self, now: float, project_id: str, image_ids: Sequence[str] | None, all_images: bool
    ) -> None:
        """DeleteImages (by ids, or every image with allImages)."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            if all_images:
                ids = [
                    r[0] for r in db.execute("SELECT id FROM images WHERE project_id = ?", (pid,))
                ]
            elif image_ids:
                ids = self._image_ids(image_ids)
            else:
                raise ApiError(
                    "BadRequestRequiredParamIsNull", "imageIds or allImages is required."
                )
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                for table, column in (
                    ("regions", "image_id"),
                    ("image_tags", "image_id"),
                    ("images", "id"),
                ):
                    db.execute(
                        f"DELETE FROM {table} WHERE project_id = ? AND {column} IN ({marks})",
                        (pid, *chunk),
                    )
            self._touch(db, pid, now)

    # ------------------------------------------------------------------ regions
    def create_regions(self, now: float, project_id: str, entries: Any) -> tuple[Json, bool]:
        """CreateImageRegions: created / duplicated / exceeded; True when all were created."""
        _check_batch(entries, "BadRequestImageRegions", "region", "regions", MAX_REGION_BATCH)
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            parsed = []
            for e in entries:
                if not isinstance(e, dict):
                    raise ApiError("BadRequestImageRegions", "A region entry must be an object.")
                iid = parse_guid(e.get("imageId"), "BadRequestInvalidIds", "Image")
                tid = parse_guid(e.get("tagId"), "BadRequestInvalidIds", "Tag")
                parsed.append((iid, tid, self._box(e), e))
            image_set = sorted({p[0] for p in parsed})
            tag_set = sorted({p[1] for p in parsed})
            found_images = {
                r[0]
                for chunk in _chunks(image_set)
                for r in db.execute(
                    f"SELECT id FROM images WHERE project_id = ? AND id IN "
                    f"({','.join('?' * len(chunk))})",
                    (pid, *chunk),
                )
            }
            found_tags = {
                r[0]
                for r in db.execute(
                    f"SELECT id FROM tags WHERE project_id = ? AND id IN "
                    f"({','.join('?' * len(tag_set))})",
                    (pid, *tag_set),
                )
            }
            missing = [i for i in image_set if i not in found_images]
            missing += [t for t in tag_set if t not in found_tags]
            if missing:
                raise ApiError("BadRequestInvalidIds", f"Unknown image or tag ids: {missing}.")
            existing: dict[str, list[tuple[str, tuple[float, ...]]]] = {}
            for chunk in _chunks(image_set):
                for r in db.execute(
                    f"SELECT image_id, tag_id, left, top, width, height FROM regions "
                    f"WHERE image_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ):
                    existing.setdefault(r[0], []).append((r[1], (r[2], r[3], r[4], r[5])))
            summary: Json = {"created": [], "duplicated": [], "exceeded": []}
            rows = []
            for iid, tid, box, _entry in parsed:
                echo = {
                    "imageId": iid,
                    "tagId": tid,
                    "left": box[0],
                    "top": box[1],
                    "width": box[2],
                    "height": box[3],
                }
                current = existing.setdefault(iid, [])
                if any(
                    t == tid and all(abs(a - b) < 1e-9 for a, b in zip(c, box, strict=True))
                    for t, c in current
                ):
                    summary["duplicated"].append(echo)
                    continue
                if len(current) >= MAX_REGIONS_PER_IMAGE:
                    summary["exceeded"].append(echo)
                    continue
                current.append((tid, box))
                rid = new_id()
                rows.append((rid, iid, tid, pid, *box, now))
                # tagName is null in the service's answer (recordings), set on later reads.
                summary["created"].append(
                    {
                        "imageId": iid,
                        "regionId": rid,
                        "tagName": None,
                        "created": iso_image(now),
                        "tagId": tid,
                        "left": box[0],
                        "top": box[1],
                        "width": box[2],
                        "height": box[3],
                    }
                )
            db.executemany(
                "INSERT INTO regions(id, image_id, tag_id, project_id, left, top, width, height, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            # A region tags its image (the service lists the region's tag among the image tags).
            db.executemany(
                "INSERT OR IGNORE INTO image_tags(image_id, tag_id, project_id, created) "
                "VALUES (?, ?, ?, ?)",
                [(r[1], r[2], pid, now) for r in rows],
            )
            if rows:
                self._touch(db, pid, now)
            ok = not summary["duplicated"] and not summary["exceeded"]
            return summary, ok

    def delete_regions(self, now: float, project_id: str, region_ids: Sequence[str]) -> None:
        """DeleteImageRegions: unknown ids are ignored."""
        if not region_ids:
            raise ApiError("BadRequestRequiredParamIsNull", "regionIds is required.")
        if len(region_ids) > MAX_REGION_BATCH:
            raise ApiError(
                "BadRequestExceededBatchSize", f"At most {MAX_REGION_BATCH} regions at once."
            )
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            ids = [parse_guid(r, "BadRequestInvalidIds", "Region") for r in region_ids]
            marks = ",".join("?" * len(ids))
            gone = db.execute(
                f"SELECT image_id, tag_id FROM regions WHERE project_id = ? AND id IN ({marks})",
                (pid, *ids),
            ).fetchall()
            db.execute(f"DELETE FROM regions WHERE project_id = ? AND id IN ({marks})", (pid, *ids))
            # The image keeps a tag only while a region of that tag remains on it.
            for image_id, tag_id in {(g[0], g[1]) for g in gone}:
                if not db.execute(
                    "SELECT 1 FROM regions WHERE image_id = ? AND tag_id = ?", (image_id, tag_id)
                ).fetchone():
                    db.execute(
                        "DELETE FROM image_tags WHERE image_id = ? AND tag_id = ?",
                        (image_id, tag_id),
                    )
            if gone:
                self._touch(db, pid, now)

    # ------------------------------------------------------------------ image tags
    def create_image_tags(self, now: float, project_id: str, entries: Any) -> Json:
        """CreateImageTags: created / duplicated / exceeded (20 tags per image)."""
        _check_batch(entries, "BadRequestImageTags", "tag", "image tags", MAX_TAG_BATCH)
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            summary: Json = {"created": [], "duplicated": [], "exceeded": []}
            for e in entries:
                iid = parse_guid((e or {}).get("imageId"), "BadRequestInvalidIds", "Image")
                tid = parse_guid((e or {}).get("tagId"), "BadRequestInvalidIds", "Tag")
                if (
                    not db.execute(
                        "SELECT 1 FROM images WHERE id = ? AND project_id = ?", (iid, pid)
                    ).fetchone()
                    or not db.execute(
                        "SELECT 1 FROM tags WHERE id = ? AND project_id = ?", (tid, pid)
                    ).fetchone()
                ):
                    raise ApiError("BadRequestInvalidIds", f"Unknown image {iid} or tag {tid}.")
                echo = {"imageId": iid, "tagId": tid}
                if db.execute(
                    "SELECT 1 FROM image_tags WHERE image_id = ? AND tag_id = ?", (iid, tid)
                ).fetchone():
                    summary["duplicated"].append(echo)
                elif (
                    db.execute(
                        "SELECT COUNT(*) FROM image_tags WHERE image_id = ?", (iid,)
                    ).fetchone()[0]
                    >= MAX_TAGS_PER_IMAGE
                ):
                    summary["exceeded"].append(echo)
                else:
                    db.execute(
                        "INSERT INTO image_tags(image_id, tag_id, project_id, created) "
                        "VALUES (?, ?, ?, ?)",
                        (iid, tid, pid, now),
                    )
                    summary["created"].append(echo)
            if summary["created"]:
                self._touch(db, pid, now)
            return summary

    def delete_image_tags(
        self, now: float, project_id: str, image_ids: Sequence[str], tag_ids: Sequence[str]
    ) -> None:
        """DeleteImageTags."""
        if not image_ids or not tag_ids:
            raise ApiError("BadRequestRequiredParamIsNull", "imageIds and tagIds are required.")
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            iids = [parse_guid(i, "BadRequestInvalidIds", "Image") for i in image_ids]
            tids = [parse_guid(t, "BadRequestInvalidIds", "Tag") for t in tag_ids]
            db.execute(
                f"DELETE FROM image_tags WHERE project_id = ? AND image_id IN "
                f"({','.join('?' * len(iids))}) AND tag_id IN ({','.join('?' * len(tids))})",
                (pid, *iids, *tids),
            )
            self._touch(db, pid, now)

    # ------------------------------------------------------------------ extras
    def iteration_performance(self, project_id: str, iteration_id: str) -> Json:
        """GetIterationPerformance: fixed plausible figures (the emulator trains nothing)."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            row = self._iteration(db, pid, iteration_id)
            if row["status"] != "Completed":
                raise ApiError(
                    "BadRequestIterationIsNotTrained", "The iteration has not been trained."
                )
            figures = {
                "precision": 0.9,
                "precisionStdDeviation": 0.0,
                "recall": 0.9,
                "recallStdDeviation": 0.0,
                "averagePrecision": 0.9,
            }
            tags = db.execute(
                "SELECT id, name FROM tags WHERE project_id = ? AND type != 'Negative' "
                "ORDER BY rowid",
                (pid,),
            ).fetchall()
            return {
                "perTagPerformance": [{"id": t[0], "name": t[1], **figures} for t in tags],
                **figures,
            }

    def region_proposals(self, project_id: str, image_id: str) -> Json:
        """GetImageRegionProposals: one centred proposal (no model runs here)."""
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            iid = parse_guid(image_id, "NotFoundImage", "Image")
            if not db.execute(
                "SELECT 1 FROM images WHERE id = ? AND project_id = ?", (iid, pid)
            ).fetchone():
                raise ApiError("NotFoundImage", f"Image {image_id} was not found.")
            box = {"left": 0.25, "top": 0.25, "width": 0.5, "height": 0.5}
            return {
                "projectId": pid,
                "imageId": iid,
                "proposals": [{"confidence": 0.5, "boundingBox": box}],
            }

    def update_image_metadata(
        self, project_id: str, image_ids: Sequence[str], metadata: Any
    ) -> tuple[Json, bool]:
        """UpdateImageMetadata: merge string key/values into up to 64 images' metadata."""
        if not image_ids:
            raise ApiError("BadRequestRequiredParamIsNull", "imageIds is required.")
        if len(image_ids) > MAX_IMAGE_BATCH:
            raise ApiError("BadRequestExceededBatchSize", "At most 64 images at once.")
        if not isinstance(metadata, dict):
            raise ApiError("BadRequestImageMetadataKey", "metadata must be an object.")
        for key, value in metadata.items():
            if not key or len(key) > 128:
                raise ApiError("BadRequestImageMetadataKey", f"Invalid metadata key {key!r}.")
            if not isinstance(value, str) or len(value) > 256:
                raise ApiError("BadRequestImageMetadataValue", f"Invalid value for {key!r}.")
        with self.tx() as db:
            pid = self._project(db, project_id)["id"]
            entries: list[Json] = []
            for raw in image_ids:
                iid = parse_guid(raw, "BadRequestInvalidIds", "Image")
                row = db.execute(
                    "SELECT metadata FROM images WHERE id = ? AND project_id = ?", (iid, pid)
                ).fetchone()
                if row is None:
                    entries.append({"imageId": iid, "status": "ErrorImageNotFound"})
                    continue
                merged = {**json.loads(row[0] or "{}"), **metadata}
                if len(merged) > 10:
                    entries.append({"imageId": iid, "status": "ErrorLimitExceed"})
                    continue
                db.execute("UPDATE images SET metadata = ? WHERE id = ?", (json.dumps(merged), iid))
                entries.append({"imageId": iid, "status": "OK", "metadata": merged})
            ok = all(e["status"] == "OK" for e in entries)
            return {"isBatchSuccessful": ok, "images": entries}, ok

    # ------------------------------------------------------------------ dump
    def dump(self) -> Json:
        """The whole state in the service's JSON shapes (admin ``state``)."""
        with self.tx() as db:
            projects = []
            for p in db.execute("SELECT * FROM projects ORDER BY rowid").fetchall():
                pid = p["id"]
                counts = self._tag_counts(db, pid)
                item = self._project_json(p)
                item["tags"] = [
                    self._tag_json(t, counts.get(t["id"], 0))
                    for t in db.execute(
                        "SELECT * FROM tags WHERE project_id = ? ORDER BY rowid", (pid,)
                    )
                ]
                item["images"] = self._images_json(
                    db,
                    db.execute(
                        "SELECT * FROM images WHERE project_id = ? ORDER BY rowid", (pid,)
                    ).fetchall(),
                )
                item["iterations"] = [
                    self._iteration_json(i)
                    for i in db.execute(
                        "SELECT * FROM iterations WHERE project_id = ? ORDER BY rowid", (pid,)
                    )
                ]
                projects.append(item)
            exports = db.execute("SELECT COUNT(*) FROM exports").fetchone()[0]
            return {"projects": projects, "exports": exports, "forcedOutcomes": dict(self.forced)}


def now() -> float:
    """The clock the emulator uses (wall time: timestamps survive restarts)."""
    return time.time()
