"""``ProjectExport``: an export token of a project (ExportProject), for importing it elsewhere.

The token is a secret output. Creating the resource exports; a new ``project_id`` or new
``triggers`` export anew (replace). There is nothing to delete: tokens simply expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pulumi

from ._config import Profile
from ._lifecycle import (
    Context,
    CustomVisionProvider,
    CustomVisionResource,
    PollPolicy,
    ResourceArgs,
    Timeouts,
    UuidStr,
    arg,
)
from ._rest import errors, models

EXPORT_POLL = PollPolicy(initial=0.25, growth=0.1, maximum=30.0)
"""How often to try again while the project trains."""

_OUTPUTS = (
    "token",
    "iteration_count",
    "image_count",
    "tag_count",
    "region_count",
    "estimated_import_time_ms",
    "exported_at",
)


class ProjectExportArgs(ResourceArgs):
    """Inputs of :class:`ProjectExport`."""

    project_id: UuidStr = arg("Id of the project to export.", replaces=True)
    triggers: dict[str, Any] | None = arg(
        "Arbitrary values; when any of them changes, the project is exported anew (e.g. "
        "`{'iteration': trained.id}` to re-export after each new training).",
        default=None,
        replaces=True,
    )
    timeouts: Timeouts | None = arg(
        "How long to wait while the project trains before exporting (`create`, default 1h).",
        default=None,
    )


def _outputs(export: models.ProjectExport) -> dict[str, Any]:
    return {
        "token": export.token,
        "iteration_count": export.iteration_count,
        "image_count": export.image_count,
        "tag_count": export.tag_count,
        "region_count": export.region_count,
        "estimated_import_time_ms": export.estimated_import_time_in_ms,
        "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


class ProjectExportProvider(CustomVisionProvider[ProjectExportArgs]):
    """The REST steps of :class:`ProjectExport`."""

    args_model = ProjectExportArgs
    kind = "project export"
    default_timeouts: ClassVar[Mapping[str, float]] = {"create": 3600, "update": 600, "delete": 600}

    def check_for(self, args: ProjectExportArgs, profile: Profile) -> list[tuple[str, str]]:
        return self.requires(profile, "project_id", "ExportProject")

    def on_create(self, ctx: Context, args: ProjectExportArgs) -> tuple[str, dict[str, Any]]:
        def attempt() -> models.ProjectExport | None:
            try:
                return ctx.client.export_project(args.project_id)
            except errors.BadRequest as exc:
                if exc.code in (
                    "BadRequestExportWhileTraining",
                    "BadRequestExportAlreadyInProgress",
                ):
                    return None
                raise

        export = ctx.wait_for(
            attempt,
            what=f"a training of project {args.project_id} to finish before exporting it",
            on_timeout="raise timeouts.create, or run `pulumi up` again once the training is over",
            policy=EXPORT_POLL,
        )
        outputs = _outputs(export)
        return f"{args.project_id}:{outputs['exported_at']}", outputs

    def on_update(
        self,
        ctx: Context,
        id_: str,
        olds: dict[str, Any],
        args: ProjectExportArgs,
        changed: frozenset[str],
    ) -> dict[str, Any]:
        # Only `timeouts` (or `profile` within the same account) can change in place.
        return {key: olds.get(key) for key in _OUTPUTS}

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        # An export is a snapshot: nothing in the service reflects it once made. The token
        # stays in state until it is replaced, even after it expired (about 24 hours).
        return {key: olds.get(key) for key in _OUTPUTS}

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        """Nothing to delete: the token expires by itself."""


class ProjectExport(CustomVisionResource):
    """An export of a project: a token that ImportProject accepts in another account.

    Creating this resource calls ExportProject (API v3.2+) on ``project_id``; if the
    project is training, it waits (``BadRequestExportWhileTraining``) within
    ``timeouts.create``. A new ``project_id`` or a change in ``triggers`` exports anew
    (replace): pass the id of the ``TrainedIteration`` you promote, so that each new
    training is exported.

    The ``token`` output is a secret. **Tokens expire after about 24 hours**: the token in
    state is not renewed by itself, so importing an old one fails with a message that asks
    for a new export; change ``triggers`` (or ``pulumi up --replace`` this resource) to get
    a fresh token. Destroying the resource deletes nothing.

    Example::

        export = cv.ProjectExport("export", project_id=dev.id, triggers={"model": model.id})
        prod = cv.Project("prod", import_token=export.token, profile="prod")
    """

    project_id: pulumi.Output[str]
    """Id of the exported project."""
    token: pulumi.Output[str]
    """The export token (secret); valid for about 24 hours after ``exported_at``."""
    iteration_count: pulumi.Output[int]
    """Number of trained iterations in the export."""
    image_count: pulumi.Output[int]
    """Number of images in the export."""
    tag_count: pulumi.Output[int]
    """Number of tags in the export."""
    region_count: pulumi.Output[int]
    """Number of regions in the export."""
    estimated_import_time_ms: pulumi.Output[int]
    """The service's estimate of how long importing the export takes, in milliseconds."""
    exported_at: pulumi.Output[str]
    """When the export was made (ISO 8601, UTC); the token expires about 24 hours later."""

    def __init__(
        self,
        resource_name: str,
        *,
        project_id: pulumi.Input[str],
        triggers: pulumi.Input[dict[str, Any]] | None = None,
        timeouts: pulumi.Input[dict[str, str]] | Timeouts | None = None,
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare an export.

        Args:
            resource_name: The Pulumi name of this resource.
            project_id: Id of the project to export; a new id exports anew.
            triggers: Values whose change exports anew, e.g. ``{"model": trained.id}``.
            timeouts: Budget to wait for a running training, e.g. ``{"create": "2h"}``.
            profile: Account profile (``customvision:profiles.<name>``); unset: the default.
            opts: Pulumi resource options.
        """
        super().__init__(
            ProjectExportProvider(),
            resource_name,
            {
                "project_id": project_id,
                "triggers": triggers,
                "timeouts": timeouts,
                "profile": profile,
            },
            outputs=_OUTPUTS,
            opts=opts,
            secret_outputs=("token",),
        )
