"""Fixtures of the example tests: a second emulator, the prod account.

Emulators on one machine share their exports (docs/emulator.md, ``--exports-dir``), so the
second emulator imports what the first exported, as Azure accounts do.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from customvision_emulator.settings import TEST_DEFAULTS
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
