"""Shared pytest configuration (the emulator fixtures come from the emulator package) and
test doubles used by several suites."""

pytest_plugins = ["customvision_emulator.pytest_plugin"]


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
