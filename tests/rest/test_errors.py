"""Error parsing: both body shapes, every code of the v3.3 enum, messages that say what to do."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from pulumi_customvision._rest import errors
from pulumi_customvision._rest.errors import (
    BadRequest,
    Conflict,
    CustomVisionError,
    Forbidden,
    NotFound,
    Redactor,
    ServiceError,
    Throttled,
    Unauthorized,
    UnexpectedResponse,
    error_from_response,
)

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "customvision-training-v3.3.json"


def _enum_codes() -> list[str]:
    if not SPEC.exists():
        pytest.skip("v3.3 spec not available")
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    codes: list[str] = spec["definitions"]["CustomVisionError"]["properties"]["code"]["enum"]
    return codes


def _expected_family(code: str) -> type[CustomVisionError] | None:
    for prefix, family in (
        ("BadRequest", BadRequest),
        ("UnsupportedMediaType", BadRequest),
        ("Forbidden", Forbidden),
        ("NotFound", NotFound),
        ("Conflict", Conflict),
        ("Error", ServiceError),
    ):
        if code.startswith(prefix):
            return family
    return None


def _body(code: str, message: str, gateway: bool = False) -> bytes:
    error = {"code": code, "message": message}
    return json.dumps({"error": error} if gateway else error).encode()


def test_the_enum_is_the_one_expected() -> None:
    codes = _enum_codes()
    assert len(codes) > 100
    assert "BadRequestTrainingNotNeeded" in codes and "NotFoundProject" in codes


def test_every_enum_code_maps_to_a_family_and_a_clear_sentence() -> None:
    for code in _enum_codes():
        expected = _expected_family(code)
        if code == "NoError":
            assert errors.family_for_code(code) is None
            continue
        assert expected is not None, code
        assert errors.family_for_code(code) is expected, code
        for gateway in (False, True):
            status = {BadRequest: 400, Forbidden: 403, NotFound: 404, Conflict: 409}.get(
                expected, 500
            )
            error = error_from_response(status, _body(code, "Something.", gateway), "SomeOp")
            assert type(error) is expected, code
            assert error.code == code and error.status == status
            text = str(error)
            assert text.startswith(f"SomeOp failed ({code}, HTTP {status}): Something.")
            assert "\n" not in text


def test_not_found_codes_say_which_object_is_missing() -> None:
    for code, noun in (
        ("NotFoundProject", "project"),
        ("NotFoundIteration", "iteration"),
        ("NotFoundTag", "tag"),
        ("NotFoundImage", "image"),
        ("NotFoundDomain", "domain"),
    ):
        text = str(error_from_response(404, _body(code, "Not found."), "GetX"))
        assert f"The {noun} does not exist" in text, text
        assert "pulumi refresh" in text


def test_code_wins_over_status_except_401_and_429() -> None:
    assert type(error_from_response(400, _body("NotFoundProject", "x"))) is NotFound
    assert type(error_from_response(400, _body("BadRequest", "x"))) is BadRequest
    assert type(error_from_response(401, _body("BadRequest", "x"))) is Unauthorized
    assert type(error_from_response(429, _body("ErrorUnknown", "x"))) is Throttled


def test_gateway_401_says_to_check_the_training_key() -> None:
    body = _body("401", "Access denied due to invalid subscription key.", gateway=True)
    error = error_from_response(401, body, "GetProjects")
    assert isinstance(error, Unauthorized)
    text = str(error)
    assert "customvision:trainingKey" in text and "profile's trainingKey" in text
    assert "(HTTP 401)" in text  # the gateway's numeric code is not repeated


def test_gateway_429_says_to_lower_the_rate() -> None:
    body = _body("429", "Rate limit is exceeded. Try again in 1 seconds.", gateway=True)
    error = error_from_response(429, body, "GetTags")
    assert isinstance(error, Throttled)
    assert "customvision:requestsPerSecond" in str(error)


def test_training_not_needed_says_force_train() -> None:
    error = error_from_response(400, _body("BadRequestTrainingNotNeeded", "Nothing changed"))
    assert "force_train=True" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "family"),
    [
        (502, b"<html><head><title>502 Bad Gateway</title></head></html>", ServiceError),
        (500, b"not json at all", ServiceError),
        (404, b"<!DOCTYPE html><html><title>Page not found</title></html>", UnexpectedResponse),
        (400, b"[1, 2, 3]", UnexpectedResponse),
        (401, b"", Unauthorized),
        (429, b"", Throttled),
        (404, b'{"unrelated": true}', UnexpectedResponse),
    ],
)
def test_bodies_that_are_not_service_errors(
    status: int, body: bytes, family: type[CustomVisionError]
) -> None:
    error = error_from_response(status, body, "GetProject")
    assert type(error) is family
    assert error.status == status
    assert len(str(error)) < 700


def test_html_error_page_names_its_title_and_suggests_the_endpoint() -> None:
    body = b"<html><title>Welcome to nginx</title>" + b"x" * 100_000 + b"</html>"
    text = str(error_from_response(404, body, "GetProject"))
    assert "'Welcome to nginx'" in text and "customvision:endpoint" in text
    assert len(text) < 700


def test_messages_are_redacted() -> None:
    key = "0123456789abcdef0123456789abcdef"
    redactor = Redactor([key])
    body = _body("BadRequest", f"key {key} and url ?token=https%3A%2F%2Fx%3Fsig%3Dabc&x=1")
    text = str(error_from_response(400, body, "ImportProject", redactor))
    assert key not in text
    assert "sig" not in text.split("token=")[1]
    assert "token=***" in text


def test_redactor_removes_encoded_spellings() -> None:
    token = "https://blob.example/x?sv=1&sig=a+b/c=="
    redactor = Redactor(["training-key-1234"]).with_secrets([token])
    from urllib.parse import quote, quote_plus

    for spelling in (token, quote(token, safe=""), quote_plus(token)):
        assert "sig" not in redactor.redact(f"before {spelling} after").replace("***", "")


def test_gave_up_prefix() -> None:
    error = error_from_response(503, _body("ErrorUnknown", "Busy"), "GetTags")
    error.record_give_up(4, 12.34)
    assert str(error).startswith("Gave up after 4 attempts in 12.3 s: GetTags failed")


def test_errors_pickle_with_their_family_and_fields() -> None:
    error = error_from_response(404, _body("NotFoundTag", "gone"), "GetTag")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFound and copy.code == "NotFoundTag" and str(copy) == str(error)


def test_invalid_endpoint_is_a_value_error_too() -> None:
    assert issubclass(errors.InvalidEndpoint, ValueError)
    assert issubclass(errors.InvalidEndpoint, CustomVisionError)
