"""Shared pytest configuration: the emulator fixtures come from the emulator package."""

pytest_plugins = ["customvision_emulator.pytest_plugin"]
