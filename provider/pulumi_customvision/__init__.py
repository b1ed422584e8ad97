"""Pulumi resources for the Azure Custom Vision Training API.

Every resource is a Pulumi dynamic resource whose provider runs in the Pulumi engine's
Python plugin process. Credentials come from stack configuration (``customvision:*``) or
the environment, never from resource inputs.
"""

from . import domains
from ._lifecycle import ProviderError, Timeouts
from ._rest.errors import CustomVisionError
from .image_regions import ImageRegions, ImageRegionsArgs, Region
from .images import Images, ImagesArgs
from .iteration import Iteration, IterationArgs
from .project import Project, ProjectArgs
from .project_export import ProjectExport, ProjectExportArgs
from .tag import Tag, TagArgs
from .trained_iteration import TrainedIteration, TrainedIterationArgs

__all__ = [
    "CustomVisionError",
    "ImageRegions",
    "ImageRegionsArgs",
    "Images",
    "ImagesArgs",
    "Iteration",
    "IterationArgs",
    "Project",
    "ProjectArgs",
    "ProjectExport",
    "ProjectExportArgs",
    "ProviderError",
    "Region",
    "Tag",
    "TagArgs",
    "Timeouts",
    "TrainedIteration",
    "TrainedIterationArgs",
    "domains",
]
