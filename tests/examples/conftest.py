"""Fixtures of the example tests: a second emulator (the prod account) and shared exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from customvision_emulator.settings import TEST_DEFAULTS
from customvision_emulator.store import Store
from customvision_emulator.testing import RunningEmulator, run_emulator


@pytest.fixture(scope="module")
def prod_emulator_server() -> Iterator[RunningEmulator]:
    """A second emulator for the module: another account."""
    with run_emulator(**TEST_DEFAULTS) as emu:
        yield emu


@pytest.fixture
def prod_emulator(prod_emulator_server: RunningEmulator) -> RunningEmulator:
    """The second emulator, emptied and set to the fast test defaults."""
    prod_emulator_server.admin.reset()
    prod_emulator_server.admin.configure(**TEST_DEFAULTS)
    return prod_emulator_server


@pytest.fixture
def shared_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let one emulator import what another exported, as Azure accounts can.

    A real export token is a URL any account can read; an emulator keeps its exports in its
    own database, so a token of one emulator is unknown to another. Both emulators run in
    this process: each export's row is copied into the importing emulator on import.
    """
    exported: dict[str, tuple[Any, ...]] = {}
    original_export, original_import = Store.export_project, Store.import_project

    def export_project(self: Store, *args: Any, **kwargs: Any) -> Any:
        result = original_export(self, *args, **kwargs)
        with self.tx() as db:
            row = db.execute(
                "SELECT token, project_id, created, expires, snapshot FROM exports WHERE token = ?",
                (result["token"],),
            ).fetchone()
        exported[result["token"]] = tuple(row)
        return result

    def import_project(self: Store, now: float, token: str | None, *args: Any) -> Any:
        if token in exported:
            with self.tx() as db:
                db.execute(
                    "INSERT OR IGNORE INTO exports(token, project_id, created, expires, "
                    "snapshot) VALUES (?, ?, ?, ?, ?)",
                    exported[token],
                )
        return original_import(self, now, token, *args)

    monkeypatch.setattr(Store, "export_project", export_project)
    monkeypatch.setattr(Store, "import_project", import_project)
