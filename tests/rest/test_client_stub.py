"""TrainingClient against a scripted local HTTP stub: encoding, versions, retries, transport.

The emulator covers the service's behaviour (tests/rest/test_client_emulator.py); this stub
produces what the emulator cannot: exact replies per attempt, HTML pages, huge bodies,
redirects, refused connections, slow answers.
"""

from __future__ import annotations

import json
import logging
import pickle
import time
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from pulumi_customvision._rest import ClientSettings, TrainingClient, errors, models
from pulumi_customvision._rest.client import IDEMPOTENT_OPERATIONS, is_idempotent

from .stub import DROP, Reply, StubServer, free_port, running_stub
from .windows import max_in_any_window, on_threads

KEY = "k3y-0123456789abcdef0123456789ab"
TOKEN = "https://store.blob.example/prjexp-1/info?sv=2017-04-17&sig=S3cr3t%2Bsig%3D&se=2030"
# Ids in answers are UUIDs (the models refuse others); ids in requests may be anything.
PROJECT_ID = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e61"
ITERATION_ID = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e62"
TAG_ID = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e63"
DOMAIN_ID = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e64"
IMAGE_ID = "0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e65"
PROJECT = {
    "id": PROJECT_ID,
    "name": "parts",
    "description": "",
    "settings": {"domainId": DOMAIN_ID},
}
ITERATION = {"id": ITERATION_ID, "name": "Iteration 1", "status": "Training"}
TAG = {"id": TAG_ID, "name": "bolt", "description": None, "type": "Regular", "imageCount": 0}
FAST = ClientSettings(
    backoff_base_seconds=0.02,
    backoff_max_seconds=0.1,
    retry_budget_seconds=10,
    max_attempts=5,
    requests_per_second=0,
    training_requests_per_second=0,
    read_timeout=5,
    connect_timeout=2,
)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with running_stub() as server:
        yield server


def client_for(stub: StubServer, api_version: str = "3.3", **settings: Any) -> TrainingClient:
    return TrainingClient(
        stub.url, KEY, api_version=api_version, settings=FAST.model_copy(update=settings)
    )


def query_of(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query, keep_blank_values=True)


# --- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://example.com",
        "http://10.0.0.1:5005",
        "http://customvision.local/",
        "http://[fe80::1]",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused(endpoint: str) -> None:
    with pytest.raises(ValueError, match=r"plain http:// is refused") as caught:
        TrainingClient(endpoint, KEY)
    assert isinstance(caught.value, errors.CustomVisionError)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:5005",
        "http://127.8.9.10",
        "http://localhost:5005/",
        "http://[::1]:5005",
        "https://westeurope.api.cognitive.microsoft.com/",
        "https://name.cognitiveservices.azure.com",
    ],
)
def test_https_anywhere_and_http_on_loopback_are_accepted(endpoint: str) -> None:
    client = TrainingClient(endpoint, KEY)
    assert not client.endpoint.endswith("/")


@pytest.mark.parametrize("endpoint", ["", "ftp://x.example", "https://", "https://u:p@x.example"])
def test_malformed_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(errors.InvalidEndpoint):
        TrainingClient(endpoint, KEY)


def test_bad_keys_and_versions_are_refused_without_echoing_the_key() -> None:
    with pytest.raises(ValueError, match=r"trainingKey"):
        TrainingClient("https://x.example", "")
    with pytest.raises(ValueError, match=r"non-printable") as caught:
        TrainingClient("https://x.example", "abc\r\ndef-key")
    assert "def-key" not in str(caught.value)
    with pytest.raises(ValueError, match=r"use one of"):
        TrainingClient("https://x.example", KEY, api_version="9.9")


def test_the_key_is_not_in_repr_and_the_client_does_not_pickle() -> None:
    client = TrainingClient("https://x.example", KEY)
    assert KEY not in repr(client) and KEY not in str(client)
    assert KEY not in repr(vars(client).get("settings"))
    with pytest.raises(TypeError, match=r"cannot be pickled"):
        pickle.dumps(client)


# --- requests on the wire -------------------------------------------------------------------


def test_requests_carry_the_key_header_and_the_versions_prefix(stub: StubServer) -> None:
    stub.script(Reply(200, [TAG]))
    tags = client_for(stub).get_tags("p1")
    assert tags == [models.Tag(id=TAG_ID, name="bolt", type="Regular", image_count=0)]
    (request,) = stub.requests
    assert request.method == "GET"
    assert request.path == "/customvision/v3.3/training/projects/p1/tags"
    assert request.headers["Training-Key"] == KEY
    stub.script(Reply(200, [TAG]))
    client_for(stub, api_version="2.0").get_tags("p1")
    assert stub.requests[0].path == "/customvision/v2.0/Training/projects/p1/tags"


def test_query_parameters_are_encoded_like_the_official_sdks(stub: StubServer) -> None:
    stub.script(Reply(200, PROJECT))
    client_for(stub).create_project(
        "Test Project", description="a/b & c", target_export_platforms=["CoreML", "ONNX"]
    )
    path = stub.requests[0].path
    assert "name=Test%20Project" in path
    assert "description=a%2Fb%20%26%20c" in path
    assert "targetExportPlatforms=CoreML,ONNX" in path
    assert "domainId" not in path  # None is left out


def test_the_import_token_arrives_url_encoded(stub: StubServer) -> None:
    stub.script(Reply(200, {**PROJECT, "status": "Importing"}))
    project = client_for(stub).import_project(TOKEN, name="prod copy")
    assert project.status == "Importing"
    path = stub.requests[0].path
    assert path.startswith("/customvision/v3.3/training/projects/import?token=https%3A%2F%2F")
    assert query_of(path) == {"token": [TOKEN], "name": ["prod copy"]}


def test_path_ids_are_escaped(stub: StubServer) -> None:
    stub.script(Reply(200, PROJECT))
    client_for(stub).get_project("../domains")
    assert stub.requests[0].path == "/customvision/v3.3/training/projects/..%2Fdomains"


def test_update_iteration_sends_name_only_on_v3_and_is_default_on_v2(stub: StubServer) -> None:
    stub.script(Reply(200, ITERATION))
    client_for(stub).update_iteration("p1", "i1", name="v7")
    assert json.loads(stub.requests[0].body) == {"name": "v7"}
    assert stub.requests[0].method == "PATCH"
    with pytest.raises(errors.UnsupportedOperation, match=r"2\.2"):
        client_for(stub).update_iteration("p1", "i1", name="v7", is_default=True)
    stub.script(Reply(200, {**ITERATION, "isDefault": True}))
    iteration = client_for(stub, "2.0").update_iteration("p1", "i1", name="v7", is_default=True)
    assert iteration.is_default is True
    assert json.loads(stub.requests[0].body) == {"name": "v7", "isDefault": True}
    stub.script(Reply(200, {**ITERATION, "isDefault": True}))
    client_for(stub, "2.2").update_iteration("p1", "i1", name="v8")
    assert [r.method for r in stub.requests] == ["GET", "PATCH"]  # keeps the default flag
    assert json.loads(stub.requests[1].body) == {"name": "v8", "isDefault": True}


def test_train_project_options_and_selected_tags(stub: StubServer) -> None:
    stub.script(Reply(200, ITERATION))
    client_for(stub).train_project(
        "p1",
        training_type="Advanced",
        reserved_budget_in_hours=1,
        force_train=True,
        selected_tags=["t1", "t2"],
    )
    request = stub.requests[0]
    assert query_of(request.path) == {
        "trainingType": ["Advanced"],
        "reservedBudgetInHours": ["1"],
        "forceTrain": ["true"],
    }
    assert json.loads(request.body) == {"selectedTags": ["t1", "t2"]}
    assert request.headers["Content-Type"] == "application/json"
    stub.script(Reply(200, ITERATION))
    client_for(stub, "3.1").train_project("p1", force_train=False)
    assert stub.requests[0].body == b""
    with pytest.raises(errors.UnsupportedOperation, match=r"trainingParameters.*3\.2"):
        client_for(stub, "3.1").train_project("p1", selected_tags=["t1"])
    with pytest.raises(errors.UnsupportedOperation, match=r"forceTrain.*3\.0"):
        client_for(stub, "2.2").train_project("p1", force_train=True)


def test_operations_a_version_lacks_are_refused_before_any_request(stub: StubServer) -> None:
    with pytest.raises(errors.UnsupportedOperation, match=r"3\.2"):
        client_for(stub, "3.1").import_project(TOKEN)
    with pytest.raises(errors.UnsupportedOperation, match=r"'name' of ImportProject.*3\.3"):
        client_for(stub, "3.2").import_project(TOKEN, name="x")
    with pytest.raises(errors.UnsupportedOperation, match=r"3\.0"):
        client_for(stub, "2.2").publish_iteration("p1", "i1", "name", "/subscriptions/x")
    with pytest.raises(errors.UnsupportedOperation, match=r"3\.3"):
        client_for(stub, "3.2").get_images("p1")
    assert stub.requests == []


def test_images_from_data_are_multipart(stub: StubServer) -> None:
    summary = {"isBatchSuccessful": True, "images": [{"status": "OK", "image": {"id": IMAGE_ID}}]}
    stub.script(Reply(200, summary))
    result = client_for(stub).create_images_from_data(
        "p1", [b"\x89PNG-one", ("two.jpg", b"\xff\xd8two")], tag_ids=["t1"]
    )
    assert result.images[0].image is not None and result.images[0].image.id == IMAGE_ID
    request = stub.requests[0]
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert request.body.count(b'name="imageData"') == 2 and b"\xff\xd8two" in request.body
    assert query_of(request.path) == {"tagIds": ["t1"]}


def test_batch_limits_are_checked_before_sending(stub: StubServer) -> None:
    client = client_for(stub)
    with pytest.raises(ValueError, match=r"at most 256 image ids"):
        client.get_images_by_ids("p1", [f"id{i}" for i in range(257)])
    entry = models.ImageRegionCreateEntry(
        image_id=IMAGE_ID, tag_id=TAG_ID, left=0, top=0, width=0.5, height=0.5
    )
    with pytest.raises(ValueError, match=r"at most 64 regions"):
        client.create_image_regions("p1", [entry] * 65)
    with pytest.raises(ValueError, match=r"at most 64 region ids"):
        client.delete_image_regions("p1", ["r"] * 65)
    assert stub.requests == []


def test_iter_images_pages_until_a_short_page(stub: StubServer) -> None:
    page = [{"id": f"0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e7{i}"} for i in range(3)]
    stub.script(Reply(200, page), Reply(200, page), Reply(200, page[:1]))
    images = list(client_for(stub).iter_images("p1", page_size=3))
    assert len(images) == 7
    assert [query_of(r.path)["skip"] for r in stub.requests] == [["0"], ["3"], ["6"]]


# --- answers that are not what the service sends --------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b"<html><title>Login</title></html>", {"Content-Type": "text/html"}),
        Reply(200, b"{not json"),
        Reply(200, {"name": "no id"}),
        Reply(200, {"id": 5, "name": ["wrong", "types"]}),
        Reply(200, b""),
        Reply(200, b"x" * 5000),
    ],
)
def test_malformed_success_bodies_raise_unexpected_response(stub: StubServer, reply: Reply) -> None:
    stub.script(reply)
    with pytest.raises(errors.UnexpectedResponse) as caught:
        client_for(stub, max_response_bytes=4096).get_project("p1")
    assert len(str(caught.value)) < 800
    assert len(stub.requests) == 1  # not retried


def test_a_malformed_export_does_not_leak_its_token_into_the_error(stub: StubServer) -> None:
    stub.script(Reply(200, {"token": ["not", TOKEN], "imageCount": "many"}))
    with pytest.raises(errors.UnexpectedResponse) as caught:
        client_for(stub).export_project("p1")
    assert "sig" not in str(caught.value) and "blob" not in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_redirects_are_not_followed(stub: StubServer) -> None:
    stub.script(Reply(307, b"", {"Location": "https://elsewhere.example/steal"}))
    with pytest.raises(errors.UnexpectedResponse, match=r"redirect"):
        client_for(stub).get_projects()
    assert len(stub.requests) == 1


# --- retries --------------------------------------------------------------------------------


def test_429_with_retry_after_seconds_is_waited_out(stub: StubServer) -> None:
    throttled = {"error": {"code": "429", "message": "Rate limit is exceeded."}}
    stub.script(Reply(429, throttled, {"Retry-After": "1"}), Reply(200, [TAG]))
    started = time.monotonic()
    assert client_for(stub).get_tags("p1")[0].id == TAG_ID
    assert len(stub.requests) == 2
    assert stub.requests[1].time - stub.requests[0].time >= 0.95
    assert time.monotonic() - started < 5


def test_429_with_retry_after_http_date_is_waited_out(stub: StubServer) -> None:
    from email.utils import formatdate

    when = formatdate(time.time() + 2, usegmt=True)
    stub.script(Reply(429, b"", {"Retry-After": when}), Reply(200, TAG))
    client_for(stub).create_tag("p1", "bolt")
    assert len(stub.requests) == 2
    assert stub.requests[1].time - stub.requests[0].time >= 0.9


def test_429_and_503_are_retried_even_for_creating_posts(stub: StubServer) -> None:
    stub.script(
        Reply(429, b"", {"Retry-After": "0"}),
        Reply(503, {"code": "ErrorUnknown", "message": "busy"}),
        Reply(200, ITERATION),
    )
    assert client_for(stub).train_project("p1").id == ITERATION_ID
    assert len(stub.requests) == 3


def test_retries_stop_within_the_budget_with_a_clear_error(stub: StubServer) -> None:
    stub.script(Reply(503, {"code": "ErrorUnknown", "message": "busy"}, {"Retry-After": "0.4"}))
    client = client_for(stub, retry_budget_seconds=1.5, max_attempts=100)
    started = time.monotonic()
    with pytest.raises(errors.ServiceError) as caught:
        client.get_projects()
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 0.5
    attempts = len(stub.requests)
    assert 2 <= attempts <= 5
    assert caught.value.attempts == attempts
    assert str(caught.value).startswith(f"Gave up after {attempts} attempts in ")
    assert "busy" in str(caught.value)


def test_a_retry_after_beyond_the_budget_gives_up_at_once(stub: StubServer) -> None:
    stub.script(Reply(429, b"", {"Retry-After": "60"}))
    started = time.monotonic()
    with pytest.raises(errors.Throttled, match=r"Gave up after 1 attempt in .*requestsPerSecond"):
        client_for(stub, retry_budget_seconds=5).get_projects()
    assert time.monotonic() - started < 2


def test_retries_stop_after_max_attempts(stub: StubServer) -> None:
    stub.script(Reply(500, {"code": "ErrorUnknown", "message": "boom"}))
    with pytest.raises(errors.ServiceError, match=r"Gave up after 3 attempts"):
        client_for(stub, max_attempts=3).get_projects()
    assert len(stub.requests) == 3


def test_a_500_on_train_is_not_repeated(stub: StubServer) -> None:
    stub.script(Reply(500, {"code": "ErrorProjectTrainingRequestFailed", "message": "x"}))
    with pytest.raises(errors.ServiceError) as caught:
        client_for(stub).train_project("p1")
    assert len(stub.requests) == 1
    assert caught.value.may_have_succeeded
    assert "may have reached the service" in str(caught.value)


def test_a_500_on_a_get_is_retried(stub: StubServer) -> None:
    stub.script(Reply(500, {"code": "ErrorUnknown", "message": "x"}), Reply(200, PROJECT))
    assert client_for(stub).get_project("p1").name == "parts"
    assert len(stub.requests) == 2


def test_a_dropped_connection_on_get_is_retried(stub: StubServer) -> None:
    stub.script(DROP, Reply(200, [TAG]))
    assert len(client_for(stub).get_tags("p1")) == 1
    assert len(stub.requests) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_tag("p1", "bolt"),
        lambda c: c.train_project("p1"),
        lambda c: c.create_project("x"),
        lambda c: c.import_project(TOKEN),
    ],
)
def test_a_dropped_connection_on_a_creating_post_is_not_retried(
    stub: StubServer, call: Any
) -> None:
    stub.script(DROP, Reply(200, TAG))
    with pytest.raises(errors.TransportError) as caught:
        call(client_for(stub))
    assert len(stub.requests) == 1
    assert caught.value.may_have_succeeded
    assert caught.value.code == "ConnectionDropped"


def test_a_read_timeout_is_retried_on_get_but_not_on_create(stub: StubServer) -> None:
    stub.script(Reply(200, [TAG], delay=1.5), Reply(200, [TAG]))
    assert client_for(stub, read_timeout=0.5).get_tags("p1")[0].name == "bolt"
    assert len(stub.requests) == 2
    stub.script(Reply(200, TAG, delay=1.5))
    with pytest.raises(errors.TransportError, match=r"read timeout") as caught:
        client_for(stub, read_timeout=0.5).create_tag("p1", "bolt")
    assert caught.value.may_have_succeeded
    assert len(stub.requests) == 1


def test_a_refused_connection_is_retried_even_for_creating_posts() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    client = TrainingClient(endpoint, KEY, settings=FAST.model_copy(update={"max_attempts": 3}))
    with pytest.raises(errors.TransportError) as caught:
        client.create_tag("p1", "bolt")
    assert caught.value.code == "ConnectionFailed"
    assert not caught.value.may_have_succeeded
    assert str(caught.value).startswith("Gave up after 3 attempts")
    assert "customvision:endpoint" in str(caught.value)


class RefuseFirstAdapter(HTTPAdapter):
    """Sends the first request to a closed port (refused), the others where they belong."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.calls += 1
        if self.calls == 1:
            parts = urlsplit(request.url or "")
            request.url = parts._replace(netloc=f"127.0.0.1:{free_port()}").geturl()
        return super().send(request, **kwargs)


def test_a_creating_post_that_never_left_is_sent_again(stub: StubServer) -> None:
    session = requests.Session()
    adapter = RefuseFirstAdapter()
    session.mount("http://", adapter)
    stub.script(Reply(200, TAG))
    client = TrainingClient(stub.url, KEY, settings=FAST, session=session)
    assert client.create_tag("p1", "bolt").id == TAG_ID
    assert adapter.calls == 2 and len(stub.requests) == 1


def test_the_idempotency_table() -> None:
    for op in (
        "GetProject",
        "DeleteProject",
        "UpdateIteration",
        "PublishIteration",
        "UnpublishIteration",
        "DeleteImageRegions",
        "CreateImageTags",
    ):
        assert is_idempotent(op) and op in IDEMPOTENT_OPERATIONS, op
    for op in (
        "TrainProject",
        "ImportProject",
        "ExportProject",
        "CreateProject",
        "CreateTag",
        "CreateImagesFromUrls",
        "CreateImagesFromData",
        "CreateImageRegions",
    ):
        assert not is_idempotent(op), op


# --- secrets --------------------------------------------------------------------------------


def test_the_key_and_the_token_never_appear_in_errors_or_logs(
    stub: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_customvision")
    echo = {"code": "BadRequestInvalidImportToken", "message": f"bad token {TOKEN} for {KEY}"}
    failures: list[BaseException] = []
    scripts: list[tuple[Any, ...]] = [
        (Reply(400, echo),),
        (Reply(401, {"error": {"code": "401", "message": f"key {KEY} denied"}}),),
        (DROP,),
        (Reply(500, f"<html><title>{KEY}</title></html>".encode()),),
        (Reply(429, b"", {"Retry-After": "0"}), Reply(503, echo)),
    ]
    for script in scripts:
        stub.script(*script)
        with pytest.raises(errors.CustomVisionError) as caught:
            client_for(stub, max_attempts=2).import_project(TOKEN)
        failures.append(caught.value)
    unreachable = TrainingClient(f"http://127.0.0.1:{free_port()}", KEY, settings=FAST)
    with pytest.raises(errors.TransportError) as refused:
        unreachable.import_project(TOKEN)
    failures.append(refused.value)
    texts = [record.getMessage() for record in caplog.records]
    for failure in failures:
        assert failure.__context__ is None and failure.__cause__ is None  # no hidden chain
        texts += [str(failure), repr(failure), "".join(traceback.format_exception(failure))]
    assert any("/projects/import?token=***" in text for text in texts)
    for text in texts:
        assert KEY not in text
        for secret in ("S3cr3t", "store.blob", "sig=S", unquote(TOKEN)):
            assert secret not in text, text


# --- concurrency ----------------------------------------------------------------------------


def test_eight_threads_share_the_rate_limit(stub: StubServer) -> None:
    stub.script(Reply(200, [TAG]))
    client = client_for(stub, requests_per_second=10)
    assert not on_threads(lambda: client.get_tags("p1"), each=4, timeout=30)
    times = [request.time for request in stub.requests]
    assert len(times) == 32
    assert max_in_any_window(times) <= 10
