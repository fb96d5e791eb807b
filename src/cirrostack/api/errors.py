"""CloudStack's error envelope, and the one mapping from cirrostack errors to error codes.

    ApiError (errorcode, cserrorcode, text)  raised by the api package itself
    cirrostack.errors.CloudError subclasses   raised by services, mapped by ``from_exception``
    cirrostack.states.errors.StateError       a transition that is missing or lost a race
    database errors (``db.failures``)          a known duplicate key → 431, a conflict left
                                               after retries → 530/4300, an outage → 503

The HTTP status of an error answer is its ``errorcode`` (CloudStack sends 431, 530, ... as-is).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cirrostack import errors
from cirrostack.db import failures, integrity, outage
from cirrostack.states import errors as state_errors


class ErrorCode(enum.IntEnum):
    """``errorcode``: CloudStack's ApiErrorCode values, also the HTTP status."""

    UNAUTHORIZED = 401
    METHOD_NOT_ALLOWED = 405
    SERVICE_UNAVAILABLE = 503
    MALFORMED_PARAMETER_ERROR = 430
    PARAM_ERROR = 431
    UNSUPPORTED_ACTION_ERROR = 432
    INTERNAL_ERROR = 530
    ACCOUNT_ERROR = 531
    ACCOUNT_RESOURCE_LIMIT_ERROR = 532
    INSUFFICIENT_CAPACITY_ERROR = 533
    RESOURCE_UNAVAILABLE_ERROR = 534
    RESOURCE_ALLOCATION_ERROR = 535
    RESOURCE_IN_USE_ERROR = 536


class CsErrorCode(enum.IntEnum):
    """``cserrorcode``: CloudStack's CSExceptionErrorCode for the exception class it mirrors."""

    CLOUD_RUNTIME = 4250
    CONCURRENT_OPERATION = 4300
    INSUFFICIENT_STORAGE_CAPACITY = 4325
    INVALID_PARAMETER_VALUE = 4350
    PERMISSION_DENIED = 4365
    RESOURCE_ALLOCATION = 4370
    RESOURCE_IN_USE = 4375
    RESOURCE_UNAVAILABLE = 4380
    SERVER_API = 9999


@dataclass
class ApiError(Exception):
    """An error answer: raised anywhere in the api package, serialised by the dispatcher."""

    code: ErrorCode
    text: str
    cs_code: CsErrorCode | None = CsErrorCode.SERVER_API
    uuids: list[str] = field(default_factory=list)
    #: True for the plain authentication failures, which CloudStack answers under
    #: ``errorresponse`` without ``cserrorcode`` or an ``X-Description`` header.
    auth_failure: bool = False

    def __str__(self) -> str:
        return f"{int(self.code)}: {self.text}"


UNAUTHENTICATED_TEXT = "unable to verify user credentials and/or request signature"


def unauthenticated(text: str = UNAUTHENTICATED_TEXT) -> ApiError:
    """401 for a request whose credentials, signature or session do not hold."""
    return ApiError(ErrorCode.UNAUTHORIZED, text, cs_code=None, auth_failure=True)


def param_error(text: str) -> ApiError:
    """431: a parameter is missing, malformed or out of range."""
    return ApiError(ErrorCode.PARAM_ERROR, text, CsErrorCode.INVALID_PARAMETER_VALUE)


_MAPPING: tuple[tuple[type[Exception], ErrorCode, CsErrorCode], ...] = (
    (errors.InvalidParameterValue, ErrorCode.PARAM_ERROR, CsErrorCode.INVALID_PARAMETER_VALUE),
    (errors.PermissionDenied, ErrorCode.ACCOUNT_ERROR, CsErrorCode.PERMISSION_DENIED),
    (errors.ResourceInUse, ErrorCode.RESOURCE_IN_USE_ERROR, CsErrorCode.RESOURCE_IN_USE),
    (
        errors.ResourceUnavailable,
        ErrorCode.RESOURCE_UNAVAILABLE_ERROR,
        CsErrorCode.RESOURCE_UNAVAILABLE,
    ),
    (errors.ConcurrentOperation, ErrorCode.INTERNAL_ERROR, CsErrorCode.CONCURRENT_OPERATION),
    (
        errors.ResourceAllocation,
        ErrorCode.RESOURCE_ALLOCATION_ERROR,
        CsErrorCode.RESOURCE_ALLOCATION,
    ),
    (
        errors.InsufficientCapacity,
        ErrorCode.INSUFFICIENT_CAPACITY_ERROR,
        CsErrorCode.INSUFFICIENT_STORAGE_CAPACITY,
    ),
    # A transition the resource's state does not allow: the request is refused, as
    # CloudStack's NoTransitionException surfaces (resource unavailable in that state).
    (
        state_errors.NoTransition,
        ErrorCode.RESOURCE_UNAVAILABLE_ERROR,
        CsErrorCode.RESOURCE_UNAVAILABLE,
    ),
    # Lost a compare-and-swap race: CloudStack's ConcurrentOperationException.
    (state_errors.StateConflict, ErrorCode.INTERNAL_ERROR, CsErrorCode.CONCURRENT_OPERATION),
    # Another live job holds the row (states.holds): also a concurrent operation.
    (state_errors.HeldByAnotherJob, ErrorCode.INTERNAL_ERROR, CsErrorCode.CONCURRENT_OPERATION),
)


UNAVAILABLE_TEXT = "The database is unavailable at the moment; please try again later"
FULL_TEXT = (
    "The database cannot store more data (its disk is full); reads are still served, "
    "please try again later"
)
CONFLICT_TEXT = "Another operation changed the same resources at the same time; please try again"


def from_exception(exc: Exception) -> ApiError:
    """The API error for an exception a command raised; unknown exceptions become a 530."""
    if isinstance(exc, ApiError):
        return exc
    duplicate = integrity.duplicate_of(exc)
    if duplicate is not None:
        return ApiError(ErrorCode.PARAM_ERROR, str(duplicate), CsErrorCode.INVALID_PARAMETER_VALUE)
    for kind, code, cs_code in _MAPPING:
        if isinstance(exc, kind):
            return ApiError(code, str(exc), cs_code)
    return _database_error(exc) or ApiError(
        ErrorCode.INTERNAL_ERROR,
        "Internal error executing command, please contact your system administrator",
        CsErrorCode.CLOUD_RUNTIME,
    )


def _database_error(exc: Exception) -> ApiError | None:
    """An outage answers 503 (CloudStack's SERVICE_UNAVAILABLE), a race lost after the
    retries 530 ConcurrentOperation; None for anything else."""
    found = outage.outage_of(exc)
    if found is failures.Kind.FULL:
        return ApiError(ErrorCode.SERVICE_UNAVAILABLE, FULL_TEXT)
    if found is failures.Kind.UNAVAILABLE:
        return ApiError(ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_TEXT)
    if failures.retryable(exc):
        return ApiError(ErrorCode.INTERNAL_ERROR, CONFLICT_TEXT, CsErrorCode.CONCURRENT_OPERATION)
    return None


def body(error: ApiError) -> dict[str, object]:
    """The object under the response key for an error answer."""
    content: dict[str, object] = {"uuidList": list(error.uuids), "errorcode": int(error.code)}
    if error.cs_code is not None:
        content["cserrorcode"] = int(error.cs_code)
    content["errortext"] = error.text
    return content
