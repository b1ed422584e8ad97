"""Running the examples as Pulumi would, under mocks, against emulators.

An example's configuration comes from its own files, as the Pulumi CLI assembles it: the
project-level ``config:`` of ``Pulumi.yaml`` (defaults for every stack), then the stack's
``Pulumi.<stack>.yaml``. The emulator's well-known URL in those files is rewritten to the
test emulators' URLs (``http://127.0.0.1:5005`` -> the dev emulator, ``:5006`` -> the
prod emulator), so a test runs exactly the configuration a user gets.

The program runs with the example's directory as the working directory and on
``sys.path``, as the Python language host runs it (and as the engine starts the dynamic
provider), so that relative paths (the dataset) resolve the same way; the organization is
``organization``, as with the local backend.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime import settings as pulumi_settings

from tests.engine.mocks import ProgramResult, ProviderMocks, run_program

ROOT = Path(__file__).resolve().parents[2]
ORGANIZATION = "organization"
"""The organization of every stack with the local backend (``pulumi login --local``)."""
EXAMPLES = ROOT / "examples"
WELL_KNOWN = {"dev": "http://127.0.0.1:5005", "prod": "http://127.0.0.1:5006"}


def load_project(directory: Path) -> dict[str, Any]:
    """The parsed ``Pulumi.yaml`` of a project directory."""
    data: dict[str, Any] = yaml.safe_load((directory / "Pulumi.yaml").read_text())
    return data


def _config_value(value: Any) -> Any:
    """A project-level config entry's value: plain, ``{value: ...}`` or ``{type, default}``."""
    if isinstance(value, dict):
        if "value" in value:
            return value["value"]
        return value.get("default")
    return value


def _as_config_string(value: Any) -> str:
    """Config values reach the program and the provider as strings (objects as JSON)."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _qualified(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _retarget(value: str, urls: Mapping[str, str]) -> str:
    for role, well_known in WELL_KNOWN.items():
        if role in urls:
            value = value.replace(well_known, urls[role])
    return value


def example_config(
    directory: Path, stack: str, urls: Mapping[str, str], **overrides: str
) -> dict[str, str]:
    """The stack configuration of ``directory``'s project for ``stack``, retargeted.

    ``urls`` maps ``"dev"``/``"prod"`` to the test emulators' URLs. ``overrides`` are
    further ``key=value`` settings (keys without a namespace belong to the project).
    """
    project = load_project(directory)
    name = project["name"]
    config: dict[str, str] = {}
    for key, value in (project.get("config") or {}).items():
        resolved = _config_value(value)
        if resolved is not None:
            config[_qualified(key, name)] = _as_config_string(resolved)
    stack_file = directory / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        stack_config = yaml.safe_load(stack_file.read_text()).get("config") or {}
        for key, value in stack_config.items():
            config[_qualified(key, name)] = _as_config_string(value)
    for key, value in overrides.items():
        config[_qualified(key, name)] = value
    return {k: _retarget(v, urls) for k, v in config.items()}


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run in ``path`` (the language host runs the program in its directory)."""
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_example(
    directory: Path,
    urls: Mapping[str, str],
    *,
    stack: str = "dev",
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
    preview: bool = False,
    mocks: ProviderMocks | None = None,
    cwd: Path | None = None,
    **overrides: str,
) -> tuple[ProgramResult, ProviderMocks]:
    """Run the example in ``directory`` for ``stack`` and return its result and mocks.

    The working directory is the program's directory, or ``cwd``.
    """
    project = load_project(directory)
    main = directory / project.get("main", ".")
    if mocks is None:
        mocks = ProviderMocks(
            example_config(directory, stack, urls, **overrides),
            project=project["name"],
            stack=stack,
            stack_references=stack_references,
        )
    program = main / "__main__.py"

    def body() -> None:
        # `set_mocks` leaves the organization unset; the CLI sets it.
        pulumi_settings.SETTINGS.organization = ORGANIZATION
        runpy.run_path(str(program), run_name="__main__")

    sys.path.insert(0, str(main))
    try:
        with working_directory(cwd or main):
            result = run_program(body, mocks, preview=preview)
    finally:
        sys.path.remove(str(main))
    return result, mocks
