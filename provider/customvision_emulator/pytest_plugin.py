"""Pytest fixtures: one emulator per session, reset before every test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .settings import TEST_DEFAULTS
from .testing import RunningEmulator, run_emulator


@pytest.fixture(scope="session")
def customvision_emulator_server() -> Iterator[RunningEmulator]:
    """One emulator for the whole test session (fast test settings)."""
    with run_emulator(**TEST_DEFAULTS) as emu:
        yield emu


@pytest.fixture
def customvision_emulator(
    customvision_emulator_server: RunningEmulator,
) -> Iterator[RunningEmulator]:
    """The session emulator, emptied and set back to the fast test defaults."""
    emu = customvision_emulator_server
    emu.admin.reset()
    emu.admin.configure(**TEST_DEFAULTS)
    yield emu
