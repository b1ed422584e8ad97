"""A small dynamic provider for testing the engine driver (it knows nothing of Custom Vision).

Items live in a JSON file ``items.json`` in the directory named by the stack config
``toy:dataDir``. The provider class holds no state of its own besides what ``configure``
gives it, and lives in an importable module, so dill pickles it *by reference* and it
really runs inside the provider server process.

Inputs of an item: ``name`` (required, non-empty string), ``value`` (anything),
``replace_key`` (a change forces replacement), ``dbr`` (ask for delete-before-replace),
``fail_on`` (``"create"``/``"update"``/``"delete"``: raise ``ValueError`` there),
``create_delay`` (seconds to sleep inside create, after recording ``create-started``).
Outputs: the inputs plus ``item_id``, ``revision`` (1, +1 per update) and ``note``
(secret config is never put in outputs; ``config_seen`` is in the store instead).

The store also keeps ``ops``: every call as ``[op, id, name]`` in order, and
``configured``: one entry per ``configure`` call with the config it saw.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic as dyn
from pulumi.output import Unknown

DATA_DIR_KEY = "toy:dataDir"
TOKEN_KEY = "toy:token"
USER_FIELDS = ("name", "value", "replace_key", "dbr")


class Store:
    """The toy's JSON file, read and written under an exclusive file lock."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        """Use ``items.json`` in ``data_dir`` (created if missing)."""
        self.path = Path(data_dir) / "items.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        """Yield the whole document; it is written back when the block ends."""
        lock = self.path.with_suffix(".lock")
        with open(lock, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                data = self._load()
                yield data
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        if self.path.exists():
            data: dict[str, Any] = json.loads(self.path.read_text())
            return data
        return {"items": {}, "ops": [], "configured": []}

    def read(self) -> dict[str, Any]:
        """A snapshot of the document (``items``, ``ops``, ``configured``)."""
        with self.edit() as data:
            return json.loads(json.dumps(data))  # type: ignore[no-any-return]


class ToyProvider(dyn.ResourceProvider):
    """The toy items provider: full check/diff/create/read/update/delete."""

    _store: Store | None = None

    def configure(self, req: dyn.ConfigureRequest) -> None:
        """Open the store named by ``toy:dataDir`` and record what config arrived."""
        data_dir = req.config.get(DATA_DIR_KEY)
        if data_dir is None:
            raise ValueError("set toy:dataDir")
        self._store = Store(data_dir)
        token = req.config.get(TOKEN_KEY)
        with self._store.edit() as data:
            data["configured"].append(
                {
                    "data_dir": data_dir,
                    "token": token,
                    "token_type": type(token).__name__,
                    "short_key": req.config.get("dataDir"),
                    "pid": os.getpid(),
                }
            )

    @property
    def store(self) -> Store:
        """The configured store (``configure`` must have run)."""
        if self._store is None:
            raise RuntimeError("provider not configured")
        return self._store

    def _record(self, data: dict[str, Any], op: str, id_: str, name: Any) -> None:
        data["ops"].append([op, id_, name if isinstance(name, str) else None])

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """``name`` must be a non-empty string (unknown passes); strips ``value`` spaces."""
        failures = []
        name = news.get("name")
        if not isinstance(name, Unknown) and (not isinstance(name, str) or not name):
            failures.append(dyn.CheckFailure("name", "name must be a non-empty string"))
        inputs = dict(news)
        if isinstance(inputs.get("value"), str):
            inputs["value"] = inputs["value"].strip()
        return dyn.CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Changes in user fields update in place, except ``replace_key`` (replaces)."""
        changed = [k for k in USER_FIELDS if olds.get(k) != news.get(k)]
        replaces = ["replace_key"] if "replace_key" in changed else []
        return dyn.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(news.get("dbr")) if replaces else None,
        )

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """Store a new item; honours ``fail_on="create"`` and ``create_delay``."""
        item_id = uuid.uuid4().hex[:12]
        if props.get("create_delay"):
            with self.store.edit() as data:
                self._record(data, "create-started", item_id, props.get("name"))
            time.sleep(float(props["create_delay"]))
        if props.get("fail_on") == "create":
            raise ValueError(f"toy create failed for {props.get('name')}")
        outs = {k: props[k] for k in props if k != "__provider"}
        outs.update(item_id=item_id, revision=1, note=f"item {props.get('name')}")
        with self.store.edit() as data:
            data["items"][item_id] = outs
            self._record(data, "create", item_id, props.get("name"))
        return dyn.CreateResult(item_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """Return the stored item (drift shows), or an empty id when it is gone."""
        with self.store.edit() as data:
            self._record(data, "read", id_, props.get("name"))
            item = data["items"].get(id_)
        if item is None:
            return dyn.ReadResult("", {})
        return dyn.ReadResult(id_, dict(item))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """Rewrite the item with the new inputs, ``revision`` + 1."""
        if news.get("fail_on") == "update":
            raise ValueError(f"toy update failed for {news.get('name')}")
        outs = {k: news[k] for k in news if k != "__provider"}
        outs.update(
            item_id=id_, revision=int(olds.get("revision", 0)) + 1, note=f"item {news['name']}"
        )
        with self.store.edit() as data:
            data["items"][id_] = outs
            self._record(data, "update", id_, news.get("name"))
        return dyn.UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Remove the item; already gone is fine."""
        if props.get("fail_on") == "delete":
            raise ValueError(f"toy delete failed for {props.get('name')}")
        with self.store.edit() as data:
            data["items"].pop(id_, None)
            self._record(data, "delete", id_, props.get("name"))


class DefaultDiffProvider(ToyProvider):
    """The toy with the SDK's default ``diff`` (answers DIFF_UNKNOWN, no replaces)."""

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> dyn.DiffResult:
        """Say nothing: the engine compares old and new inputs itself."""
        return dyn.DiffResult()


class Item(dyn.Resource, module="toy", name="Item"):
    """A toy item as a program declares it (type ``pulumi-python:dynamic/toy:Item``)."""

    item_id: pulumi.Output[str]
    revision: pulumi.Output[float]
    note: pulumi.Output[str]
    name: pulumi.Output[str]
    value: pulumi.Output[Any]

    def __init__(
        self,
        resource_name: str,
        name: pulumi.Input[str],
        value: pulumi.Input[Any] = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare an item called ``name`` holding ``value``."""
        super().__init__(
            ToyProvider(),
            resource_name,
            {"name": name, "value": value, "item_id": None, "revision": None, "note": None},
            opts,
        )


class AlwaysChangesProvider(ToyProvider):
    """A broken toy whose ``diff`` always reports a change (second up is never empty)."""

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> dyn.DiffResult:
        """Always "changes", never replaces."""
        return dyn.DiffResult(changes=True)


class RawItem(dyn.Resource):
    """A toy item with raw props (type ``pulumi-python:dynamic:Resource``)."""

    def __init__(
        self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Declare an item with exactly ``props`` as inputs."""
        super().__init__(ToyProvider(), resource_name, props, opts)
