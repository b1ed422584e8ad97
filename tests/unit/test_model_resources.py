"""Diff and input rules of Project, ProjectExport, Iteration and TrainedIteration, in process."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pulumi_customvision import _claims, _iterations, domains
from pulumi_customvision._rest import models
from pulumi_customvision.iteration import IterationArgs, IterationProvider
from pulumi_customvision.project import ProjectArgs, ProjectProvider, token_digest
from pulumi_customvision.project_export import ProjectExportProvider
from pulumi_customvision.trained_iteration import (
    TrainedIterationArgs,
    TrainedIterationProvider,
    training_claim,
)

PID = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f"
TAG = "1e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f"


def outputs_after_create(provider: Any, inputs: dict[str, Any], **computed: Any) -> dict[str, Any]:
    """The outputs the base would store: stored inputs, then what the service said."""
    return {**provider.state_from_args(provider.args_model.model_validate(inputs)), **computed}


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"training_type": "Advanced", "reserved_budget_in_hours": 2}, True),
        ({"reserved_budget_in_hours": 3}, True),
        ({"force_train": True}, True),
        ({"notification_email_address": "ml@example.com"}, True),
        ({"selected_tags": [TAG]}, True),
        ({"triggers": {"data": 2}}, True),
        ({"project_id": TAG}, True),
        ({"name": "v8"}, False),
        ({"publish_name": "p", "prediction_resource_id": "/subscriptions/x"}, False),
        ({"on_training_not_needed": "use_latest"}, False),
        ({"timeouts": {"create": "3h"}}, False),
    ],
)
def test_trained_iteration_training_inputs_replace(change: dict[str, Any], replaces: bool) -> None:
    provider = TrainedIterationProvider()
    inputs = {"project_id": PID, "name": "v7", "triggers": {"data": 1}}
    olds = outputs_after_create(provider, inputs, status="Completed")
    result = provider.diff("it", olds, {**inputs, **change})
    assert result.changes is True
    assert bool(result.replaces) is replaces


def test_service_names_and_settings_are_not_changes() -> None:
    trained = TrainedIterationProvider()
    olds = outputs_after_create(
        trained, {"project_id": PID}, name="Iteration 3", publish_name="by-hand"
    )
    assert trained.diff("it", olds, {"project_id": PID}).changes is False

    project = ProjectProvider()
    inputs = {"name": "p", "settings": {"use_negative_set": True}}
    olds = outputs_after_create(
        project,
        inputs,
        description="",
        domain_id=domains.GENERAL_CLASSIFICATION,
        settings={"use_negative_set": True, "domain_id": domains.GENERAL_CLASSIFICATION},
    )
    assert project.diff("p", olds, inputs).changes is False
    changed = {**inputs, "settings": {"use_negative_set": False}}
    assert project.diff("p", olds, changed).changes is True


def test_unsetting_a_managed_publication_is_a_change() -> None:
    provider = IterationProvider()
    inputs = {"project_id": PID, "latest": True, "publish_name": "p"}
    inputs["prediction_resource_id"] = "/subscriptions/x"
    olds = outputs_after_create(provider, inputs, managed_publish_name="p")
    result = provider.diff("it", olds, {"project_id": PID, "latest": True})
    assert result.changes is True and not result.replaces
    unmanaged = {**olds, "managed_publish_name": None}
    assert provider.diff("it", unmanaged, {"project_id": PID, "latest": True}).changes is False


def test_import_token_is_kept_as_a_digest_and_a_new_one_replaces_first() -> None:
    provider = ProjectProvider()
    inputs = {"name": "prod", "import_token": "https://blob/x?sig=secret"}
    olds = outputs_after_create(provider, inputs)
    assert olds["import_token"] == token_digest(inputs["import_token"])
    assert "secret" not in str(olds)
    assert provider.diff("p", olds, inputs).changes is False
    result = provider.diff("p", olds, {**inputs, "import_token": "https://blob/y"})
    assert result.replaces == ["import_token"] and result.delete_before_replace is True
    unnamed = outputs_after_create(provider, {"import_token": "t1"}, name="source (1)")
    result = provider.diff("p", unnamed, {"import_token": "t2"})
    assert result.replaces == ["import_token"] and not result.delete_before_replace


def test_export_triggers_replace() -> None:
    provider = ProjectExportProvider()
    inputs = {"project_id": PID, "triggers": {"model": "a"}}
    olds = outputs_after_create(provider, inputs, token="t")
    assert provider.diff("e", olds, inputs).changes is False
    result = provider.diff("e", olds, {**inputs, "triggers": {"model": "b"}})
    assert result.replaces == ["triggers"]


def test_input_rules() -> None:
    with pytest.raises(ValidationError, match="exactly one of iteration_id"):
        IterationArgs.model_validate({"project_id": PID})
    with pytest.raises(ValidationError, match="needs reserved_budget_in_hours"):
        TrainedIterationArgs.model_validate({"project_id": PID, "training_type": "Advanced"})
    with pytest.raises(ValidationError, match="not an email address"):
        TrainedIterationArgs.model_validate(
            {"project_id": PID, "notification_email_address": "nobody"}
        )
    with pytest.raises(ValidationError, match="name is required to create a project"):
        ProjectArgs.model_validate({})
    with pytest.raises(ValidationError, match="classification domains only"):
        ProjectArgs.model_validate(
            {
                "name": "p",
                "domain_id": domains.GENERAL_OBJECT_DETECTION,
                "classification_type": "Multiclass",
            }
        )


def test_claim_marker_depends_on_claim_and_training_inputs() -> None:
    base = {"project_id": PID, "claim": training_claim("proj", "dev", "model")}
    marker = TrainedIterationArgs.model_validate(base).marker()
    assert marker.startswith("[pulumi:") and len(marker) == len("[pulumi:]") + 12
    same = TrainedIterationArgs.model_validate({**base, "name": "renamed"}).marker()
    assert same == marker
    other_stack = {**base, "claim": training_claim("proj", "prod", "model")}
    assert TrainedIterationArgs.model_validate(other_stack).marker() != marker
    retrain = {**base, "triggers": {"data": 2}}
    assert TrainedIterationArgs.model_validate(retrain).marker() != marker

    # the marker is unchanged by the move of the helpers into _claims (running trainings of
    # earlier versions are still recognised)
    assert TrainedIterationArgs.model_validate(
        {"project_id": PID, "claim": "p/s/m"}
    ).marker() == _claims.marker(
        "p/s/m",
        {
            "project_id": PID,
            "training_type": "Regular",
            "reserved_budget_in_hours": None,
            "force_train": False,
            "notification_email_address": None,
            "selected_tags": None,
            "triggers": None,
        },
    )


def test_claim_helpers() -> None:
    marker = _claims.marker("p/s/r", {"a": 1})
    assert _claims.marker_of(f"Iteration 4 {marker}") == marker
    assert _claims.marker_of("Iteration 4") is None
    assert _claims.base_name(f"parts (1) {marker}") == "parts (1)"
    assert _claims.claimed_name(f"parts {_claims.marker('x', {})}", marker) == f"parts {marker}"
    assert _claims.claim("proj", "dev", "model") == training_claim("proj", "dev", "model")


def test_import_marker_depends_on_claim_and_token_not_on_the_in_place_inputs() -> None:
    base = {"import_token": "https://blob/x?sig=1", "claim": "proj/dev/prod"}
    marker = ProjectArgs.model_validate(base).marker()
    renamed = {
        **base,
        "name": "parts",
        "description": "d",
        "domain_id": domains.FOOD_CLASSIFICATION,
    }
    assert ProjectArgs.model_validate(renamed).marker() == marker
    assert ProjectArgs.model_validate({**base, "claim": "proj/prod/prod"}).marker() != marker
    new_token = {**base, "import_token": "https://blob/x?sig=2"}
    assert ProjectArgs.model_validate(new_token).marker() != marker


def test_the_project_claim_is_not_kept_in_the_state() -> None:
    """Stacks made before the claim existed see no change when it appears."""
    provider = ProjectProvider()
    inputs = {"import_token": "https://blob/x?sig=1", "name": "prod"}
    olds = outputs_after_create(provider, inputs)
    assert "claim" not in olds
    result = provider.diff("p", olds, {**inputs, "claim": "proj/dev/prod"})
    assert result.changes is False


def test_a_domain_of_the_other_kind_replaces_the_project() -> None:
    provider = ProjectProvider()
    inputs = {"name": "p", "domain_id": domains.GENERAL_CLASSIFICATION}
    olds = outputs_after_create(provider, inputs)
    same_kind = {**inputs, "domain_id": domains.FOOD_CLASSIFICATION}
    result = provider.diff("p", olds, same_kind)
    assert result.changes is True and not result.replaces
    other_kind = {**inputs, "domain_id": domains.GENERAL_OBJECT_DETECTION}
    result = provider.diff("p", olds, other_kind)
    assert result.replaces == ["domain_id"] and result.delete_before_replace is True


def test_both_iteration_resources_declare_every_iteration_output() -> None:
    iteration = models.Iteration.model_validate({"id": PID, "name": "v1", "status": "Completed"})
    assert set(_iterations.iteration_outputs(iteration, None)) == set(_iterations.OUTPUTS)
