"""Pulumi resources for the Azure Custom Vision Training API.

Every resource is a Pulumi dynamic resource whose provider runs in the Pulumi engine's
Python plugin process. Credentials come from stack configuration (``customvision:*``) or
the environment, never from resource inputs.
"""

from ._lifecycle import ProviderError, Timeouts
from ._rest.errors import CustomVisionError
from .image_regions import ImageRegions, ImageRegionsArgs, Region
from .tag import Tag, TagArgs

__all__ = [
    "CustomVisionError",
    "ImageRegions",
    "ImageRegionsArgs",
    "ProviderError",
    "Region",
    "Tag",
    "TagArgs",
    "Timeouts",
]
