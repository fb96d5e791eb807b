"""CloudStack's error envelope, and the one mapping from cirrostack errors to error codes.

    ApiError (errorcode, cserrorcode, text)  raised by the api package itself
    cirrostack.errors.CloudError subclasses   raised by services, mapped by ``from_exception``
    cirrostack.states.errors.StateError       a transition that is missing or lost a race

The HTTP status of an error answer is its ``errorcode`` (CloudStack sends 431, 530, ... as-is).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cirrostack import errors
from cirrostack.states import errors as state_errors


class ErrorCode(enum.IntEnum):
    """``errorcode``: CloudStack's ApiErrorCode values, also the HTTP status."""

    UNAUTHORIZED = 401
    METHOD_NOT_ALLOWED = 405
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
    # A transition the resource's state does not allow: the request is refused, as
    # CloudStack's NoTransitionException surfaces (resource unavailable in that state).
    (
        state_errors.NoTransition,
        ErrorCode.RESOURCE_UNAVAILABLE_ERROR,
        CsErrorCode.RESOURCE_UNAVAILABLE,
    ),
    # Lost a compare-and-swap race: CloudStack's ConcurrentOperationException.
    (state_errors.StateConflict, ErrorCode.INTERNAL_ERROR, CsErrorCode.CONCURRENT_OPERATION),
)


def from_exception(exc: Exception) -> ApiError:
    """The API error for an exception a command raised; unknown exceptions become a 530."""
    if isinstance(exc, ApiError):
        return exc
    for kind, code, cs_code in _MAPPING:
        if isinstance(exc, kind):
            return ApiError(code, str(exc), cs_code)
    return ApiError(
        ErrorCode.INTERNAL_ERROR,
        "Internal error executing command, please contact your system administrator",
        CsErrorCode.CLOUD_RUNTIME,
    )


def body(error: ApiError) -> dict[str, object]:
    """The object under the response key for an error answer."""
    content: dict[str, object] = {"uuidList": list(error.uuids), "errorcode": int(error.code)}
    if error.cs_code is not None:
        content["cserrorcode"] = int(error.cs_code)
    content["errortext"] = error.text
    return content
