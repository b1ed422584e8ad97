"""``TrainingClient``: one method per operation of the Custom Vision Training API.

Every method goes through one request path, :meth:`TrainingClient._request`, which

1. refuses an operation (or parameter) the configured API version lacks
   (:class:`~.errors.UnsupportedOperation`, naming the version that has it);
2. waits for a slot of the process-wide rate limiter (:mod:`.ratelimit`) before *every*
   attempt, retries included (TrainProject also takes a slot of the training bucket);
3. sends the request with the ``Training-Key`` header, connect and read timeouts, no
   redirects (a redirect would carry the key to another host);
4. retries what is safe to retry (table below) with exponential backoff and jitter, or the
   service's ``Retry-After`` (seconds or HTTP date), within a total time budget per call;
5. turns the answer into a pydantic model or a typed error (:mod:`.errors`) whose message
   never contains the key or an import token.

Retry policy
============

========================================  ==========  =============================================
operations                                idempotent  retried on
========================================  ==========  =============================================
every GET except ExportProject            yes         429, 503, other 5xx, connection errors,
                                                      read timeouts, dropped connections
every PATCH (UpdateProject,               yes         same as GET (the body sets fields to values)
UpdateIteration, UpdateTag)
every DELETE (DeleteProject/Iteration/    yes         same as GET; a repeated DELETE may answer
Tag/Images/ImageRegions/ImageTags,                    404, which the callers treat as "gone"
UnpublishIteration)
PublishIteration, CreateImageTags         yes         same as GET (publishing the same name again,
                                                      re-tagging an image, change nothing)
CreateProject, ImportProject,             no          429, 503 (the service did not act), and
ExportProject (a GET that starts an                   connection errors that provably happened
export), TrainProject, CreateTag,                     before the request was sent (refused,
CreateImagesFromUrls/Data/Files,                      DNS failure, connect timeout). Any other
CreateImageRegions                                    failure raises with ``may_have_succeeded``
                                                      set: the caller lists what exists instead
========================================  ==========  =============================================

When retries stop (``max_attempts`` reached or the next wait would leave the budget), the
last error is raised, and its message starts with "Gave up after N attempts in S s".
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

from . import models, ratelimit, versions
from .errors import (
    CustomVisionError,
    InvalidEndpoint,
    Redactor,
    TransportError,
    UnexpectedResponse,
    UnsupportedOperation,
    describe_body,
    error_from_response,
    redact_library_logs,
)

if TYPE_CHECKING:
    from typing_extensions import TypedDict, Unpack

    class _RequestParts(TypedDict, total=False):
        """What :meth:`TrainingClient._request` takes besides the operation."""

        path: Mapping[str, str]
        query: Mapping[str, object]
        body: object
        body_parameter: str
        files: Sequence[tuple[str, tuple[str, bytes, str]]]
        secrets: Sequence[str]


__all__ = [
    "IDEMPOTENT_OPERATIONS",
    "MAX_IDS_PER_GET",
    "MAX_IMAGES_PER_BATCH",
    "MAX_PAGE_SIZE",
    "MAX_REGIONS_PER_BATCH",
    "ClientSettings",
    "TrainingClient",
    "is_idempotent",
]

logger = logging.getLogger("pulumi_customvision")
redact_library_logs()  # urllib3 logs request lines, import tokens included, at DEBUG

MAX_IMAGES_PER_BATCH = 64
"""CreateImagesFromUrls/Data/Files accept at most 64 images per call."""
MAX_REGIONS_PER_BATCH = 64
"""CreateImageRegions and DeleteImageRegions accept at most 64 entries per call."""
MAX_IDS_PER_GET = 256
"""GetImagesByIds and DeleteImages accept at most 256 image ids per call."""
MAX_PAGE_SIZE = 256
"""The largest ``take`` of the paged image listings."""
MAX_IMAGE_TAGS_PER_BATCH = 128
"""CreateImageTags accepts at most 128 (image, tag) pairs per call."""

_NOT_IDEMPOTENT = frozenset(
    {
        "CreateProject",
        "ImportProject",
        "ExportProject",
        "TrainProject",
        "CreateTag",
        "CreateImagesFromUrls",
        "CreateImagesFromData",
        "CreateImagesFromFiles",
        "CreateImagesFromPredictions",
        "CreateImageRegions",
        "ExportIteration",
        "QuickTestImage",
        "QuickTestImageUrl",
    }
)
_IDEMPOTENT_POSTS = frozenset({"PublishIteration", "CreateImageTags"})


def is_idempotent(operation_id: str) -> bool:
    """Tell whether repeating ``operation_id`` after an unclear failure is harmless."""
    if operation_id in _NOT_IDEMPOTENT:
        return False
    if operation_id in _IDEMPOTENT_POSTS:
        return True
    return versions.operation(operation_id).method in ("GET", "PATCH", "DELETE")


IDEMPOTENT_OPERATIONS = frozenset(op for op in versions.OPERATIONS if is_idempotent(op))
"""Operations retried after any transient failure (see the module's retry table)."""

_ALWAYS_RETRIED_STATUSES = frozenset({429, 503})
_UNDECODABLE = object()
_SUCCESS_STATUSES = frozenset({200, 201, 202, 204, 207})
_RETRY_AFTER_PARSER = Retry(0)


def _user_agent() -> str:
    try:
        return f"pulumi-customvision/{metadata.version('pulumi-customvision')}"
    except metadata.PackageNotFoundError:
        return "pulumi-customvision"


_USER_AGENT = _user_agent()

T = TypeVar("T")


class ClientSettings(BaseModel):
    """Timeouts, retries and rate limits of a :class:`TrainingClient`.

    ``retry_budget_seconds`` bounds one call including every wait between attempts (the
    read timeout of the last attempts is shortened to fit, never below one second).
    Backoff before attempt ``n + 1`` is ``min(backoff_max, backoff_base * 2 ** (n - 1))``
    with jitter (uniformly between half and all of it), unless the service sent
    ``Retry-After``. A rate of ``0`` or ``None`` turns that limiter off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)
    retry_budget_seconds: float = Field(default=120.0, ge=0)
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    backoff_max_seconds: float = Field(default=30.0, ge=0)
    requests_per_second: float | None = Field(default=10.0, ge=0)
    training_requests_per_second: float | None = Field(default=10.0, ge=0)
    user_agent: str = _USER_AGENT
    max_connections: int = Field(default=16, ge=1)
    """Connections kept open per host; size it to the number of threads sharing the client."""
    max_response_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    """Larger bodies are refused with ``UnexpectedResponse``."""

    def backoff_seconds(self, failed_attempts: int) -> float:
        """Return the jittered wait after ``failed_attempts`` failures (1 for the first)."""
        ceiling = min(
            self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (failed_attempts - 1)
        )
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str


@dataclass
class _Attempt:
    """The outcome of one failed attempt: the error, and whether and when to retry."""

    error: CustomVisionError
    retryable: bool
    ambiguous: bool = False
    retry_after: float | None = None


def _validate_endpoint(endpoint: str) -> str:
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise InvalidEndpoint("InvalidEndpoint", "the endpoint is empty", hint=_ENDPOINT_HINT)
    endpoint = endpoint.strip().rstrip("/")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint(
            "InvalidEndpoint",
            f"{endpoint!r} is not an http(s) URL with a host",
            hint=_ENDPOINT_HINT,
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidEndpoint(
            "InvalidEndpoint",
            "the endpoint must not carry a query, a fragment or credentials",
            hint=_ENDPOINT_HINT,
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InvalidEndpoint(
            "InsecureEndpoint",
            f"plain http:// is refused for {parts.hostname} because the training key would "
            "travel unencrypted",
            hint="Use https://, or http:// only for a local emulator on 127.0.0.1/localhost.",
        )
    return endpoint


_ENDPOINT_HINT = (
    "Set customvision:endpoint to the resource's endpoint, "
    "e.g. https://<name>.cognitiveservices.azure.com."
)


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _validate_key(training_key: str) -> str:
    if not isinstance(training_key, str) or not training_key.strip():
        raise ValueError(
            "The Custom Vision training key is empty; set customvision:trainingKey "
            "(or the profile's trainingKey, or CUSTOMVISION_TRAINING_KEY)."
        )
    key = training_key.strip()
    if not re.fullmatch(r"[\x21-\x7e]+", key):
        raise ValueError(
            "The Custom Vision training key contains spaces or non-printable characters; "
            "check customvision:trainingKey."
        )
    return key


def _encode_query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(quote(str(item), safe="") for item in value)
    return quote(str(value), safe="")


def _encode_query(query: Mapping[str, object]) -> str:
    """Encode query parameters like the official SDKs: ``%20`` for spaces, csv for lists."""
    return "&".join(
        f"{quote(name, safe='$')}={_encode_query_value(value)}"
        for name, value in query.items()
        if value is not None
    )


def _never_sent(exc: requests.RequestException) -> bool:
    """Tell whether a transport failure provably happened before the request was sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, requests.exceptions.SSLError
    ):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # NewConnectionError (refused, DNS) is a ConnectTimeoutError in urllib3 2.
        return isinstance(reason, ConnectTimeoutError)
    return False


def _innermost_reason(exc: BaseException) -> str:
    reason: object = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    text = str(reason)
    text = re.sub(r"<[^>]*object at 0x[0-9a-f]+>:?\s*", "", text)
    text = re.sub(r"\s*\(Caused by .*\)$", "", text)
    return text.strip(" .") or type(exc).__name__


class TrainingClient:
    """A client of the Custom Vision Training API for one endpoint, key and API version.

    Thread-safe: several threads may share one client (and its connection pool). The key is
    held in memory only: it is not part of ``repr()``, is never logged or put into an error
    message, and the client refuses to be pickled.
    """

    def __init__(
        self,
        endpoint: str,
        training_key: str,
        api_version: str = versions.DEFAULT_API_VERSION,
        settings: ClientSettings | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if api_version not in versions.API_VERSIONS:
            raise ValueError(
                f"Unknown Custom Vision API version {api_version!r}; "
                f"use one of {', '.join(versions.API_VERSIONS)}."
            )
        self.endpoint = _validate_endpoint(endpoint)
        self.api_version = api_version
        self.settings = settings or ClientSettings()
        self.__training_key = _validate_key(training_key)
        self._redactor = Redactor([self.__training_key])
        self._base_url = self.endpoint + versions.path_prefix(api_version)
        self._session = session or self._new_session()
        self._requests_limiter = ratelimit.limiter_for(
            self.endpoint, ratelimit.KIND_REQUESTS, self.settings.requests_per_second
        )
        self._training_limiter = ratelimit.limiter_for(
            self.endpoint, ratelimit.KIND_TRAINING, self.settings.training_requests_per_second
        )

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=4,
            pool_maxsize=self.settings.max_connections,
            max_retries=Retry(total=0, read=False, redirect=False, raise_on_status=False),
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        if _is_loopback(urlsplit(self.endpoint).hostname or ""):
            session.trust_env = False  # never send a local emulator's traffic to a proxy
        return session

    def __repr__(self) -> str:
        return f"TrainingClient(endpoint={self.endpoint!r}, api_version={self.api_version!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("TrainingClient holds a training key and cannot be pickled")

    def close(self) -> None:
        """Close the connection pool."""
        self._session.close()

    def __enter__(self) -> TrainingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the one request path ---------------------------------------------------------------

    def _require_parameters(self, operation_id: str, given: Mapping[str, object]) -> None:
        versions.require(self.api_version, operation_id)
        for name, value in given.items():
            if value is not None:
                versions.require(self.api_version, operation_id, name)

    def _url(self, operation_id: str, path_params: Mapping[str, str]) -> str:
        template = versions.path_for(self.api_version, operation_id)
        for name, value in path_params.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{operation_id}: {name} must be a non-empty string")
            template = template.replace("{" + name + "}", quote(value, safe=""))
        return self._base_url + template

    def _request(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: object = None,
        body_parameter: str | None = None,
        files: Sequence[tuple[str, tuple[str, bytes, str]]] | None = None,
        secrets: Sequence[str] = (),
    ) -> object:
        """Send one operation (with retries) and return its decoded JSON (``None`` if empty).

        ``query`` values of ``None`` are left out; the others must be supported by the API
        version, as must ``body_parameter`` (the spec name of an optional body) when a body
        is given.
        """
        query = {name: value for name, value in (query or {}).items() if value is not None}
        self._require_parameters(operation_id, query)
        if body is not None and body_parameter is not None:
            versions.require(self.api_version, operation_id, body_parameter)
        spec = versions.operation(operation_id)
        url = self._url(operation_id, path or {})
        encoded_query = _encode_query(query)
        if encoded_query:
            url = f"{url}?{encoded_query}"
        redactor = self._redactor.with_secrets(secrets)
        shown_url = redactor.redact(url[len(self.endpoint) :])
        headers = {
            "Training-Key": self.__training_key,
            "Accept": "application/json",
            "User-Agent": self.settings.user_agent,
        }
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        response = self._send_with_retries(
            operation_id, spec.method, url, shown_url, headers, data, files, redactor
        )
        return self._decode(operation_id, response, redactor)

    def _send_with_retries(
        self,
        operation_id: str,
        method: str,
        url: str,
        shown_url: str,
        headers: dict[str, str],
        data: bytes | None,
        files: Sequence[tuple[str, tuple[str, bytes, str]]] | None,
        redactor: Redactor,
    ) -> _Response:
        settings = self.settings
        idempotent = is_idempotent(operation_id)
        started = time.monotonic()
        deadline = started + settings.retry_budget_seconds
        attempt = 0
        while True:
            attempt += 1
            waited = self._pace(operation_id)
            read_timeout = max(1.0, min(settings.read_timeout, deadline - time.monotonic()))
            logger.debug(
                "%s %s (%s) attempt %d%s",
                method,
                shown_url,
                operation_id,
                attempt,
                f" after waiting {waited:.3f} s for the rate limit" if waited > 0 else "",
            )
            sent_at = time.monotonic()
            outcome = self._attempt(
                operation_id, method, url, headers, data, files, read_timeout, redactor
            )
            if isinstance(outcome, _Response):
                logger.debug(
                    "%s %s -> %d in %.3f s",
                    method,
                    shown_url,
                    outcome.status,
                    time.monotonic() - sent_at,
                )
                return outcome
            error = outcome.error
            retryable = outcome.retryable or (idempotent and outcome.ambiguous)
            if not retryable:
                if outcome.ambiguous:
                    error.may_have_succeeded = True
                    error.hint = (
                        f"The request may have reached the service; it was not repeated because "
                        f"{operation_id} creates something. List what exists before trying again."
                    )
                logger.debug("%s %s failed, not retried: %s", method, shown_url, error)
                raise error
            if outcome.retry_after is not None:
                wait = outcome.retry_after
            else:
                wait = settings.backoff_seconds(attempt)
            elapsed = time.monotonic() - started
            if attempt >= settings.max_attempts or elapsed + wait > settings.retry_budget_seconds:
                error.record_give_up(attempt, elapsed)
                logger.debug("%s %s: %s", method, shown_url, error)
                raise error
            if error.status == 429 and outcome.retry_after is not None:
                self._requests_limiter.hold_off(outcome.retry_after)
            logger.debug(
                "%s %s: %s (%s); retrying in %.3f s",
                method,
                shown_url,
                f"HTTP {error.status}" if error.status is not None else "no response",
                error.code,
                wait,
            )
            time.sleep(wait)

    def _pace(self, operation_id: str) -> float:
        waited = 0.0
        if operation_id == "TrainProject":
            waited += self._training_limiter.acquire()
        waited += self._requests_limiter.acquire()
        return waited

    def _attempt(
        self,
        operation_id: str,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        files: Sequence[tuple[str, tuple[str, bytes, str]]] | None,
        read_timeout: float,
        redactor: Redactor,
    ) -> _Response | _Attempt:
        settings = self.settings
        try:
            with self._session.request(
                method,
                url,
                headers=headers,
                data=data,
                files=files,
                timeout=(settings.connect_timeout, read_timeout),
                allow_redirects=False,
                stream=True,
            ) as response:
                body = self._read_body(operation_id, response, redactor)
                status = response.status_code
                content_type = response.headers.get("Content-Type", "")
                retry_after_header = response.headers.get("Retry-After")
        except requests.RequestException as exc:
            return self._transport_failure(operation_id, exc, read_timeout, redactor)
        except UnexpectedResponse as unexpected:
            return _Attempt(unexpected, retryable=False)
        if status in _SUCCESS_STATUSES:
            return _Response(status, body, content_type)
        if 300 <= status < 400:
            message = (
                f"the endpoint answered with a redirect (HTTP {status}), which is not followed"
            )
            return _Attempt(
                UnexpectedResponse(f"HTTP{status}", message, status, operation_id),
                retryable=False,
            )
        error = error_from_response(status, body, operation_id, redactor)
        retry_after = self._retry_after(retry_after_header)
        if status in _ALWAYS_RETRIED_STATUSES:
            return _Attempt(error, retryable=True, retry_after=retry_after)
        if status >= 500:
            return _Attempt(error, retryable=False, ambiguous=True, retry_after=retry_after)
        return _Attempt(error, retryable=False)

    def _read_body(
        self, operation_id: str, response: requests.Response, redactor: Redactor
    ) -> bytes:
        limit = self.settings.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise self._too_big(operation_id, response.status_code, limit)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > limit:
                raise self._too_big(operation_id, response.status_code, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _too_big(operation_id: str, status: int, limit: int) -> UnexpectedResponse:
        return UnexpectedResponse(
            "ResponseTooLarge",
            f"the response body is larger than {limit} bytes",
            status,
            operation_id,
        )

    @staticmethod
    def _retry_after(value: str | None) -> float | None:
        if not value:
            return None
        try:  # delay-seconds (fractions tolerated), else an HTTP date via urllib3
            seconds = float(value) if re.fullmatch(r"\s*\d+(\.\d+)?\s*", value) else None
            if seconds is None:
                seconds = float(_RETRY_AFTER_PARSER.parse_retry_after(value))
            return max(0.0, seconds)
        except (InvalidHeader, ValueError, OverflowError):
            return None

    def _transport_failure(
        self,
        operation_id: str,
        exc: requests.RequestException,
        read_timeout: float,
        redactor: Redactor,
    ) -> _Attempt:
        reason = redactor.redact(_innermost_reason(exc))
        if _never_sent(exc):
            host = urlsplit(self.endpoint).netloc
            message = f"could not connect to {host} ({reason})"
            return _Attempt(
                TransportError("ConnectionFailed", message, None, operation_id), retryable=True
            )
        if isinstance(exc, requests.exceptions.SSLError):
            message = f"the TLS handshake failed ({reason})"
            hint = "Check the endpoint's certificate (and REQUESTS_CA_BUNDLE behind a proxy)."
            return _Attempt(
                TransportError("TlsError", message, None, operation_id, hint=hint),
                retryable=False,
            )
        if isinstance(exc, requests.exceptions.Timeout):
            message = f"no response within the read timeout of {read_timeout:.1f} s"
            code = "ReadTimeout"
        elif isinstance(
            exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
        ):
            message = f"the connection broke before a complete response arrived ({reason})"
            code = "ConnectionDropped"
        else:
            message = f"the request could not be sent ({reason})"
            return _Attempt(TransportError("RequestFailed", message, None, operation_id), False)
        return _Attempt(TransportError(code, message, None, operation_id), False, ambiguous=True)

    def _decode(self, operation_id: str, response: _Response, redactor: Redactor) -> object:
        """Decode a success body as JSON (``None`` when empty).

        Errors are raised outside the ``except`` block so that they carry no context (a
        decoder's exception holds the whole body, which may hold a secret such as a token).
        """
        if not response.body.strip():
            return None
        decoded: object = _UNDECODABLE
        if "html" not in response.content_type.lower():
            with contextlib.suppress(UnicodeDecodeError, ValueError):
                decoded = json.loads(response.body.decode("utf-8-sig"))
        if decoded is _UNDECODABLE:
            raise UnexpectedResponse(
                "InvalidJson",
                redactor.redact(
                    f"HTTP {response.status} carried {describe_body(response.body)}, not JSON"
                ),
                response.status,
                operation_id,
            )
        return decoded

    @staticmethod
    def _parse(adapter: TypeAdapter[T], data: object, operation_id: str) -> T:
        """Validate decoded JSON against the operation's result type.

        The message names the fields and problems only, never the values received.
        """
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}"
                for problem in exc.errors(include_input=False, include_url=False)[:5]
            )
        raise UnexpectedResponse(
            "UnexpectedShape",
            f"the response does not have the documented shape ({problems})",
            None,
            operation_id,
        )

    def _call(
        self, adapter: TypeAdapter[T], operation_id: str, **request: Unpack[_RequestParts]
    ) -> T:
        return self._parse(adapter, self._request(operation_id, **request), operation_id)

    def _call_no_content(self, operation_id: str, **request: Unpack[_RequestParts]) -> None:
        self._request(operation_id, **request)

    # --- domains ----------------------------------------------------------------------------

    def get_domains(self) -> list[models.Domain]:
        """GetDomains: every domain available to projects."""
        return self._call(_DOMAINS, "GetDomains")

    def get_domain(self, domain_id: str) -> models.Domain:
        """GetDomain: one domain."""
        return self._call(_DOMAIN, "GetDomain", path={"domainId": domain_id})

    # --- projects ---------------------------------------------------------------------------

    def get_projects(self) -> list[models.Project]:
        """GetProjects: every project of the account."""
        return self._call(_PROJECTS, "GetProjects")

    def get_project(self, project_id: str) -> models.Project:
        """GetProject: one project (``status`` tells whether an import has finished)."""
        return self._call(_PROJECT, "GetProject", path={"projectId": project_id})

    def create_project(
        self,
        name: str,
        description: str | None = None,
        domain_id: str | None = None,
        classification_type: str | None = None,
        target_export_platforms: Sequence[str] | None = None,
    ) -> models.Project:
        """CreateProject. Not repeated after an unclear failure (see the retry table)."""
        query = {
            "name": name,
            "description": description,
            "domainId": domain_id,
            "classificationType": classification_type,
            "targetExportPlatforms": list(target_export_platforms)
            if target_export_platforms is not None
            else None,
        }
        return self._call(_PROJECT, "CreateProject", query=query)

    def update_project(
        self,
        project_id: str,
        update: models.ProjectUpdate | models.Project | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        settings: models.ProjectSettings | None = None,
    ) -> models.Project:
        """UpdateProject: change the fields given (a model, or keyword arguments); the
        others keep their values."""
        changes = _changes(
            models.ProjectUpdate, update, name=name, description=description, settings=settings
        )
        return self._call(
            _PROJECT, "UpdateProject", path={"projectId": project_id}, body=changes.to_api()
        )

    def delete_project(self, project_id: str) -> None:
        """DeleteProject."""
        self._call_no_content("DeleteProject", path={"projectId": project_id})

    def export_project(self, project_id: str) -> models.ProjectExport:
        """ExportProject (v3.2+): a token (a secret) that ImportProject accepts elsewhere."""
        return self._call(_PROJECT_EXPORT, "ExportProject", path={"projectId": project_id})

    def import_project(self, token: str, name: str | None = None) -> models.Project:
        """ImportProject (v3.2+; ``name`` v3.3+): starts an import, status ``Importing``.

        The token is URL-encoded in the query and redacted from logs and error messages.
        """
        return self._call(
            _PROJECT,
            "ImportProject",
            query={"token": token, "name": name},
            secrets=(token,),
        )

    # --- iterations -------------------------------------------------------------------------

    def get_iterations(self, project_id: str) -> list[models.Iteration]:
        """GetIterations: every iteration of a project."""
        return self._call(_ITERATIONS, "GetIterations", path={"projectId": project_id})

    def get_iteration(self, project_id: str, iteration_id: str) -> models.Iteration:
        """GetIteration: one iteration (poll ``status`` while training)."""
        return self._call(
            _ITERATION,
            "GetIteration",
            path={"projectId": project_id, "iterationId": iteration_id},
        )

    def update_iteration(
        self,
        project_id: str,
        iteration_id: str,
        name: str | None = None,
        is_default: bool | None = None,
    ) -> models.Iteration:
        """UpdateIteration: rename (all versions) or make default (``is_default``, v2.x only).

        v3.x sends ``{"name"}`` only. v2.x always sends ``isDefault`` too (the v2 model has
        it non-nullable, so the service reads a missing one as ``false``): when
        ``is_default`` is not given, the iteration's current value is read first (GetIteration)
        so that a rename does not take the default flag away.
        """
        v2 = self.api_version.startswith("2.")
        if is_default is not None and not v2:
            raise UnsupportedOperation(
                "UnsupportedOperation",
                f"API version {self.api_version} has no default iteration (is_default)",
                None,
                "UpdateIteration",
                hint=(
                    'It exists on API versions 2.0-2.2 only; set customvision:apiVersion to "2.2".'
                ),
            )
        if name is None and is_default is None:
            raise ValueError("update_iteration needs a name (or is_default on API v2.x)")
        if v2 and is_default is None:
            is_default = bool(self.get_iteration(project_id, iteration_id).is_default)
        body = models.IterationUpdate(name=name, is_default=is_default).to_api()
        return self._call(
            _ITERATION,
            "UpdateIteration",
            path={"projectId": project_id, "iterationId": iteration_id},
            body=body,
        )

    def delete_iteration(self, project_id: str, iteration_id: str) -> None:
        """DeleteIteration (refused by the service while it is published)."""
        self._call_no_content(
            "DeleteIteration", path={"projectId": project_id, "iterationId": iteration_id}
        )

    def publish_iteration(
        self,
        project_id: str,
        iteration_id: str,
        publish_name: str,
        prediction_id: str,
        overwrite: bool | None = None,
    ) -> bool:
        """PublishIteration (v3.0+; ``overwrite`` v3.3+) to a prediction resource."""
        return self._call(
            _BOOL,
            "PublishIteration",
            path={"projectId": project_id, "iterationId": iteration_id},
            query={
                "publishName": publish_name,
                "predictionId": prediction_id,
                "overwrite": overwrite,
            },
        )

    def unpublish_iteration(self, project_id: str, iteration_id: str) -> None:
        """UnpublishIteration (v3.0+)."""
        self._call_no_content(
            "UnpublishIteration", path={"projectId": project_id, "iterationId": iteration_id}
        )

    def train_project(
        self,
        project_id: str,
        training_type: str | None = None,
        reserved_budget_in_hours: int | None = None,
        force_train: bool | None = None,
        notification_email_address: str | None = None,
        selected_tags: Sequence[str] | None = None,
    ) -> models.Iteration:
        """TrainProject: starts training a new iteration (status ``Training``).

        The options are v3.0+, ``selected_tags`` (the TrainingParameters body) v3.2+. Never
        repeated after an unclear failure: the caller looks for a ``Training`` iteration.
        """
        body = None
        if selected_tags is not None:
            body = models.TrainingParameters(selected_tags=list(selected_tags)).to_api()
        return self._call(
            _ITERATION,
            "TrainProject",
            path={"projectId": project_id},
            query={
                "trainingType": training_type,
                "reservedBudgetInHours": reserved_budget_in_hours,
                "forceTrain": force_train,
                "notificationEmailAddress": notification_email_address,
            },
            body=body,
            body_parameter="trainingParameters",
        )

    # --- tags -------------------------------------------------------------------------------

    def get_tags(self, project_id: str, iteration_id: str | None = None) -> list[models.Tag]:
        """GetTags: the tags of a project (or of a trained iteration)."""
        return self._call(
            _TAGS,
            "GetTags",
            path={"projectId": project_id},
            query={"iterationId": iteration_id},
        )

    def get_tag(self, project_id: str, tag_id: str, iteration_id: str | None = None) -> models.Tag:
        """GetTag: one tag."""
        return self._call(
            _TAG,
            "GetTag",
            path={"projectId": project_id, "tagId": tag_id},
            query={"iterationId": iteration_id},
        )

    def create_tag(
        self,
        project_id: str,
        name: str,
        description: str | None = None,
        type: str | None = None,
    ) -> models.Tag:
        """CreateTag (``type`` v2.2+). Not repeated after an unclear failure."""
        return self._call(
            _TAG,
            "CreateTag",
            path={"projectId": project_id},
            query={"name": name, "description": description, "type": type},
        )

    def update_tag(
        self,
        project_id: str,
        tag_id: str,
        update: models.TagUpdate | models.Tag | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        type: str | None = None,
    ) -> models.Tag:
        """UpdateTag: change the fields given (a model, or keyword arguments)."""
        changes = _changes(models.TagUpdate, update, name=name, description=description, type=type)
        return self._call(
            _TAG,
            "UpdateTag",
            path={"projectId": project_id, "tagId": tag_id},
            body=changes.to_api(),
        )

    def delete_tag(self, project_id: str, tag_id: str) -> None:
        """DeleteTag."""
        self._call_no_content("DeleteTag", path={"projectId": project_id, "tagId": tag_id})

    # --- images -----------------------------------------------------------------------------

    def create_images_from_urls(
        self,
        project_id: str,
        images: Sequence[models.ImageUrlCreateEntry | str],
        tag_ids: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> models.ImageCreateSummary:
        """CreateImagesFromUrls: at most 64 images (entries or plain URLs) per call."""
        entries = [
            models.ImageUrlCreateEntry(url=image) if isinstance(image, str) else image
            for image in images
        ]
        return self._create_images(
            "CreateImagesFromUrls",
            models.ImageUrlCreateBatch,
            project_id,
            entries,
            tag_ids,
            metadata,
        )

    def create_images_from_data(
        self,
        project_id: str,
        images: Sequence[bytes | tuple[str, bytes]],
        tag_ids: Sequence[str] | None = None,
    ) -> models.ImageCreateSummary:
        """CreateImagesFromData: upload at most 64 images (bytes, or ``(file name, bytes)``)
        as ``multipart/form-data``, tagged with ``tag_ids``."""
        _check_count("images", len(images), MAX_IMAGES_PER_BATCH)
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        for index, image in enumerate(images):
            file_name, content = image if isinstance(image, tuple) else (f"image{index}", image)
            files.append(("imageData", (file_name, bytes(content), "application/octet-stream")))
        return self._call(
            _IMAGE_CREATE_SUMMARY,
            "CreateImagesFromData",
            path={"projectId": project_id},
            query={"tagIds": list(tag_ids) if tag_ids else None},
            files=files,
        )

    def create_images_from_files(
        self,
        project_id: str,
        images: Sequence[models.ImageFileCreateEntry],
        tag_ids: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> models.ImageCreateSummary:
        """CreateImagesFromFiles: at most 64 images as JSON (contents base64-encoded)."""
        return self._create_images(
            "CreateImagesFromFiles",
            models.ImageFileCreateBatch,
            project_id,
            images,
            tag_ids,
            metadata,
        )

    def _create_images(
        self,
        operation_id: str,
        batch_model: type[models.ImageUrlCreateBatch | models.ImageFileCreateBatch],
        project_id: str,
        entries: Sequence[Any],
        tag_ids: Sequence[str] | None,
        metadata: Mapping[str, str] | None,
    ) -> models.ImageCreateSummary:
        """The JSON image batches (URLs or files): at most 64 entries, tags and metadata."""
        _check_count("images", len(entries), MAX_IMAGES_PER_BATCH)
        batch = batch_model(
            images=list(entries),
            tag_ids=list(tag_ids) if tag_ids is not None else None,
            metadata=dict(metadata) if metadata is not None else None,
        )
        return self._call(
            _IMAGE_CREATE_SUMMARY, operation_id, path={"projectId": project_id}, body=batch.to_api()
        )

    def get_images_by_ids(
        self,
        project_id: str,
        image_ids: Sequence[str],
        iteration_id: str | None = None,
    ) -> list[models.Image]:
        """GetImagesByIds: at most 256 images with their tags and regions."""
        _check_count("image ids", len(image_ids), MAX_IDS_PER_GET)
        return self._call(
            _IMAGES,
            "GetImagesByIds",
            path={"projectId": project_id},
            query={"imageIds": list(image_ids), "iterationId": iteration_id},
        )

    def get_images(
        self,
        project_id: str,
        iteration_id: str | None = None,
        tag_ids: Sequence[str] | None = None,
        tagging_status: Literal["All", "Tagged", "Untagged"] | None = None,
        filter: str | None = None,
        order_by: Literal["Newest", "Oldest"] | None = None,
        take: int | None = None,
        skip: int | None = None,
    ) -> list[models.Image]:
        """GetImages (v3.3+): one page (``take`` <= 256, from ``skip``) of a project's images."""
        return self._image_page(
            "GetImages",
            project_id,
            iteration_id,
            order_by,
            take,
            skip,
            {
                "tagIds": list(tag_ids) if tag_ids else None,
                "taggingStatus": tagging_status,
                "$filter": filter,
            },
        )

    def get_tagged_images(
        self,
        project_id: str,
        iteration_id: str | None = None,
        tag_ids: Sequence[str] | None = None,
        order_by: Literal["Newest", "Oldest"] | None = None,
        take: int | None = None,
        skip: int | None = None,
    ) -> list[models.Image]:
        """GetTaggedImages: one page (``take`` <= 256, from ``skip``) of tagged images."""
        return self._image_page(
            "GetTaggedImages",
            project_id,
            iteration_id,
            order_by,
            take,
            skip,
            {"tagIds": list(tag_ids) if tag_ids else None},
        )

    def get_untagged_images(
        self,
        project_id: str,
        iteration_id: str | None = None,
        order_by: Literal["Newest", "Oldest"] | None = None,
        take: int | None = None,
        skip: int | None = None,
    ) -> list[models.Image]:
        """GetUntaggedImages: one page (``take`` <= 256, from ``skip``) of untagged images."""
        return self._image_page("GetUntaggedImages", project_id, iteration_id, order_by, take, skip)

    def _image_page(
        self,
        operation_id: str,
        project_id: str,
        iteration_id: str | None,
        order_by: str | None,
        take: int | None,
        skip: int | None,
        query: Mapping[str, object] | None = None,
    ) -> list[models.Image]:
        """One page of images: the paging query every image listing has, plus ``query``."""
        _check_take(take)
        return self._call(
            _IMAGES,
            operation_id,
            path={"projectId": project_id},
            query={
                "iterationId": iteration_id,
                **(query or {}),
                "orderBy": order_by,
                "take": take,
                "skip": skip,
            },
        )

    def iter_images(
        self,
        project_id: str,
        tagging_status: Literal["All", "Tagged", "Untagged"] = "All",
        iteration_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[models.Image]:
        """Yield every image of a project, page by page.

        Uses GetImages on v3.3+; on older versions GetTaggedImages and/or GetUntaggedImages.
        """
        _check_take(page_size)
        listings: list[Callable[..., list[models.Image]]] = []
        if versions.supports(self.api_version, "GetImages"):
            listings.append(functools.partial(self.get_images, tagging_status=tagging_status))
        else:
            if tagging_status in ("All", "Tagged"):
                listings.append(self.get_tagged_images)
            if tagging_status in ("All", "Untagged"):
                listings.append(self.get_untagged_images)
        for listing in listings:
            fetch = functools.partial(
                listing, project_id, iteration_id=iteration_id, take=page_size
            )
            yield from _pages(fetch, page_size)

    def get_image_count(
        self,
        project_id: str,
        iteration_id: str | None = None,
        tagging_status: Literal["All", "Tagged", "Untagged"] | None = None,
        tag_ids: Sequence[str] | None = None,
    ) -> int:
        """GetImageCount (v3.3+): how many images match."""
        return self._call(
            _INT,
            "GetImageCount",
            path={"projectId": project_id},
            query={
                "iterationId": iteration_id,
                "taggingStatus": tagging_status,
                "tagIds": list(tag_ids) if tag_ids else None,
            },
        )

    def get_tagged_image_count(
        self,
        project_id: str,
        iteration_id: str | None = None,
        tag_ids: Sequence[str] | None = None,
    ) -> int:
        """GetTaggedImageCount: how many tagged images (with any of ``tag_ids``) there are."""
        return self._call(
            _INT,
            "GetTaggedImageCount",
            path={"projectId": project_id},
            query={"iterationId": iteration_id, "tagIds": list(tag_ids) if tag_ids else None},
        )

    def get_untagged_image_count(self, project_id: str, iteration_id: str | None = None) -> int:
        """GetUntaggedImageCount: how many untagged images there are."""
        return self._call(
            _INT,
            "GetUntaggedImageCount",
            path={"projectId": project_id},
            query={"iterationId": iteration_id},
        )

    def delete_images(
        self,
        project_id: str,
        image_ids: Sequence[str] | None = None,
        all_images: bool | None = None,
        all_iterations: bool | None = None,
    ) -> None:
        """DeleteImages: at most 256 ids per call (``all_images``/``all_iterations`` v3.1+)."""
        if image_ids is not None:
            _check_count("image ids", len(image_ids), MAX_IDS_PER_GET)
        self._call_no_content(
            "DeleteImages",
            path={"projectId": project_id},
            query={
                "imageIds": list(image_ids) if image_ids else None,
                "allImages": all_images,
                "allIterations": all_iterations,
            },
        )

    # --- regions and image tags -------------------------------------------------------------

    def create_image_regions(
        self, project_id: str, regions: Sequence[models.ImageRegionCreateEntry]
    ) -> models.ImageRegionCreateSummary:
        """CreateImageRegions: at most 64 regions; the answer lists ``created``,
        ``duplicated`` (already present) and ``exceeded`` (over the per-image limit)."""
        _check_count("regions", len(regions), MAX_REGIONS_PER_BATCH)
        batch = models.ImageRegionCreateBatch(regions=list(regions))
        return self._call(
            _REGION_CREATE_SUMMARY,
            "CreateImageRegions",
            path={"projectId": project_id},
            body=batch.to_api(),
        )

    def delete_image_regions(self, project_id: str, region_ids: Sequence[str]) -> None:
        """DeleteImageRegions: at most 64 region ids per call."""
        _check_count("region ids", len(region_ids), MAX_REGIONS_PER_BATCH)
        self._call_no_content(
            "DeleteImageRegions",
            path={"projectId": project_id},
            query={"regionIds": list(region_ids)},
        )

    def create_image_tags(
        self, project_id: str, tags: Sequence[models.ImageTagCreateEntry]
    ) -> models.ImageTagCreateSummary:
        """CreateImageTags: tag images (at most 128 pairs); idempotent."""
        _check_count("image tags", len(tags), MAX_IMAGE_TAGS_PER_BATCH)
        batch = models.ImageTagCreateBatch(tags=list(tags))
        return self._call(
            _IMAGE_TAG_CREATE_SUMMARY,
            "CreateImageTags",
            path={"projectId": project_id},
            body=batch.to_api(),
        )

    def delete_image_tags(
        self, project_id: str, image_ids: Sequence[str], tag_ids: Sequence[str]
    ) -> None:
        """DeleteImageTags: remove ``tag_ids`` (<= 20) from ``image_ids`` (<= 64)."""
        _check_count("image ids", len(image_ids), 64)
        _check_count("tag ids", len(tag_ids), 20)
        self._call_no_content(
            "DeleteImageTags",
            path={"projectId": project_id},
            query={"imageIds": list(image_ids), "tagIds": list(tag_ids)},
        )


U = TypeVar("U", bound=models.ApiModel)


def _changes(update_model: type[U], update: models.ApiModel | None, **fields: object) -> U:
    """Build a partial-update body: the writable fields of ``update`` (a full model such as
    a ``Project``, or an update model), overridden by the keyword arguments that are set."""
    values = update.model_dump(include=set(update_model.model_fields)) if update else {}
    values.update({name: value for name, value in fields.items() if value is not None})
    return update_model.model_validate(values)


def _check_count(what: str, count: int, limit: int) -> None:
    if count > limit:
        raise ValueError(f"at most {limit} {what} per call, got {count}; split the batch")
    if count == 0:
        raise ValueError(f"no {what} given")


def _check_take(take: int | None) -> None:
    if take is not None and not 0 < take <= MAX_PAGE_SIZE:
        raise ValueError(f"take must be between 1 and {MAX_PAGE_SIZE}, got {take}")


def _pages(fetch: Callable[..., list[models.Image]], page_size: int) -> Iterator[models.Image]:
    """Every image of a listing: ``fetch(skip=...)`` pages until a short page."""
    skip = 0
    while True:
        page = fetch(skip=skip)
        yield from page
        if len(page) < page_size:
            return
        skip += len(page)


_DOMAIN = TypeAdapter(models.Domain)
_DOMAINS = TypeAdapter(list[models.Domain])
_PROJECT = TypeAdapter(models.Project)
_PROJECTS = TypeAdapter(list[models.Project])
_PROJECT_EXPORT = TypeAdapter(models.ProjectExport)
_ITERATION = TypeAdapter(models.Iteration)
_ITERATIONS = TypeAdapter(list[models.Iteration])
_TAG = TypeAdapter(models.Tag)
_TAGS = TypeAdapter(list[models.Tag])
_IMAGES = TypeAdapter(list[models.Image])
_IMAGE_CREATE_SUMMARY = TypeAdapter(models.ImageCreateSummary)
_REGION_CREATE_SUMMARY = TypeAdapter(models.ImageRegionCreateSummary)
_IMAGE_TAG_CREATE_SUMMARY = TypeAdapter(models.ImageTagCreateSummary)
_INT = TypeAdapter(Annotated[int, Strict()])
_BOOL = TypeAdapter(Annotated[bool, Strict()])
