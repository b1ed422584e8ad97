"""TrainingClient against the emulator: every operation the resources use, retries, pacing."""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from customvision_emulator.samples import png
from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import ClientSettings, TrainingClient, errors, models, ratelimit

from .windows import max_in_any_window, on_threads

FAST = ClientSettings(
    backoff_base_seconds=0.05,
    backoff_max_seconds=0.2,
    retry_budget_seconds=15,
    requests_per_second=0,
    training_requests_per_second=0,
    read_timeout=10,
    connect_timeout=2,
)
BAD_TOKEN = "https://x.example/?sig=SIGNATURE1234"
PREDICTION_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.CognitiveServices/accounts/prediction"
)


@pytest.fixture
def emu(customvision_emulator: RunningEmulator) -> Iterator[RunningEmulator]:
    ratelimit.reset_limiters()
    yield customvision_emulator
    ratelimit.reset_limiters()


def make_client(emu: RunningEmulator, api_version: str = "3.3", **settings: Any) -> TrainingClient:
    return TrainingClient(
        emu.url,
        emu.training_key,
        api_version=api_version,
        settings=FAST.model_copy(update=settings),
    )


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


# --- the operations -------------------------------------------------------------------------


def test_projects_tags_and_domains_round_trip(emu: RunningEmulator) -> None:
    client = make_client(emu)
    domains = client.get_domains()
    assert domains and all(isinstance(d, models.Domain) for d in domains)
    assert client.get_domain(domains[0].id).id == domains[0].id
    project = client.create_project("parts detector", description="demo")
    assert project.name == "parts detector" and project.settings is not None
    assert [p.id for p in client.get_projects()] == [project.id]
    renamed = client.update_project(project.id, name="parts", description="")
    assert (renamed.name, renamed.description or "") == ("parts", "")
    assert client.get_project(project.id).name == "parts"

    tag = client.create_tag(project.id, "bolt", description="M6")
    assert client.get_tag(project.id, tag.id) == tag
    updated = client.update_tag(project.id, tag.id, name="bolt M6")
    assert updated.name == "bolt M6" and updated.description == "M6"
    assert [t.name for t in client.get_tags(project.id)] == ["bolt M6"]
    client.delete_tag(project.id, tag.id)
    with pytest.raises(errors.NotFound) as missing:
        client.get_tag(project.id, tag.id)
    assert "tag" in str(missing.value)

    client.delete_project(project.id)
    with pytest.raises(errors.NotFound, match="project"):
        client.get_project(project.id)


def test_images_regions_training_publishing_export_and_import(emu: RunningEmulator) -> None:
    client = make_client(emu)
    project = client.create_project("train me")
    bolt = client.create_tag(project.id, "bolt")
    nut = client.create_tag(project.id, "nut")
    created = client.create_images_from_data(
        project.id, [png(i) for i in range(5)], tag_ids=[bolt.id]
    )
    assert created.is_batch_successful and len(created.images) == 5
    more = client.create_images_from_data(
        project.id, [(f"nut{i}.png", png(100 + i)) for i in range(5)], tag_ids=[nut.id]
    )
    assert more.is_batch_successful
    image_ids = [r.image.id for r in created.images + more.images if r.image]
    assert len(image_ids) == 10
    assert client.get_tagged_image_count(project.id) == 10
    assert client.get_untagged_image_count(project.id) == 0
    assert client.get_image_count(project.id) == 10
    assert len(client.get_images_by_ids(project.id, image_ids)) == 10
    assert len(list(client.iter_images(project.id, page_size=3))) == 10
    assert len(client.get_tagged_images(project.id, take=4)) == 4

    region = models.ImageRegionCreateEntry(
        image_id=image_ids[0], tag_id=nut.id, left=0.1, top=0.1, width=0.5, height=0.5
    )
    summary = client.create_image_regions(project.id, [region])
    assert len(summary.created) == 1 and summary.created[0].region_id
    again = client.create_image_regions(project.id, [region])
    assert len(again.duplicated) == 1 and not again.created
    (image,) = client.get_images_by_ids(project.id, [image_ids[0]])
    assert image.regions and image.regions[0].region_id == summary.created[0].region_id
    client.delete_image_regions(project.id, [summary.created[0].region_id or ""])
    assert not client.get_images_by_ids(project.id, [image_ids[0]])[0].regions

    iteration = client.train_project(project.id, selected_tags=[bolt.id, nut.id])
    assert iteration.status == "Training"
    done = wait_for(
        lambda: (it := client.get_iteration(project.id, iteration.id)).status != "Training" and it
    )
    assert done.status == "Completed"
    with pytest.raises(errors.BadRequest, match="force_train=True"):
        client.train_project(project.id)
    assert client.update_iteration(project.id, iteration.id, name="v7").name == "v7"
    assert client.publish_iteration(project.id, iteration.id, "parts", PREDICTION_ID) is True
    assert client.get_iteration(project.id, iteration.id).publish_name == "parts"
    client.unpublish_iteration(project.id, iteration.id)
    assert [i.id for i in client.get_iterations(project.id)] == [iteration.id]

    export = client.export_project(project.id)
    assert export.token and "token='***'" in repr(export)
    imported = client.import_project(export.token, name="prod copy")
    assert imported.id != project.id
    final = wait_for(lambda: (p := client.get_project(imported.id)).status != "Importing" and p)
    assert final.status == "Succeeded"
    assert client.get_tagged_image_count(imported.id) == 10

    client.delete_images(project.id, image_ids[:2])
    assert client.get_image_count(project.id) == 8
    client.delete_iteration(project.id, iteration.id)
    assert client.get_iterations(project.id) == []


@pytest.mark.parametrize("api_version", ["2.0", "2.2", "3.0", "3.1", "3.2", "3.4-preview"])
def test_other_versions_speak_their_own_paths(emu: RunningEmulator, api_version: str) -> None:
    client = make_client(emu, api_version)
    project = client.create_project(f"v{api_version}")
    tag = client.create_tag(project.id, "bolt")
    assert [t.id for t in client.get_tags(project.id)] == [tag.id]
    (logged, *_) = emu.admin.requests(operation="CreateProject")
    prefix = "Training" if api_version.startswith("2.") else "training"
    assert logged["path"].startswith(f"/customvision/v{api_version}/{prefix}/")
    assert logged["api_version"] == api_version


def test_a_bad_import_token_is_a_bad_request_without_the_token(emu: RunningEmulator) -> None:
    token = "https://nowhere.example/prjexp?sig=S3cr3tSig%3D&se=2000"
    with pytest.raises(errors.BadRequest) as caught:
        make_client(emu).import_project(token)
    assert caught.value.code == "BadRequestInvalidImportToken"
    assert "S3cr3tSig" not in str(caught.value) and "nowhere" not in str(caught.value)
    assert "Export tokens expire" in str(caught.value)


# --- retries against the emulator's faults --------------------------------------------------


def test_a_429_with_retry_after_is_waited_out_and_retried(emu: RunningEmulator) -> None:
    emu.admin.inject_fault(status=429, count=1, retry_after=1, operation="GetProjects")
    assert make_client(emu).get_projects() == []
    calls = emu.admin.requests(operation="GetProjects")
    assert [c["status"] for c in calls] == [429, 200]
    assert calls[1]["time"] - calls[0]["time"] >= 0.95


def test_the_emulators_own_rate_limit_is_waited_out(emu: RunningEmulator) -> None:
    emu.admin.configure(requests_per_second=2)
    client = make_client(emu)  # the client's own limiter is off: the emulator says 429
    for _ in range(4):
        client.get_projects()
    statuses = [c["status"] for c in emu.admin.requests(operation="GetProjects")]
    assert statuses.count(200) == 4 and 429 in statuses


def test_retries_stop_within_the_budget_with_a_clear_error(emu: RunningEmulator) -> None:
    emu.admin.inject_fault(status=503, count=50, retry_after=1, operation="GetProjects")
    started = time.monotonic()
    with pytest.raises(errors.ServiceError) as caught:
        make_client(emu, retry_budget_seconds=2.5, max_attempts=50).get_projects()
    assert time.monotonic() - started < 4
    calls = emu.admin.requests(operation="GetProjects")
    assert 2 <= len(calls) <= 4
    assert str(caught.value).startswith(f"Gave up after {len(calls)} attempts in ")


def test_a_train_answered_with_500_is_not_repeated(emu: RunningEmulator) -> None:
    client = make_client(emu)
    project = client.create_project("p")
    emu.admin.inject_fault(status=500, count=1, operation="TrainProject")
    with pytest.raises(errors.ServiceError) as caught:
        client.train_project(project.id)
    assert caught.value.may_have_succeeded
    assert len(emu.admin.requests(operation="TrainProject")) == 1


def test_a_503_on_train_is_retried(emu: RunningEmulator) -> None:
    client = make_client(emu)
    project = client.create_project("p")
    emu.admin.inject_fault(status=503, count=1, operation="TrainProject", retry_after=0)
    with pytest.raises(errors.BadRequest, match="Not enough data"):
        client.train_project(project.id)  # retried, then the real validation answers
    assert [c["status"] for c in emu.admin.requests(operation="TrainProject")] == [503, 400]


def test_a_dropped_connection_is_retried_on_get_but_not_on_a_creating_post(
    emu: RunningEmulator,
) -> None:
    client = make_client(emu)
    project = client.create_project("p")
    emu.admin.inject_fault(drop_connection=True, count=1, operation="GetTags")
    assert client.get_tags(project.id) == []
    assert len(emu.admin.requests(operation="GetTags")) == 2

    emu.admin.inject_fault(drop_connection=True, count=1, operation="CreateTag")
    with pytest.raises(errors.TransportError) as caught:
        client.create_tag(project.id, "bolt")
    assert caught.value.may_have_succeeded
    assert len(emu.admin.requests(operation="CreateTag")) == 1


def test_http_to_a_non_loopback_host_is_refused(emu: RunningEmulator) -> None:
    port = emu.url.rsplit(":", 1)[1]
    with pytest.raises(ValueError, match="plain http:// is refused"):
        TrainingClient(f"http://emulator.example:{port}", emu.training_key)
    TrainingClient(emu.url.replace("127.0.0.1", "localhost"), emu.training_key)


# --- pacing ---------------------------------------------------------------------------------


def test_eight_threads_never_exceed_the_configured_rate(emu: RunningEmulator) -> None:
    rate = 10
    emu.admin.configure(requests_per_second=rate)
    client = make_client(emu, requests_per_second=rate)
    project = client.create_project("p")
    time.sleep(1.1)  # let the emulator's bucket refill
    emu.admin.clear_log()
    assert not on_threads(lambda: client.get_tags(project.id), each=5)
    calls = emu.admin.requests(operation="GetTags")
    assert len(calls) == 40
    assert all(c["status"] == 200 for c in calls)  # the emulator never had to say 429
    assert max_in_any_window([c["time"] for c in calls]) <= rate


def test_training_has_its_own_bucket(emu: RunningEmulator) -> None:
    client = make_client(emu, training_requests_per_second=2)
    project = client.create_project("p")
    started = time.monotonic()
    for _ in range(3):
        with pytest.raises(errors.BadRequest):
            client.train_project(project.id)
    assert time.monotonic() - started >= 0.95  # 3 starts at 2/s span at least 1 s
    times = [c["time"] for c in emu.admin.requests(operation="TrainProject")]
    assert max_in_any_window(times) <= 2


# --- secrets --------------------------------------------------------------------------------


def test_the_key_never_appears_in_errors_or_debug_logs(
    emu: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_customvision")
    wrong_key = "deadbeef" * 4
    texts: list[str] = []

    def record(failure: BaseException) -> None:
        texts.extend([str(failure), repr(failure), "".join(traceback.format_exception(failure))])

    client = make_client(emu, max_attempts=2)
    project = client.create_project("p")
    with pytest.raises(errors.Unauthorized) as unauthorized:
        TrainingClient(emu.url, wrong_key, settings=FAST).get_projects()
    assert "customvision:trainingKey" in str(unauthorized.value)
    record(unauthorized.value)
    emu.admin.inject_fault(status=500, count=5, operation="GetTags")
    emu.admin.inject_fault(status=429, count=1, retry_after=0, operation="GetProject")
    emu.admin.inject_fault(drop_connection=True, count=1, operation="CreateTag")
    calls = [
        lambda: client.get_tags(project.id),
        lambda: client.get_project(str(uuid.uuid4())),
        lambda: client.create_tag(project.id, "x"),
        lambda: client.import_project(BAD_TOKEN),
        lambda: client.get_iteration(project.id, str(uuid.uuid4())),
    ]
    for call in calls:
        with pytest.raises(errors.CustomVisionError) as caught:
            call()
        record(caught.value)
    texts += [r.getMessage() for r in caplog.records]
    assert any("attempt 2" in text for text in texts)
    for text in texts:
        assert emu.training_key not in text and wrong_key not in text
        assert "SIGNATURE1234" not in text


def test_images_from_files_and_urls_and_image_tags(emu: RunningEmulator) -> None:
    client = make_client(emu)
    project = client.create_project("files")
    tag = client.create_tag(project.id, "bolt")
    entries = [models.ImageFileCreateEntry(name=f"f{i}.png", contents=png(i)) for i in range(2)]
    from_files = client.create_images_from_files(project.id, entries, tag_ids=[tag.id])
    assert from_files.is_batch_successful
    assert [r.status for r in from_files.images] == ["OK", "OK"]
    duplicate = client.create_images_from_files(project.id, entries[:1])
    assert duplicate.images[0].status == "OKDuplicate"
    from_urls = client.create_images_from_urls(project.id, ["https://example.com/a.jpg"])
    assert len(from_urls.images) == 1
    image_id = from_urls.images[0].image.id if from_urls.images[0].image else ""
    pair = models.ImageTagCreateEntry(image_id=image_id, tag_id=tag.id)
    assert len(client.create_image_tags(project.id, [pair]).created) == 1
    assert client.get_tagged_image_count(project.id, tag_ids=[tag.id]) == 3
    client.delete_image_tags(project.id, [image_id], [tag.id])
    assert client.get_tagged_image_count(project.id) == 2


def test_update_project_from_a_model_sends_only_writable_fields(emu: RunningEmulator) -> None:
    client = make_client(emu)
    project = client.create_project("model", description="old")
    project.description = "new"
    updated = client.update_project(project.id, project, name="renamed")
    assert (updated.name, updated.description) == ("renamed", "new")
    assert updated.settings == project.settings


def test_v2_rename_keeps_the_default_flag(emu: RunningEmulator) -> None:
    client = make_client(emu, "2.2")
    project = client.create_project("v2")
    bolt, nut = client.create_tag(project.id, "bolt"), client.create_tag(project.id, "nut")
    client.create_images_from_data(project.id, [png(i) for i in range(5)], tag_ids=[bolt.id])
    client.create_images_from_data(project.id, [png(50 + i) for i in range(5)], tag_ids=[nut.id])
    iteration = client.train_project(project.id)
    wait_for(lambda: client.get_iteration(project.id, iteration.id).status == "Completed")
    assert client.update_iteration(project.id, iteration.id, is_default=True).is_default
    renamed = client.update_iteration(project.id, iteration.id, name="v2 model")
    assert renamed.name == "v2 model" and renamed.is_default is True
