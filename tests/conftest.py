"""Shared pytest configuration: the emulator fixtures (from the emulator package), one
provider server for the session, an empty stack and a seeding client per test, and test
doubles used by several suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import ClientSettings, TrainingClient
from tests.engine import ProviderServer, Stack
from tests.lifecycle.conftest import stack_config

pytest_plugins = ["customvision_emulator.pytest_plugin"]


@pytest.fixture(scope="session")
def provider_server(customvision_emulator_server: RunningEmulator) -> Iterator[ProviderServer]:
    """One dynamic-provider server for the session, configured for the session emulator."""
    server = ProviderServer(stack_config(customvision_emulator_server))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def stack(
    customvision_emulator: RunningEmulator, provider_server: ProviderServer
) -> Iterator[Stack]:
    """An empty stack on the shared server (restarted if a test killed it)."""
    if not provider_server.alive:
        provider_server.restart()
    with Stack(server=provider_server) as s:
        yield s


@pytest.fixture
def client(customvision_emulator: RunningEmulator) -> Iterator[TrainingClient]:
    """A REST client for seeding and inspecting the emulator outside the provider (unpaced:
    the test emulator has no rate limit)."""
    unpaced = ClientSettings(requests_per_second=0, training_requests_per_second=0)
    with TrainingClient(
        customvision_emulator.url, customvision_emulator.training_key, settings=unpaced
    ) as c:
        yield c


class FakeClock:
    """A clock for code that takes ``clock`` and ``sleep`` callables: time moves only when
    something sleeps (or a test sets ``now``)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"asked to sleep {seconds} s"
        self.now += seconds
