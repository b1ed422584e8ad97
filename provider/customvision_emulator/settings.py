"""Run-time settings of the emulator (CLI flags, ``run_emulator`` keywords, admin API)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

#: The well-known training key the emulator accepts unless told otherwise. Like Azurite's
#: account key it is public on purpose: the emulator guards nothing.
DEFAULT_TRAINING_KEY = "c0ffee00c0ffee00c0ffee00c0ffee00"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5005


@dataclass
class Settings:
    """Everything that shapes the emulator's behaviour; all but host/port/data_dir change live."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: str | None = None
    #: Folder of the export exchange shared by emulators (None: the system temp folder).
    exports_dir: str | None = None
    training_key: str = DEFAULT_TRAINING_KEY
    requests_per_second: float = 10.0
    training_requests_per_second: float = 10.0
    training_seconds: float = 10.0
    import_seconds: float = 2.0
    latency_ms: float = 0.0
    export_token_ttl_seconds: float = 24 * 3600.0

    #: Settings that only matter when the server starts.
    STARTUP_ONLY = ("host", "port", "data_dir", "exports_dir")

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` (names as in the dataclass), refusing unknown or start-up names."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known or name in self.STARTUP_ONLY:
                raise ValueError(f"unknown or start-up-only setting: {name}")
            current = getattr(self, name)
            if isinstance(current, float):
                value = float(value)
            elif isinstance(current, str):
                value = str(value)
            setattr(self, name, value)

    def public(self) -> dict[str, Any]:
        """The settings as JSON (the key included: it is the well-known test key or the user's)."""
        return asdict(self)


#: What the ``customvision_emulator`` pytest fixture resets to before every test.
TEST_DEFAULTS: dict[str, Any] = {
    "training_key": DEFAULT_TRAINING_KEY,
    "requests_per_second": 0.0,
    "training_requests_per_second": 0.0,
    "training_seconds": 0.3,
    "import_seconds": 0.2,
    "latency_ms": 0.0,
    "export_token_ttl_seconds": 24 * 3600.0,
}
