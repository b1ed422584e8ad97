"""Fixtures of the reliability suites (helpers live in ``support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import ClientSettings, TrainingClient
from tests.engine import ProviderServer, Stack
from tests.lifecycle.conftest import stack_config


@pytest.fixture(scope="session")
def steady_server(customvision_emulator_server: RunningEmulator) -> Iterator[ProviderServer]:
    """A plain provider server for set-up and for the `up` after a crash."""
    server = ProviderServer(stack_config(customvision_emulator_server))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def steady_stack(
    customvision_emulator: RunningEmulator, steady_server: ProviderServer
) -> Iterator[Stack]:
    """An empty stack on the steady server."""
    if not steady_server.alive:
        steady_server.restart()
    with Stack(server=steady_server) as s:
        yield s


@pytest.fixture
def client(customvision_emulator: RunningEmulator) -> Iterator[TrainingClient]:
    """A REST client for seeding and inspecting the emulator outside the provider."""
    unpaced = ClientSettings(requests_per_second=0, training_requests_per_second=0)
    with TrainingClient(
        customvision_emulator.url, customvision_emulator.training_key, settings=unpaced
    ) as c:
        yield c


@pytest.fixture(autouse=True)
def _no_faults_left_behind(customvision_emulator_server: RunningEmulator) -> Iterator[None]:
    """The session emulator is shared with other suites: leave no fault or setting behind."""
    yield
    from customvision_emulator.settings import TEST_DEFAULTS

    customvision_emulator_server.admin.clear_faults()
    customvision_emulator_server.admin.configure(**TEST_DEFAULTS)
