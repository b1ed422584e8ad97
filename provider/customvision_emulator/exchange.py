"""Export tokens that every emulator on the machine can import, as Azure accounts can.

A real export token is a read-only SAS URL to a blob: any account that has the token can
import the project. Emulators keep their state in their own databases, so exports are
also published to an *exchange*: one small SQLite file that every emulator on the machine
shares (by default in the system's temporary directory; ``--exports-dir`` moves it). An
emulator then imports a token it did not issue, as a prod account imports a dev export.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exports(
    token TEXT PRIMARY KEY, expires REAL NOT NULL, snapshot TEXT NOT NULL
);
"""


def default_exports_dir() -> Path:
    """Where emulators share their exports unless told otherwise."""
    return Path(tempfile.gettempdir()) / "customvision-emulator"


class ExportExchange:
    """Exported project snapshots by token, shared between emulator processes.

    Every call opens its own short connection, so threads and processes can share the
    file safely; SQLite's locking serialises writers.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        folder = Path(directory) if directory else default_exports_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "exports.sqlite3"
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def publish(self, token: str, expires: float, snapshot: str, now: float) -> None:
        """Make ``token`` importable everywhere until ``expires``; forget expired ones."""
        with self._connect() as db:
            db.execute("DELETE FROM exports WHERE expires <= ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO exports(token, expires, snapshot) VALUES (?, ?, ?)",
                (token, expires, snapshot),
            )

    def find(self, token: str, now: float) -> str | None:
        """The snapshot behind a valid, unexpired token, or ``None``."""
        with self._connect() as db:
            row = db.execute(
                "SELECT snapshot FROM exports WHERE token = ? AND expires > ?", (token, now)
            ).fetchone()
        return None if row is None else str(row[0])
