"""Fixtures of the reliability suites (helpers live in ``support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from customvision_emulator.testing import RunningEmulator


@pytest.fixture(autouse=True)
def _no_faults_left_behind(customvision_emulator_server: RunningEmulator) -> Iterator[None]:
    """The session emulator is shared with other suites: leave no fault or setting behind."""
    yield
    from customvision_emulator.settings import TEST_DEFAULTS

    customvision_emulator_server.admin.clear_faults()
    customvision_emulator_server.admin.configure(**TEST_DEFAULTS)
