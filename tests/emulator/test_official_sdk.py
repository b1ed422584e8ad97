"""Microsoft's official Python SDK (speaks v3.4-preview) runs a full scenario unmodified."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.cognitiveservices.vision.customvision.training import CustomVisionTrainingClient
from azure.cognitiveservices.vision.customvision.training.models import (
    CustomVisionErrorException,
    ImageRegionCreateEntry,
)
from msrest.authentication import ApiKeyCredentials
from msrest.exceptions import HttpOperationError

from customvision_emulator.samples import png
from customvision_emulator.testing import RunningEmulator

from .conftest import GENERAL_DETECTION, PREDICTION_ID


def _client(emu: RunningEmulator, key: str | None = None) -> CustomVisionTrainingClient:
    credentials = ApiKeyCredentials(in_headers={"Training-key": key or emu.training_key})
    return CustomVisionTrainingClient(emu.url, credentials)


def _poll(read: Any, done: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        item = read()
        if item.status == done or time.monotonic() > deadline:
            assert item.status == done, item.status
            return item
        time.sleep(0.1)


def test_official_sdk_full_scenario(customvision_emulator: RunningEmulator) -> None:
    trainer = _client(customvision_emulator)

    # Detection project, tags, images from data.
    domains = {d.id: d for d in trainer.get_domains()}
    assert domains[GENERAL_DETECTION].type == "ObjectDetection"
    project = trainer.create_project("SDK scenario", domain_id=GENERAL_DETECTION)
    assert project.settings.domain_id == GENERAL_DETECTION
    fork = trainer.create_tag(project.id, "fork")
    scissors = trainer.create_tag(project.id, "scissors")
    image_ids = []
    for seed in range(15):
        summary = trainer.create_images_from_data(project.id, png(seed))
        assert summary.is_batch_successful
        image_ids.append(summary.images[0].image.id)

    # Regions: one batch per tag covering 15 images (duplicates and a 65-entry batch too).
    for tag, left in ((fork, 0.1), (scissors, 0.5)):
        for chunk in (image_ids[:8], image_ids[8:]):
            entries = [
                ImageRegionCreateEntry(
                    image_id=i, tag_id=tag.id, left=left, top=0.1, width=0.3, height=0.3
                )
                for i in chunk
            ]
            result = trainer.create_image_regions(project.id, regions=entries)
            assert len(result.created) == len(chunk)
            assert result.created[0].region_id
    dup = ImageRegionCreateEntry(
        image_id=image_ids[0], tag_id=fork.id, left=0.1, top=0.1, width=0.3, height=0.3
    )
    result = trainer.create_image_regions(project.id, regions=[dup])
    assert result.created == [] and len(result.duplicated) == 1
    too_many = [
        ImageRegionCreateEntry(
            image_id=image_ids[1], tag_id=fork.id, left=0.01 * n, top=0.5, width=0.1, height=0.1
        )
        for n in range(65)
    ]
    with pytest.raises(CustomVisionErrorException) as refused:
        trainer.create_image_regions(project.id, regions=too_many)
    assert refused.value.inner_exception.code == "BadRequestExceededBatchSize"
    assert trainer.get_tagged_image_count(project.id) == 15

    # Train and poll until Completed; rename the iteration.
    iteration = trainer.train_project(project.id)
    assert iteration.status == "Training"
    iteration = _poll(lambda: trainer.get_iteration(project.id, iteration.id), "Completed")
    iteration = trainer.update_iteration(project.id, iteration.id, name="First model")
    assert iteration.name == "First model"

    # Training again without changes is refused.
    with pytest.raises(CustomVisionErrorException) as not_needed:
        trainer.train_project(project.id)
    assert not_needed.value.inner_exception.code == "BadRequestTrainingNotNeeded"

    # Export, import (URL-encoded token), poll until Succeeded; counts match.
    export = trainer.export_project(project.id)
    assert export.image_count == 15 and export.tag_count == 2 and export.iteration_count == 1
    imported = trainer.import_project(export.token)
    assert imported.status == "Importing"
    assert imported.name == "SDK scenario (1)"
    assert imported.id != project.id
    _poll(lambda: trainer.get_project(imported.id), "Succeeded")
    assert trainer.get_tagged_image_count(imported.id) == 15
    new_tags = trainer.get_tags(imported.id)
    assert sorted(t.name for t in new_tags) == ["fork", "scissors"]
    assert not {t.id for t in new_tags} & {fork.id, scissors.id}
    new_iterations = trainer.get_iterations(imported.id)
    assert [i.name for i in new_iterations] == ["First model"]
    assert new_iterations[0].id != iteration.id

    # Publish and unpublish.
    assert trainer.publish_iteration(project.id, iteration.id, "model", PREDICTION_ID) is True
    assert trainer.get_iteration(project.id, iteration.id).publish_name == "model"
    trainer.unpublish_iteration(project.id, iteration.id)
    assert trainer.get_iteration(project.id, iteration.id).publish_name is None

    # Unknown project: 404 with a NotFound* code.
    with pytest.raises(CustomVisionErrorException) as missing:
        trainer.get_project("00000000-0000-0000-0000-000000000000")
    assert missing.value.response.status_code == 404
    assert missing.value.inner_exception.code.startswith("NotFound")

    # Wrong key: 401.
    with pytest.raises(HttpOperationError) as denied:
        _client(customvision_emulator, key="wrong").get_projects()
    assert denied.value.response.status_code == 401

    # Delete everything.
    for pid in (project.id, imported.id):
        for it in trainer.get_iterations(pid):
            trainer.delete_iteration(pid, it.id)
        trainer.delete_images(pid, all_images=True, all_iterations=True)
        for tag in trainer.get_tags(pid):
            trainer.delete_tag(pid, tag.id)
        trainer.delete_project(pid)
    assert trainer.get_projects() == []
    assert customvision_emulator.admin.state()["projects"] == []
