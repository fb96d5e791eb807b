"""The one mapping from errors to CloudStack's codes, and the error body's shape."""

from __future__ import annotations

import pytest

from cirrostack import errors
from cirrostack.api import errors as api_errors
from cirrostack.states import errors as state_errors

Code, Cs = api_errors.ErrorCode, api_errors.CsErrorCode


@pytest.mark.parametrize(
    ("exc", "code", "cs_code"),
    [
        (errors.InvalidParameterValue("bad"), Code.PARAM_ERROR, Cs.INVALID_PARAMETER_VALUE),
        (errors.PermissionDenied("no"), Code.ACCOUNT_ERROR, Cs.PERMISSION_DENIED),
        (errors.ResourceInUse("busy"), Code.RESOURCE_IN_USE_ERROR, Cs.RESOURCE_IN_USE),
        (
            errors.ResourceUnavailable("down"),
            Code.RESOURCE_UNAVAILABLE_ERROR,
            Cs.RESOURCE_UNAVAILABLE,
        ),
        (errors.ConcurrentOperation("race"), Code.INTERNAL_ERROR, Cs.CONCURRENT_OPERATION),
        (
            state_errors.NoTransition("Volume", "Ready", "Boom"),
            Code.RESOURCE_UNAVAILABLE_ERROR,
            Cs.RESOURCE_UNAVAILABLE,
        ),
        (
            state_errors.StateConflict("Volume", "Volume v", "Ready", 3),
            Code.INTERNAL_ERROR,
            Cs.CONCURRENT_OPERATION,
        ),
    ],
)
def test_service_errors_map_to_cloudstack_codes(
    exc: Exception, code: api_errors.ErrorCode, cs_code: api_errors.CsErrorCode
) -> None:
    mapped = api_errors.from_exception(exc)
    assert (mapped.code, mapped.cs_code, mapped.text) == (code, cs_code, str(exc))


def test_unexpected_exceptions_hide_their_text() -> None:
    mapped = api_errors.from_exception(KeyError("/etc/secret path"))
    assert (mapped.code, mapped.cs_code) == (Code.INTERNAL_ERROR, Cs.CLOUD_RUNTIME)
    assert "secret" not in mapped.text


def test_error_body_has_cloudstack_fields_in_order() -> None:
    body = api_errors.body(api_errors.param_error("missing parameter zoneid"))
    assert body == {
        "uuidList": [],
        "errorcode": 431,
        "cserrorcode": 4350,
        "errortext": "missing parameter zoneid",
    }
    assert "cserrorcode" not in api_errors.body(api_errors.unauthenticated())
