"""``TrainedIteration``: trains a new iteration of a project (TrainProject), names and publishes it.

Crash and timeout safety rests on a *claim*: a short marker that the provider writes into
the new iteration's name right after TrainProject answers (``"Iteration 4 [pulumi:1f2e3d4c5b6a]"``)
and removes when the iteration gets its final name. The marker is a digest of the claim
input (the Pulumi project, stack and resource name, derived by the resource class), the
project id and the training inputs. Every create first looks for an iteration carrying its
marker and, if there is one, adopts it (waits for it, or finishes it) instead of training
again. See :class:`TrainedIteration` for the whole rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import pulumi
from pydantic import field_validator, model_validator

from . import _claims, _iterations
from ._config import Profile
from ._lifecycle import (
    Context,
    CustomVisionProvider,
    CustomVisionResource,
    PollPolicy,
    ProviderError,
    ResourceArgs,
    Timeouts,
    UuidStr,
    arg,
    report_progress,
)
from ._rest import errors, models, versions

TrainingType = Literal["Regular", "Advanced"]
OnTrainingNotNeeded = Literal["fail", "use_latest"]

TRAINING_POLL = PollPolicy(initial=0.25, growth=0.1, maximum=120.0)
"""Trainings take minutes to hours: look often at first, then every tenth of the time waited,
at most every two minutes (about 100 polls in a one-hour training, completion noticed
within a tenth of the time waited)."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_TRAINING_INPUTS = (
    "project_id",
    "training_type",
    "reserved_budget_in_hours",
    "force_train",
    "notification_email_address",
    "selected_tags",
    "triggers",
)


def training_claim(project: str, stack: str, resource_name: str) -> str:
    """The claim of a TrainedIteration: who (which Pulumi resource) asked for the training."""
    return _claims.claim(project, stack, resource_name)


class TrainedIterationArgs(ResourceArgs):
    """Inputs of :class:`TrainedIteration`."""

    project_id: UuidStr = arg("Id of the project to train.", replaces=True)
    training_type: TrainingType = arg(
        "'Regular' or 'Advanced' (advanced needs `reserved_budget_in_hours`).",
        default="Regular",
        replaces=True,
    )
    reserved_budget_in_hours: int | None = arg(
        "Hours of compute an advanced training may use.", default=None, replaces=True
    )
    force_train: bool = arg(
        "Train even if nothing changed since the last training.", default=False, replaces=True
    )
    notification_email_address: str | None = arg(
        "Email address to notify when the training has finished.", default=None, replaces=True
    )
    selected_tags: list[UuidStr] | None = arg(
        "Train on these tags only (tag ids; API v3.2+).", default=None, replaces=True
    )
    name: str | None = arg(
        "Name of the trained iteration; unset keeps the service's ('Iteration 4'). Renaming "
        "updates in place; another iteration holding the name is renamed out of the way.",
        default=None,
        computed=True,
    )
    publish_name: str | None = arg(
        "Publish the iteration under this name (with `prediction_resource_id`).",
        default=None,
        computed=True,
        released_by=_iterations.MANAGED,
    )
    prediction_resource_id: str | None = arg(
        "Azure resource id of the Custom Vision Prediction resource to publish to.",
        default=None,
        computed=True,
        released_by=_iterations.MANAGED,
    )
    triggers: dict[str, Any] | None = arg(
        "Arbitrary values; when any of them changes, a new iteration is trained (e.g. "
        "`{'labels': regions.revision}`).",
        default=None,
        replaces=True,
    )
    on_training_not_needed: OnTrainingNotNeeded = arg(
        "What to do when the service says nothing changed since the last training: 'fail' "
        "(the default; set `force_train=True` to train anyway) or 'use_latest' (adopt the "
        "latest completed iteration, which this resource then owns and deletes on destroy).",
        default="fail",
    )
    timeouts: Timeouts | None = arg(
        "How long to wait for the training (`create`, default 2h). When it runs out, the "
        "training goes on and the next `pulumi up` adopts it.",
        default=None,
    )
    claim: str | None = arg(
        "Who asked for this training (set by the resource class from the Pulumi project, "
        "stack and resource name); recognises this resource's training after a crash.",
        default=None,
    )

    @field_validator("notification_email_address")
    @classmethod
    def _is_email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address (like 'ml-team@example.com')")
        return value

    @field_validator("selected_tags")
    @classmethod
    def _sorted_tags(cls, value: list[str] | None) -> list[str] | None:
        return sorted(set(value)) if value is not None else None

    @model_validator(mode="after")
    def _budget(self) -> TrainedIterationArgs:
        if self.training_type == "Advanced" and not self.reserved_budget_in_hours:
            raise ValueError("training_type='Advanced' needs reserved_budget_in_hours (at least 1)")
        if self.reserved_budget_in_hours is not None and self.reserved_budget_in_hours < 0:
            raise ValueError("reserved_budget_in_hours must not be negative")
        _iterations.check_publication(self.publish_name, self.prediction_resource_id)
        return self

    def marker(self) -> str:
        """The claim marker this resource's training carries in its name while it trains."""
        return _claims.marker(
            self.claim, self.model_dump(mode="json", include=set(_TRAINING_INPUTS))
        )


def _claim_of(iteration: models.Iteration) -> str | None:
    return _claims.marker_of(iteration.name)


class TrainedIterationProvider(CustomVisionProvider[TrainedIterationArgs]):
    """The REST steps of :class:`TrainedIteration`."""

    args_model = TrainedIterationArgs
    kind = "trained iteration"
    default_timeouts: ClassVar[Mapping[str, float]] = {"create": 7200, "update": 600, "delete": 600}

    def check_for(self, args: TrainedIterationArgs, profile: Profile) -> list[tuple[str, str]]:
        failures: list[tuple[str, str]] = []
        given = {
            "training_type": ("trainingType", args.training_type != "Regular"),
            "reserved_budget_in_hours": ("reservedBudgetInHours", args.reserved_budget_in_hours),
            "force_train": ("forceTrain", args.force_train),
            "notification_email_address": (
                "notificationEmailAddress",
                args.notification_email_address,
            ),
            "selected_tags": ("trainingParameters", args.selected_tags),
        }
        for prop, (parameter, value) in given.items():
            if value:
                failures += self.requires(profile, prop, "TrainProject", parameter)
        if args.publish_name is not None:
            failures += self.requires(profile, "publish_name", "PublishIteration")
        return failures

    # -- create ----------------------------------------------------------------------

    def on_create(self, ctx: Context, args: TrainedIterationArgs) -> tuple[str, dict[str, Any]]:
        marker = args.marker()
        existing = ctx.client.get_iterations(args.project_id)
        iteration = self._claimed(existing, marker) or self._train(
            ctx, args, marker, known={i.id for i in existing}
        )
        iteration = self._wait(ctx, args, iteration)
        if iteration.status != "Completed":
            reason = iteration.training_error_details or (
                f"status {iteration.status}; API v{ctx.profile.api_version} gives no details, "
                "v3.4-preview does"
            )
            ctx.client.delete_iteration(args.project_id, iteration.id)
            raise ProviderError(
                f"the training failed ({reason.rstrip('.')}); the failed iteration was deleted: "
                "fix the data (or the training inputs) and run `pulumi up` again"
            )
        # Publish first and take the final name last: until then the marker stays, so a
        # failure of either step leaves an iteration the next `pulumi up` adopts.
        iteration = self._publish(ctx, iteration, args, managed=None)
        final = args.name or _claims.base_name(iteration.name)
        iteration = _iterations.rename(ctx, args.project_id, iteration, final, take_over=True)
        return iteration.id, _iterations.iteration_outputs(iteration, args.publish_name)

    @staticmethod
    def _claimed(existing: list[models.Iteration], marker: str) -> models.Iteration | None:
        """This resource's iteration from an earlier, interrupted attempt, if any."""
        for iteration in existing:
            if _claim_of(iteration) == marker:
                report_progress(
                    f"adopting {iteration.name!r} ({iteration.status}), trained for this "
                    "resource by an earlier `pulumi up` that did not finish"
                )
                return iteration
        return None

    def _train(
        self, ctx: Context, args: TrainedIterationArgs, marker: str, known: set[str]
    ) -> models.Iteration:
        """TrainProject, then claim the new iteration at once; adopt a running one if it is ours.

        ``known`` are the ids of the iterations that existed before: if TrainProject's answer
        is lost, the iteration it made is the unclaimed one that is not among them.
        """
        api = ctx.profile.api_version

        def sent(parameter: str, value: Any) -> Any:
            supported = versions.supports_parameter(api, "TrainProject", parameter)
            return value if supported else None

        while True:
            try:
                iteration = ctx.create_or_find(
                    lambda: ctx.client.train_project(
                        args.project_id,
                        training_type=sent("trainingType", args.training_type),
                        reserved_budget_in_hours=args.reserved_budget_in_hours,
                        force_train=args.force_train or None,
                        notification_email_address=args.notification_email_address,
                        selected_tags=args.selected_tags,
                    ),
                    functools.partial(self._unclaimed_training, ctx, args, known),
                )
            except errors.BadRequest as exc:
                adopted = self._after_refusal(ctx, args, exc)
                if adopted is None:
                    continue  # another resource's training finished: train now
                iteration = adopted
            return _iterations.rename(
                ctx,
                args.project_id,
                iteration,
                _claims.claimed_name(iteration.name, marker),
                take_over=False,
            )

    def _after_refusal(
        self, ctx: Context, args: TrainedIterationArgs, exc: errors.BadRequest
    ) -> models.Iteration | None:
        """Turn a refused TrainProject into an iteration to adopt, a wait, or one clear error."""
        code = exc.code
        if code == "BadRequestTrainingAlreadyInProgress":
            running = self._unclaimed_training(ctx, args, None)
            if running is not None:
                report_progress(
                    f"a training is already running ({running.name!r}) and no other resource "
                    "claims it: adopting it instead of training again"
                )
                return running
            report_progress("another resource's training of this project is running; waiting")
            ctx.wait_for(
                lambda: (
                    None
                    if any(
                        i.status == "Training" for i in ctx.client.get_iterations(args.project_id)
                    )
                    else True
                ),
                what=f"another training of project {args.project_id} to finish",
                on_timeout="run `pulumi up` again when the other training has finished",
                policy=TRAINING_POLL,
            )
            return None
        if code.startswith("BadRequestTrainingNotNeeded"):
            if args.on_training_not_needed == "use_latest":
                latest = _iterations.latest_completed(ctx.client.get_iterations(args.project_id))
                if latest is not None:
                    report_progress(
                        f"nothing to train; adopting the latest iteration {latest.name!r}"
                    )
                    return latest
            raise ProviderError(
                "nothing changed in the project since its last training, so the service "
                "refuses to train; set force_train=True to train anyway, or "
                "on_training_not_needed='use_latest' to adopt the latest iteration"
            ) from None
        if code.endswith("TrainingValidationFailed") or code == (
            "BadRequestDetectionTrainingNotAllowNegativeTag"
        ):
            raise ProviderError(
                f"the project does not have the data to train: {exc.message.rstrip('.')}; "
                "add tagged images (classification: at least 2 tags with 5 images each; "
                "object detection: 15 images with regions per tag) and run `pulumi up` again"
            ) from None
        if code == "BadRequestExceedIterationPerProjectLimit":
            raise ProviderError(
                "the project already has 20 iterations, the most the service keeps: delete "
                "old ones (destroy TrainedIterations you no longer need, or delete unpublished "
                "iterations in the Custom Vision portal) and run `pulumi up` again"
            ) from None
        raise exc

    @staticmethod
    def _unclaimed_training(
        ctx: Context, args: TrainedIterationArgs, known: set[str] | None
    ) -> models.Iteration | None:
        """An iteration no resource claims: a running one, or (with ``known``) a new one.

        With ``known`` (the ids from before a TrainProject whose answer was lost), the
        iteration that call made, whatever its status; without, a running training.
        """
        for iteration in ctx.client.get_iterations(args.project_id):
            if _claim_of(iteration) is not None:
                continue
            if known is None and iteration.status == "Training":
                return iteration
            if known is not None and iteration.id not in known:
                return iteration
        return None

    @staticmethod
    def _wait(
        ctx: Context, args: TrainedIterationArgs, iteration: models.Iteration
    ) -> models.Iteration:
        if iteration.status != "Training":
            return iteration
        iteration_id = iteration.id

        def poll() -> models.Iteration | None:
            current = ctx.client.get_iteration(args.project_id, iteration_id)
            return None if current.status == "Training" else current

        name = _claims.base_name(iteration.name)
        return ctx.wait_for(
            poll,
            what=f"the training of {name!r} in project {args.project_id}",
            on_timeout=(
                "the training goes on in the service and is claimed by this resource: run "
                "`pulumi up` again to keep waiting (it will not train twice), or raise "
                "timeouts.create"
            ),
            policy=TRAINING_POLL,
        )

    # -- update, read, delete --------------------------------------------------------

    def on_update(
        self,
        ctx: Context,
        id_: str,
        olds: dict[str, Any],
        args: TrainedIterationArgs,
        changed: frozenset[str],
    ) -> dict[str, Any]:
        iteration = ctx.client.get_iteration(args.project_id, id_)
        if args.name is not None:
            iteration = _iterations.rename(
                ctx, args.project_id, iteration, args.name, take_over=True
            )
        iteration = self._publish(ctx, iteration, args, managed=olds.get(_iterations.MANAGED))
        return _iterations.iteration_outputs(iteration, args.publish_name)

    def on_read(self, ctx: Context, id_: str, olds: dict[str, Any]) -> dict[str, Any] | None:
        iteration = ctx.client.get_iteration(olds["project_id"], id_)
        return _iterations.iteration_outputs(iteration, olds.get(_iterations.MANAGED))

    def on_delete(self, ctx: Context, id_: str, olds: dict[str, Any]) -> None:
        _iterations.withdraw(ctx, olds["project_id"], id_, "*")
        ctx.client.delete_iteration(olds["project_id"], id_)

    @staticmethod
    def _publish(
        ctx: Context,
        iteration: models.Iteration,
        args: TrainedIterationArgs,
        managed: str | None,
    ) -> models.Iteration:
        return _iterations.reconcile_publication(
            ctx,
            args.project_id,
            iteration,
            args.publish_name,
            args.prediction_resource_id,
            managed=managed,
        )


class TrainedIteration(CustomVisionResource):
    """A new iteration of a project, trained by ``pulumi up`` (TrainProject).

    Creating it calls TrainProject with every parameter of the operation
    (``training_type``, ``reserved_budget_in_hours``, ``force_train``,
    ``notification_email_address``; ``selected_tags`` on API v3.2+), waits until the
    iteration has ``Completed`` (budget: ``timeouts.create``, default 2 hours), then gives it
    ``name`` and publishes it (``publish_name`` + ``prediction_resource_id``). A name or
    publish name held by another iteration of the project (typically the one this resource
    replaces) is taken over, so a retraining keeps the name and the prediction endpoint.

    * ``Failed``: the failed iteration is deleted and the error gives the service's reason.
    * Nothing changed since the last training: an error suggesting ``force_train=True``,
      or, with ``on_training_not_needed="use_latest"``, the latest completed iteration is
      adopted (and owned: destroying this resource deletes it).
    * Not enough data, or the 20-iteration cap: an error that says what to add or free.

    **Crash and timeout safety.** Right after TrainProject answers, the new iteration is
    renamed to carry a claim marker, ``"Iteration 4 [pulumi:1f2e3d4c5b6a]"``: a digest of
    the Pulumi project, stack and resource name, the project id and the training inputs.
    The marker comes off when the iteration gets its final name. Every create first looks
    for an iteration with its marker and adopts it (waiting for it if it still trains), so
    when the program or the provider dies, or the ``timeouts`` budget runs out, the next
    ``pulumi up`` finishes the same training instead of starting another. If TrainProject's
    answer is lost on the way (a dropped connection), the iteration it made is the one
    that was not there before the call, and it is claimed the same way. If TrainProject
    answers ``BadRequestTrainingAlreadyInProgress``, a running training that carries no
    marker is adopted (the crash came between TrainProject and the renaming), while one
    that carries another resource's marker is waited for before training. If that
    unclaimed training has already finished when the next ``pulumi up`` comes (a crash
    between TrainProject and the claiming rename, and a training shorter than the time to
    the next run), nothing tells it from a training made by hand or the iteration a
    replacement supersedes: it is not adopted, and the outcome is the one below.

    One more window is not covered: a crash after the final renaming (the create's last
    call, one UpdateIteration) and before the engine records the result. The marker is gone
    then, and an iteration keeps no other field where it could live, so the next
    ``pulumi up`` cannot tell that iteration (named ``name``, ``Completed``, published as
    asked) from the one a replacement supersedes, which it must not adopt. It asks the
    service to train again: without ``force_train`` the service answers that nothing
    changed (an error, or with ``on_training_not_needed="use_latest"`` that iteration is
    adopted, and all is clean); with ``force_train=True`` a second training runs, takes
    the name and the publish name over, and the first iteration stays, unpublished and
    renamed ``"<name> (superseded by <new id prefix>)"``, owned by no resource (the
    provider says so; delete it). (After the claiming-rename window above, the first
    iteration keeps the service's name, ``"Iteration 4"``, and is left as it is.)

    ``name`` and the publish settings update in place; the training inputs and
    ``triggers`` replace the resource (a new training; the old iteration is deleted after
    the new one is ready). Destroying it unpublishes and deletes the iteration.

    Example::

        model = cv.TrainedIteration("model", project_id=dev.id, name="v7",
                                    triggers={"labels": labels.revision})
    """

    project_id: pulumi.Output[str]
    """Id of the project."""
    name: pulumi.Output[str]
    """Name of the iteration."""
    status: pulumi.Output[str]
    """``Completed`` once created."""
    created: pulumi.Output[str]
    """When the training was queued (ISO 8601, UTC)."""
    trained_at: pulumi.Output[str]
    """When the training finished (ISO 8601, UTC)."""
    training_time_in_minutes: pulumi.Output[int]
    """How long the training took."""
    domain_id: pulumi.Output[str]
    """The domain the iteration was trained with."""
    classification_type: pulumi.Output[str | None]
    """The classification type it was trained with (``None`` for object detection)."""
    publish_name: pulumi.Output[str | None]
    """The name it is published under, if it is published."""
    prediction_resource_id: pulumi.Output[str | None]
    """The prediction resource it is published to, if it is published."""
    exportable_to: pulumi.Output[list[str]]
    """Platforms the model can be exported to (compact domains)."""

    def __init__(
        self,
        resource_name: str,
        *,
        project_id: pulumi.Input[str],
        training_type: pulumi.Input[str] = "Regular",
        reserved_budget_in_hours: pulumi.Input[int] | None = None,
        force_train: pulumi.Input[bool] = False,
        notification_email_address: pulumi.Input[str] | None = None,
        selected_tags: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        name: pulumi.Input[str] | None = None,
        publish_name: pulumi.Input[str] | None = None,
        prediction_resource_id: pulumi.Input[str] | None = None,
        triggers: pulumi.Input[dict[str, Any]] | None = None,
        on_training_not_needed: pulumi.Input[str] = "fail",
        timeouts: pulumi.Input[dict[str, str]] | Timeouts | None = None,
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a training.

        Args:
            resource_name: The Pulumi name of this resource.
            project_id: Id of the project to train; a new id trains anew.
            training_type: ``"Regular"`` or ``"Advanced"``.
            reserved_budget_in_hours: Compute hours for an advanced training.
            force_train: Train even if nothing changed since the last training.
            notification_email_address: Who the service emails when the training is over.
            selected_tags: Tag ids to train on (API v3.2+); unset: all tags.
            name: Name of the iteration (in place); unset keeps the service's name.
            publish_name: Publish under this name (with ``prediction_resource_id``).
            prediction_resource_id: Azure resource id of the Prediction resource.
            triggers: Values whose change trains a new iteration.
            on_training_not_needed: ``"fail"`` or ``"use_latest"`` (see the class doc).
            timeouts: Budget of the training wait, e.g. ``{"create": "3h"}``.
            profile: Account profile (``customvision:profiles.<name>``); unset: the default.
            opts: Pulumi resource options.
        """
        super().__init__(
            TrainedIterationProvider(),
            resource_name,
            {
                "project_id": project_id,
                "training_type": training_type,
                "reserved_budget_in_hours": reserved_budget_in_hours,
                "force_train": force_train,
                "notification_email_address": notification_email_address,
                "selected_tags": selected_tags,
                "name": name,
                "publish_name": publish_name,
                "prediction_resource_id": prediction_resource_id,
                "triggers": triggers,
                "on_training_not_needed": on_training_not_needed,
                "timeouts": timeouts,
                "claim": training_claim(pulumi.get_project(), pulumi.get_stack(), resource_name),
                "profile": profile,
            },
            outputs=_iterations.OUTPUTS,
            opts=opts,
        )
