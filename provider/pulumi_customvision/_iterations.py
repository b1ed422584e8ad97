"""What ``Iteration`` and ``TrainedIteration`` share: outputs, choosing, naming, publishing.

Both resources end the same way: the iteration gets the ``name`` the user asked for and
is published (or unpublished) to match ``publish_name`` and ``prediction_resource_id``.

Names and publish names are *owned* by the resource that asks for them: when another
iteration of the project holds the name (typically the one a replacement is about to
delete), it is moved out of the way first. That is what lets a replacement train or pick
a new iteration, give it the same name and publish name, and only then delete the old
one, without the prediction endpoint ever going away.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ._lifecycle import Context, ProviderError, report_progress
from ._rest import errors, models, versions


def iso(value: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp for outputs (``None`` stays ``None``)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


MANAGED = "managed_publish_name"
"""Output: the publish name the resource itself published (``None``: it publishes nothing)."""


OUTPUTS = (
    MANAGED,
    "name",
    "status",
    "created",
    "trained_at",
    "training_time_in_minutes",
    "training_type",
    "domain_id",
    "classification_type",
    "exportable",
    "exportable_to",
    "publish_name",
    "prediction_resource_id",
    "is_default",
)
"""The outputs :func:`iteration_outputs` gives: what both resource classes declare."""


def iteration_outputs(iteration: models.Iteration, managed: str | None) -> dict[str, Any]:
    """The outputs that reflect an iteration in the service (what refresh compares).

    ``managed`` is the publish name the resource asked for (kept as ``managed_publish_name``).
    """
    return {
        MANAGED: managed,
        "name": iteration.name,
        "status": iteration.status,
        "created": iso(iteration.created),
        "trained_at": iso(iteration.trained_at),
        "training_time_in_minutes": iteration.training_time_in_minutes,
        "training_type": iteration.training_type,
        "domain_id": iteration.domain_id,
        "classification_type": iteration.classification_type,
        "exportable": bool(iteration.exportable),
        "exportable_to": list(iteration.exportable_to or []),
        "publish_name": iteration.publish_name,
        "prediction_resource_id": iteration.original_publish_resource_id
        if iteration.publish_name
        else None,
        "is_default": iteration.is_default,
    }


def check_publication(publish_name: str | None, prediction_resource_id: str | None) -> None:
    """Refuse a publish name without a prediction resource, or the other way round."""
    if (publish_name is None) != (prediction_resource_id is None):
        raise ValueError("publish_name and prediction_resource_id go together; set both")


def latest_completed(iterations: list[models.Iteration]) -> models.Iteration | None:
    """The most recently trained ``Completed`` iteration, or ``None``."""
    done = [i for i in iterations if i.status == "Completed"]
    if not done:
        return None
    epoch = datetime.min.replace(tzinfo=UTC)

    def when(iteration: models.Iteration) -> datetime:
        stamp = iteration.trained_at or iteration.created
        if stamp is None:
            return epoch
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)

    return max(done, key=when)


def by_name(iterations: list[models.Iteration], name: str) -> models.Iteration | None:
    """The iteration named ``name`` (names are unique per project, case-insensitively)."""
    wanted = name.casefold()
    return next((i for i in iterations if i.name.casefold() == wanted), None)


def rename(
    ctx: Context,
    project_id: str,
    iteration: models.Iteration,
    name: str,
    *,
    take_over: bool,
) -> models.Iteration:
    """Give ``iteration`` the name ``name`` (UpdateIteration).

    With ``take_over``, an iteration that holds the name already is renamed to
    ``"<name> (superseded by <id prefix>)"`` first; without it, the clash is an error.
    """
    if iteration.name == name:
        return iteration
    try:
        return ctx.client.update_iteration(project_id, iteration.id, name=name)
    except errors.BadRequest as exc:
        if exc.code != "BadRequestIterationNameNotUnique":
            raise
        holder = by_name(ctx.client.get_iterations(project_id), name)
        if not take_over or holder is None or holder.id == iteration.id:
            raise ProviderError(
                f"the project already has an iteration named {name!r}; choose another name"
            ) from None
    aside = f"{holder.name} (superseded by {iteration.id[:8]})"
    ctx.client.update_iteration(project_id, holder.id, name=aside)
    report_progress(
        f"iteration {holder.id} held the name {name!r}: renamed it {aside!r}. The iteration a "
        "replacement supersedes is deleted once the replacement is done; one that no resource "
        "owns stays (delete it when it is no longer needed)"
    )
    return ctx.client.update_iteration(project_id, iteration.id, name=name)


def _publish(
    ctx: Context, project_id: str, iteration_id: str, publish_name: str, prediction_id: str
) -> None:
    """PublishIteration, taking ``publish_name`` over from any other iteration holding it."""
    if versions.supports_parameter(ctx.profile.api_version, "PublishIteration", "overwrite"):
        ctx.client.publish_iteration(
            project_id, iteration_id, publish_name, prediction_id, overwrite=True
        )
        return
    for other in ctx.client.get_iterations(project_id):
        if other.id != iteration_id and other.publish_name == publish_name:
            ctx.client.unpublish_iteration(project_id, other.id)
    ctx.client.publish_iteration(project_id, iteration_id, publish_name, prediction_id)


def reconcile_publication(
    ctx: Context,
    project_id: str,
    iteration: models.Iteration,
    publish_name: str | None,
    prediction_resource_id: str | None,
    *,
    managed: str | None,
) -> models.Iteration:
    """Publish or unpublish ``iteration`` so that it matches the wanted publication.

    Args:
        publish_name: The wanted publish name; ``None`` means "not published by us".
        prediction_resource_id: The wanted prediction resource (with ``publish_name``).
        managed: The publish name this resource published earlier, if any: when
            ``publish_name`` is unset, only a publication this resource made is withdrawn.

    Returns:
        The iteration as the service has it afterwards.
    """
    current = (iteration.publish_name, iteration.original_publish_resource_id)
    if publish_name is None or prediction_resource_id is None:
        if managed is not None and iteration.publish_name == managed:
            ctx.client.unpublish_iteration(project_id, iteration.id)
            return ctx.client.get_iteration(project_id, iteration.id)
        return iteration
    if current == (publish_name, prediction_resource_id):
        return iteration
    if iteration.publish_name is not None:
        ctx.client.unpublish_iteration(project_id, iteration.id)
    _publish(ctx, project_id, iteration.id, publish_name, prediction_resource_id)
    return ctx.client.get_iteration(project_id, iteration.id)


def withdraw(ctx: Context, project_id: str, iteration_id: str, managed: str | None) -> None:
    """Unpublish an iteration if it is published under ``managed`` (any name if ``"*"``)."""
    if managed is None:
        return
    try:
        iteration = ctx.client.get_iteration(project_id, iteration_id)
    except errors.NotFound:
        return
    if iteration.publish_name is not None and managed in ("*", iteration.publish_name):
        try:
            ctx.client.unpublish_iteration(project_id, iteration_id)
        except errors.BadRequest as exc:
            if exc.code != "BadRequestIterationNotPublished":
                raise
