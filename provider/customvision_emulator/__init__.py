"""A local emulator of the Azure Custom Vision Training API (see docs/emulator.md)."""

from .settings import DEFAULT_PORT, DEFAULT_TRAINING_KEY

__all__ = ["DEFAULT_PORT", "DEFAULT_TRAINING_KEY"]
