"""The REST client layer: the only code of the provider that speaks HTTP.

``TrainingClient`` has one method per Training API operation; ``errors`` holds the error
hierarchy, ``models`` the payloads, ``versions`` which API version has which operation,
``ratelimit`` the process-wide request pacing.
"""

from . import errors, models, ratelimit, versions
from .client import ClientSettings, TrainingClient
from .errors import CustomVisionError

__all__ = [
    "ClientSettings",
    "CustomVisionError",
    "TrainingClient",
    "errors",
    "models",
    "ratelimit",
    "versions",
]
