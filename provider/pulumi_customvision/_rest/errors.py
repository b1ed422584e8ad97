"""One error hierarchy for everything the Custom Vision Training API (or the way to it) can do.

``CustomVisionError(code, message, status, operation)`` is the base; the families are chosen
by the service's error code when it is one of the ``CustomVisionErrorCodes`` of the v3.3
spec, otherwise by the HTTP status:

=====================  ==========  ===============================================
family                 status      codes
=====================  ==========  ===============================================
``BadRequest``         400, 415    ``BadRequest*``, ``UnsupportedMediaType``
``Unauthorized``       401         (gateway: ``{"error": {"code": "401", ...}}``)
``Forbidden``          403         ``Forbidden*``
``NotFound``           404         ``NotFound*``
``Conflict``           409         ``Conflict*``
``Throttled``          429         (gateway: ``{"error": {"code": "429", ...}}``)
``ServiceError``       5xx         ``Error*``
``TransportError``     None        connection refused/reset, timeouts, TLS
``UnexpectedResponse`` any         not JSON, HTML pages, wrong shapes, huge bodies
``UnsupportedOperation`` None      the configured API version lacks the operation
=====================  ==========  ===============================================

``str(error)`` is one sentence saying what failed, the service's message, and what to do
next. Messages never contain the training key: the client redacts every message it builds
(see :class:`Redactor`) before it creates an error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

__all__ = [
    "BadRequest",
    "Conflict",
    "CustomVisionError",
    "Forbidden",
    "InvalidEndpoint",
    "NotFound",
    "Redactor",
    "ServiceError",
    "Throttled",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "UnsupportedOperation",
    "error_from_response",
    "family_for_code",
]

MAX_ERROR_BODY_CHARS = 300
"""How much of an unparseable error body is quoted in a message."""


class CustomVisionError(Exception):
    """An operation of the Custom Vision Training API failed.

    ``code`` is the service's error code (``"NotFoundProject"``) or a code this client made
    up for what the service cannot say (``"ConnectionError"``, ``"InvalidJson"``);
    ``message`` is the service's (redacted) message; ``status`` the HTTP status or ``None``
    when no response arrived; ``operation`` the spec ``operationId``.

    After the client's retries stop, ``attempts`` and ``elapsed_seconds`` say how hard it
    tried, and ``may_have_succeeded`` is true when a creating request may have reached the
    service although no answer came back (the caller lists what exists instead of repeating).
    """

    default_hint: ClassVar[str | None] = None

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        operation: str | None = None,
        *,
        hint: str | None = None,
    ) -> None:
        super().__init__(code, message, status, operation)
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.hint = hint if hint is not None else self.default_hint
        self.attempts = 1
        self.elapsed_seconds: float | None = None
        self.gave_up = False
        self.may_have_succeeded = False

    def record_give_up(self, attempts: int, elapsed_seconds: float) -> None:
        """Mark this error as the last one of ``attempts`` tries that took ``elapsed_seconds``."""
        self.attempts = attempts
        self.elapsed_seconds = elapsed_seconds
        self.gave_up = True

    def _what(self) -> str:
        what = self.operation or "Custom Vision request"
        redundant = {"", str(self.status), f"HTTP{self.status}"}
        details = [] if self.code in redundant else [self.code]
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        return f"{what} failed ({', '.join(details)})" if details else f"{what} failed"

    def __str__(self) -> str:
        message = self.message.strip().rstrip(".") or "no message"
        text = f"{self._what()}: {message}."
        if self.hint:
            text = f"{text} {self.hint}"
        if self.gave_up:
            elapsed = self.elapsed_seconds or 0.0
            noun = "attempt" if self.attempts == 1 else "attempts"
            text = f"Gave up after {self.attempts} {noun} in {elapsed:.1f} s: {text}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"operation={self.operation!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), self.code, self.message, self.status, self.operation, self.hint),
        )


def _rebuild(
    cls: type[CustomVisionError],
    code: str,
    message: str,
    status: int | None,
    operation: str | None,
    hint: str | None,
) -> CustomVisionError:
    return cls(code, message, status, operation, hint=hint)


class BadRequest(CustomVisionError):
    """The service refused the request as invalid (HTTP 400, ``BadRequest*`` codes)."""


class Unauthorized(CustomVisionError):
    """The training key was missing, wrong, or belongs to another resource (HTTP 401)."""

    default_hint = (
        "Check customvision:trainingKey (or the profile's trainingKey) and that it belongs "
        "to the resource at customvision:endpoint."
    )


class Forbidden(CustomVisionError):
    """The key is valid but not allowed to do this (HTTP 403, ``Forbidden*`` codes)."""

    default_hint = "Check the Custom Vision resource's pricing tier, quota and permissions."


class NotFound(CustomVisionError):
    """The object addressed does not exist at this endpoint (HTTP 404, ``NotFound*`` codes)."""

    default_hint = (
        "It may have been deleted outside Pulumi, or it lives in another account; "
        "run `pulumi refresh` or check the ids and customvision:endpoint."
    )


class Conflict(CustomVisionError):
    """The request conflicts with the object's current state (HTTP 409)."""

    default_hint = "Another change to the same object is in progress; retry when it has finished."


class Throttled(CustomVisionError):
    """The service rate-limited the key (HTTP 429) and the client's retries ran out."""

    default_hint = (
        "Lower customvision:requestsPerSecond (or customvision:trainingRequestsPerSecond), "
        "or run fewer operations in parallel (pulumi up --parallel)."
    )


class ServiceError(CustomVisionError):
    """The service failed (HTTP 5xx, ``Error*`` codes)."""

    default_hint = "This is a problem on the service side; try again later."


class TransportError(CustomVisionError):
    """No usable HTTP response arrived: connection refused or dropped, timeout, TLS failure."""

    default_hint = "Check customvision:endpoint and the network path to it."


class UnexpectedResponse(CustomVisionError):
    """The response is not what the Training API sends: not JSON, HTML, wrong shape, too big."""

    default_hint = (
        "The endpoint did not answer like the Custom Vision Training API; "
        "check customvision:endpoint (it should be the resource's endpoint, e.g. "
        "https://<name>.cognitiveservices.azure.com)."
    )


class UnsupportedOperation(CustomVisionError):
    """The configured API version does not have the operation (or one of its parameters)."""

    @classmethod
    def for_version(
        cls,
        operation_id: str,
        api_version: str,
        first_version: str | None,
        parameter: str | None = None,
    ) -> UnsupportedOperation:
        """Build the error for ``operation_id`` missing from ``api_version``."""
        subject = f"the parameter {parameter!r} of {operation_id}" if parameter else operation_id
        message = f"API version {api_version} does not have {subject}"
        if first_version is None:
            hint = "No API version has it."
        else:
            hint = (
                f"It is available from API version {first_version} on; "
                f'set customvision:apiVersion to "{first_version}" or later.'
            )
        return cls("UnsupportedOperation", message, None, operation_id, hint=hint)

    def _what(self) -> str:
        return f"{self.operation or 'The operation'} is not supported"


class InvalidEndpoint(CustomVisionError, ValueError):
    """The endpoint URL is unusable (not https on a non-loopback host, no host, ...)."""

    def _what(self) -> str:
        return "Invalid Custom Vision endpoint"


# --- the service's error codes -------------------------------------------------------------

_FAMILY_BY_STATUS: dict[int, type[CustomVisionError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    415: BadRequest,
    429: Throttled,
}

_FAMILY_BY_PREFIX: tuple[tuple[str, type[CustomVisionError]], ...] = (
    ("BadRequest", BadRequest),
    ("UnsupportedMediaType", BadRequest),
    ("Forbidden", Forbidden),
    ("NotFound", NotFound),
    ("Conflict", Conflict),
    ("Error", ServiceError),
)

_MISSING_OBJECT: dict[str, str] = {
    "NotFound": "object",
    "NotFoundProject": "project",
    "NotFoundProjectDefaultIteration": "project's default iteration",
    "NotFoundIteration": "iteration",
    "NotFoundIterationPerformance": "iteration's performance data (is it trained?)",
    "NotFoundTag": "tag",
    "NotFoundImage": "image",
    "NotFoundDomain": "domain",
    "NotFoundApimSubscription": "API subscription of this key",
    "NotFoundInvalid": "object",
}

_HINTS: dict[str, str] = {
    "BadRequestExceededBatchSize": "Send fewer items per call (64 images or regions, 256 ids).",
    "BadRequestProjectNameNotUnique": "Choose another project name.",
    "BadRequestProjectDuplicated": "Choose another project name.",
    "BadRequestProjectUnknownDomain": "Use a domain id listed by GetDomains for this API version.",
    "BadRequestProjectUnsupportedDomainTypeChange": (
        "A project cannot switch between classification and object detection domains; "
        "replace the project instead."
    ),
    "BadRequestIterationNameNotUnique": "Choose another iteration name.",
    "BadRequestIterationIsNotTrained": "Wait until the iteration's training has completed.",
    "BadRequestIterationIsPublished": "Unpublish the iteration first.",
    "BadRequestIterationNotPublished": "The iteration is not published; nothing to unpublish.",
    "BadRequestInvalidPublishTarget": (
        "Set the prediction resource id to the full Azure resource id of a Custom Vision "
        "Prediction resource (/subscriptions/.../accounts/<name>)."
    ),
    "BadRequestTagNameNotUnique": "Choose another tag name, or adopt the existing tag.",
    "BadRequestMultipleNegativeTag": "A project can have only one Negative tag.",
    "BadRequestMultipleGeneralProductTag": "A project can have only one GeneralProduct tag.",
    "BadRequestExceedProjectLimit": "Delete unused projects or move to a higher pricing tier.",
    "BadRequestExceedIterationPerProjectLimit": (
        "Delete old iterations of the project (the service keeps at most 20)."
    ),
    "BadRequestExceedTagPerProjectLimit": "Delete unused tags or move to a higher pricing tier.",
    "BadRequestExceedTagPerImageLimit": "Give the image fewer tags.",
    "BadRequestExceededQuota": "Move to a higher pricing tier or wait for the quota to reset.",
    "BadRequestTrainingNotNeeded": (
        "Nothing changed since the last training; set force_train=True to train anyway."
    ),
    "BadRequestTrainingNotNeededButTrainingPipelineUpdated": (
        "Nothing changed since the last training; set force_train=True to train anyway."
    ),
    "BadRequestTrainingAlreadyInProgress": (
        "Wait for the running training to finish (or adopt its iteration)."
    ),
    "BadRequestTrainingValidationFailed": (
        "Each tag used for training needs enough images (at least 5 for classification, "
        "15 regions for object detection)."
    ),
    "BadRequestClassificationTrainingValidationFailed": (
        "Each tag needs at least 5 images, and at least 2 tags are needed."
    ),
    "BadRequestMultiClassClassificationTrainingValidationFailed": (
        "Each tag needs at least 5 images, and at least 2 tags are needed."
    ),
    "BadRequestMultiLabelClassificationTrainingValidationFailed": (
        "Each tag needs at least 5 images, and at least 2 tags are needed."
    ),
    "BadRequestDetectionTrainingValidationFailed": (
        "Each tag needs at least 15 tagged regions for object detection training."
    ),
    "BadRequestDetectionTrainingNotAllowNegativeTag": (
        "Object detection projects cannot train with a Negative tag."
    ),
    "BadRequestInvalidEmailAddress": "Fix notification_email_address.",
    "BadRequestDomainNotSupportedForAdvancedTraining": (
        "Use training_type='Regular' or a domain that supports advanced training."
    ),
    "BadRequestReservedBudgetInHoursNotEnoughForAdvancedTraining": (
        "Raise reserved_budget_in_hours for advanced training."
    ),
    "BadRequestExportAlreadyInProgress": "Wait for the running export to finish.",
    "BadRequestExportWhileTraining": "Wait for the running training to finish, then export.",
    "BadRequestInvalidImportToken": (
        "Export tokens expire (about 24 hours); re-run the export (replace the ProjectExport) "
        "and import with the new token."
    ),
    "BadRequestNotSupported": "Check customvision:apiVersion and the project's domain.",
    "BadRequestOperationNotSupported": "Check customvision:apiVersion and the project's domain.",
    "BadRequestSubscriptionApi": "Use the training key of a Custom Vision Training resource.",
    "UnsupportedMediaType": "Send images as JPEG, PNG, BMP or GIF.",
    "ForbiddenDRModeEnabled": "The project is in disaster-recovery mode and is read-only.",
    "ForbiddenUserSignupAllowanceExceeded": "Move to a higher pricing tier.",
    "BadRequestCustomerManagedKeyRevoked": "Restore access to the resource's customer-managed key.",
}


def family_for_code(code: str) -> type[CustomVisionError] | None:
    """Return the error family of one of the service's error codes, or ``None`` if unknown."""
    for prefix, family in _FAMILY_BY_PREFIX:
        if code.startswith(prefix):
            return family
    return None


def _family_for_status(status: int) -> type[CustomVisionError]:
    if status in _FAMILY_BY_STATUS:
        return _FAMILY_BY_STATUS[status]
    if status >= 500:
        return ServiceError
    return BadRequest if 400 <= status < 500 else UnexpectedResponse


def _hint_for_code(code: str) -> str | None:
    if code in _HINTS:
        return _HINTS[code]
    if code in _MISSING_OBJECT:
        return (
            f"The {_MISSING_OBJECT[code]} does not exist at this endpoint: it may have been "
            "deleted outside Pulumi or belong to another account; run `pulumi refresh` or "
            "check the ids and customvision:endpoint."
        )
    return None


def _parse_error_body(body: bytes) -> tuple[str, str] | None:
    """Return (code, message) from either body shape, or ``None`` if the body has neither."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    inner = data.get("error")
    if isinstance(inner, dict):
        data = inner
    code, message = data.get("code"), data.get("message")
    if code is None and message is None:
        return None
    return (str(code) if code is not None else ""), (str(message) if message is not None else "")


def describe_body(body: bytes) -> str:
    """Summarize a body that is not a service error for a message (HTML title, short text)."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return "an empty body"
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        return f"an HTML page titled {' '.join(title.group(1).split())[:120]!r}"
    if text.lstrip().startswith("<"):
        return "an HTML/XML page"
    flat = " ".join(text.split())
    if len(flat) > MAX_ERROR_BODY_CHARS:
        flat = flat[:MAX_ERROR_BODY_CHARS] + "..."
    return repr(flat)


def error_from_response(
    status: int,
    body: bytes,
    operation: str | None = None,
    redactor: Redactor | None = None,
) -> CustomVisionError:
    """Build the error for an HTTP error response of ``operation``.

    Both body shapes are understood: the service's ``{"code", "message"}`` and the API
    gateway's ``{"error": {"code", "message"}}``. The family comes from the code when it is
    one of the service's codes (so ``NotFoundProject`` is a :class:`NotFound` whatever the
    status); 401 and 429 always give :class:`Unauthorized` and :class:`Throttled`; otherwise
    the status decides. A body that is not a service error gives a 5xx :class:`ServiceError`,
    a 401/403/429 family error, or otherwise an :class:`UnexpectedResponse` (typically a wrong
    endpoint answering with a web page).
    """
    clean = redactor.redact if redactor else (lambda text: text)
    parsed = _parse_error_body(body)
    if parsed is None:
        family = _family_for_status(status)
        if family in (BadRequest, NotFound, Conflict):
            family = UnexpectedResponse
        message = f"the response carried {describe_body(body)} instead of a service error"
        return family(f"HTTP{status}", clean(message), status, operation)
    code, message = parsed
    if status in (401, 429):
        family = _FAMILY_BY_STATUS[status]
    else:
        family = family_for_code(code) or _family_for_status(status)
    return family(
        code or f"HTTP{status}", clean(message), status, operation, hint=_hint_for_code(code)
    )


# --- redaction ------------------------------------------------------------------------------

_SENSITIVE_QUERY = re.compile(r"(?i)\b(token|training-key|subscription-key|sig)=([^&\s'\"<>]+)")
REDACTED = "***"


class Redactor:
    """Removes secrets (the training key, import tokens) from text shown to people.

    It replaces every registered secret, in its raw and URL-encoded spellings, and the value
    of sensitive query parameters (``token=``, ``sig=``) wherever they appear.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Register one more secret (ignored if empty or very short)."""
        if not secret or len(secret) < 4:
            return
        for spelling in {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}:
            if spelling not in self._secrets:
                self._secrets.append(spelling)
        self._secrets.sort(key=len, reverse=True)

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """Return a redactor that also removes ``secrets`` (e.g. the token of one call)."""
        secrets = [secret for secret in secrets if secret]
        if not secrets:
            return self
        derived = Redactor()
        derived._secrets = list(self._secrets)
        for secret in secrets:
            derived.add(secret)
        return derived

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _SENSITIVE_QUERY.sub(lambda match: f"{match.group(1)}={REDACTED}", text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


class RedactingFilter(logging.Filter):
    """Removes sensitive query values (``token=``, ``sig=``) from library log records.

    urllib3 logs every request line at DEBUG, import token included; this filter rewrites
    such a record before any handler sees it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without secrets; always keep the record."""
        message = record.getMessage()
        redacted = Redactor().redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_library_logs(logger_name: str = "urllib3.connectionpool") -> None:
    """Install :class:`RedactingFilter` on a library's logger (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
