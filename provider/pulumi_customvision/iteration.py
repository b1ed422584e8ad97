"""``Iteration``: adopts an existing trained iteration, names it and publishes it.

It trains nothing: it picks an iteration that exists (by id, by name, or the latest
completed one), e.g. the promoted iteration of an imported project, then sets its name
(UpdateIteration), publishes it (PublishIteration) and, on API v2.x, makes it the default.
Destroying it withdraws what it published and leaves the iteration.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import model_validator

from . import _iterations
from ._config import Profile
from ._lifecycle import (
    Context,
    CustomVisionProvider,
    CustomVisionResource,
    ProviderError,
    ResourceArgs,
    UuidStr,
    arg,
)
from ._rest import models


class IterationArgs(ResourceArgs):
    """Inputs of :class:`Iteration`."""

    project_id: UuidStr = arg("Id of the project the iteration belongs to.", replaces=True)
    iteration_id: UuidStr | None = arg(
        "Pick the iteration with this id.", default=None, replaces=True
    )
    source_name: str | None = arg(
        "Pick the iteration with this name (iterations keep their names through an "
        "export and import, so a prod project can pick the promoted one).",
        default=None,
        replaces=True,
    )
    latest: bool = arg(
        "Pick the most recently trained completed iteration.", default=False, replaces=True
    )
    name: str | None = arg(
        "New name for the iteration (UpdateIteration); unset leaves its name as it is.",
        default=None,
        computed=True,
    )
    publish_name: str | None = arg(
        "Publish the iteration under this name (with `prediction_resource_id`); changing "
        "it republishes, removing it unpublishes.",
        default=None,
        computed=True,
        released_by=_iterations.MANAGED,
    )
    prediction_resource_id: str | None = arg(
        "Azure resource id of the Custom Vision Prediction resource to publish to "
        "(`/subscriptions/.../providers/Microsoft.CognitiveServices/accounts/<name>`).",
        default=None,
        computed=True,
        released_by=_iterations.MANAGED,
    )
    is_default: bool | None = arg(
        "Make the iteration the project's default (API v2.x only; on v3.x publish it "
        "with `publish_name` instead).",
        default=None,
        computed=True,
    )

    @model_validator(mode="after")
    def _one_selector(self) -> IterationArgs:
        chosen = [
            key
            for key, given in (
                ("iteration_id", self.iteration_id is not None),
                ("source_name", self.source_name is not None),
                ("latest", self.latest),
            )
            if given
        ]
        if len(chosen) != 1:
            raise ValueError(
                "give exactly one of iteration_id, source_name or latest=True to choose the "
                f"iteration (got {', '.join(chosen) or 'none'})"
            )
        _iterations.check_publication(self.publish_name, self.prediction_resource_id)
        return self


class IterationProvider(CustomVisionProvider[IterationArgs]):
    """The REST steps of :class:`Iteration`."""

    args_model = IterationArgs
    kind = "iteration"

    def check_for(self, args: IterationArgs, profile: Profile) -> list[tuple[str, str]]:
        failures: list[tuple[str, str]] = []
        if args.is_default is not None and not profile.api_version.startswith("2."):
            failures.append(
                (
                    "is_default",
                    f"is_default exists on API v2.x only and {profile.label} speaks "
                    f"{profile.api_version}; publish the iteration with publish_name and "
                    "prediction_resource_id instead (or set customvision:apiVersion to 2.2)",
                )
            )
        if args.publish_name is not None:
            failures += self.requires(profile, "publish_name", "PublishIteration")
        return failures

    def on_create(self, ctx: Context, args: IterationArgs) -> tuple[str, dict[str, Any]]:
        iteration = self._select(ctx, args)
        return iteration.id, self._converge(ctx, iteration, args, managed=None)

    def on_update(
        self,
        ctx: Context,
        id_: str,
        olds: dict[str, Any],
        args: IterationArgs,
        changed: frozenset[str],
    ) -> dict[str, Any]:
        iteration = ctx.client.get_iteration(args.project_id, id_)
        return self._converge(ctx, iteration, args, managed=olds.get(_iterations.MANAGED))

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        iteration = ctx.client.get_iteration(olds["project_id"], id_)
        return _iterations.iteration_outputs(iteration, olds.get(_iterations.MANAGED))

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        _iterations.withdraw(ctx, olds["project_id"], id_, olds.get(_iterations.MANAGED))

    @staticmethod
    def _select(ctx: Context, args: IterationArgs) -> models.Iteration:
        if args.iteration_id is not None:
            return ctx.client.get_iteration(args.project_id, args.iteration_id)
        iterations = ctx.client.get_iterations(args.project_id)
        if args.source_name is not None:
            found = _iterations.by_name(iterations, args.source_name)
            if found is None:
                names = ", ".join(repr(i.name) for i in iterations) or "none"
                raise ProviderError(
                    f"project {args.project_id} has no iteration named {args.source_name!r} "
                    f"(it has: {names}); check source_name, or train or import it first"
                )
            return found
        latest = _iterations.latest_completed(iterations)
        if latest is None:
            raise ProviderError(
                f"project {args.project_id} has no completed iteration yet; train one first "
                "(e.g. with a TrainedIteration) or pick one by iteration_id"
            )
        return latest

    @staticmethod
    def _converge(
        ctx: Context, iteration: models.Iteration, args: IterationArgs, managed: str | None
    ) -> dict[str, Any]:
        """Rename, set as default and publish as the inputs ask; return the outputs."""
        if args.name is not None:
            iteration = _iterations.rename(
                ctx, args.project_id, iteration, args.name, take_over=False
            )
        if args.is_default is not None and bool(iteration.is_default) != args.is_default:
            iteration = ctx.client.update_iteration(
                args.project_id, iteration.id, name=iteration.name, is_default=args.is_default
            )
        if (
            args.publish_name is not None or managed is not None
        ) and iteration.status != "Completed":
            raise ProviderError(
                f"iteration {iteration.name!r} is {iteration.status}, and only a completed "
                "iteration can be published; pick a trained one"
            )
        iteration = _iterations.reconcile_publication(
            ctx,
            args.project_id,
            iteration,
            args.publish_name,
            args.prediction_resource_id,
            managed=managed,
        )
        return _iterations.iteration_outputs(iteration, args.publish_name)


class Iteration(CustomVisionResource):
    """An existing iteration of a project, adopted to name it and publish it.

    It chooses the iteration with exactly one of ``iteration_id``, ``source_name`` (the
    iteration's name: names survive an export and import, so a prod project can pick the
    iteration promoted from dev) or ``latest=True`` (the most recently trained completed
    one); changing the choice replaces the resource. ``name`` renames it (UpdateIteration);
    ``publish_name`` with ``prediction_resource_id`` publishes it, taking the publish name
    over from any other iteration of the project that holds it; changing them
    republishes, removing them unpublishes. ``is_default`` sets the default iteration on
    API v2.x (v3.x has no default iteration; publish instead).

    Refresh notices a renamed, unpublished or deleted iteration. Destroying the resource
    unpublishes what it published and leaves the iteration itself.

    Example::

        live = cv.Iteration("live", project_id=prod.id, source_name="v7", profile="prod",
                            publish_name="parts", prediction_resource_id=prediction_id)
    """

    project_id: pulumi.Output[str]
    """Id of the project."""
    name: pulumi.Output[str]
    """Name of the iteration."""
    status: pulumi.Output[str]
    """``Completed``, ``Training`` or ``Failed``."""
    created: pulumi.Output[str]
    """When the iteration was created (ISO 8601, UTC)."""
    trained_at: pulumi.Output[str | None]
    """When its training finished (ISO 8601, UTC)."""
    training_time_in_minutes: pulumi.Output[int | None]
    """How long the training took."""
    domain_id: pulumi.Output[str | None]
    """The domain the iteration was trained with."""
    classification_type: pulumi.Output[str | None]
    """The classification type it was trained with."""
    exportable_to: pulumi.Output[list[str]]
    """Platforms the model can be exported to."""
    publish_name: pulumi.Output[str | None]
    """The name it is published under, if it is published."""
    prediction_resource_id: pulumi.Output[str | None]
    """The prediction resource it is published to, if it is published."""
    is_default: pulumi.Output[bool | None]
    """Whether it is the default iteration (API v2.x only)."""

    def __init__(
        self,
        resource_name: str,
        *,
        project_id: pulumi.Input[str],
        iteration_id: pulumi.Input[str] | None = None,
        source_name: pulumi.Input[str] | None = None,
        latest: pulumi.Input[bool] = False,
        name: pulumi.Input[str] | None = None,
        publish_name: pulumi.Input[str] | None = None,
        prediction_resource_id: pulumi.Input[str] | None = None,
        is_default: pulumi.Input[bool] | None = None,
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare an adopted iteration.

        Args:
            resource_name: The Pulumi name of this resource.
            project_id: Id of the project the iteration belongs to.
            iteration_id: Choose the iteration by id.
            source_name: Choose the iteration by name (e.g. the name given in dev, which an
                import keeps).
            latest: Choose the most recently trained completed iteration.
            name: Rename the iteration (in place).
            publish_name: Publish under this name (with ``prediction_resource_id``).
            prediction_resource_id: Azure resource id of the Prediction resource.
            is_default: Make it the default iteration (API v2.x only).
            profile: Account profile (``customvision:profiles.<name>``); unset: the default.
            opts: Pulumi resource options.
        """
        super().__init__(
            IterationProvider(),
            resource_name,
            {
                "project_id": project_id,
                "iteration_id": iteration_id,
                "source_name": source_name,
                "latest": latest,
                "name": name,
                "publish_name": publish_name,
                "prediction_resource_id": prediction_resource_id,
                "is_default": is_default,
                "profile": profile,
            },
            outputs=_iterations.OUTPUTS,
            opts=opts,
        )
