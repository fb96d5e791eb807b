"""Which requests ``api.origin`` takes for cross-site ones (pure logic; HTTP in acceptance)."""

from __future__ import annotations

import pytest

from cirrostack.api import origin

SESSION = {"JSESSIONID": "j", "sessionkey": "k"}


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "cloud.example", "origin": "https://evil.example"},
        {"host": "cloud.example", "origin": "null"},
        {"host": "cloud.example", "origin": "https://cloud.example.evil.example"},
        {"host": "cloud.example:8080", "origin": "http://cloud.example:8081"},
        {"host": "cloud.example", "origin": "http://cloud.example:bad"},
        {"host": "cloud.example", "referer": "https://evil.example/x"},
        {"host": "cloud.example", "referer": "file:///etc/passwd"},
        {"host": "cloud.example", "sec-fetch-site": "cross-site"},
        {"host": "cloud.example", "sec-fetch-site": "Same-Site", "origin": "https://cloud.example"},
        {"host": "", "origin": "https://cloud.example"},
    ],
)
def test_requests_from_elsewhere_with_a_session_are_refused(headers: dict[str, str]) -> None:
    refused = origin.refusal(headers, SESSION, "updateUser")
    assert refused is not None
    assert refused.status == 401
    assert "cross-site" in refused.text


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "cloud.example"},
        {"host": "cloud.example", "origin": "https://cloud.example"},
        {"host": "cloud.example", "origin": "https://CLOUD.example:443"},
        {"host": "cloud.example:443", "origin": "https://cloud.example"},
        {"host": "127.0.0.1:8080", "origin": "http://127.0.0.1:8080"},
        {"host": "cloud.example", "referer": "https://cloud.example/client/"},
        {
            "host": "10.0.0.5:8080",
            "x-forwarded-host": "cloud.example",
            "origin": "https://cloud.example",
        },
        {"host": "cloud.example", "sec-fetch-site": "same-origin"},
        {"host": "cloud.example", "sec-fetch-site": "none"},
        {"host": "[::1]:8080", "origin": "http://[::1]:8080"},
    ],
)
def test_same_server_requests_run(headers: dict[str, str]) -> None:
    assert origin.refusal(headers, SESSION, "updateUser") is None


def test_without_session_cookies_only_login_is_concerned() -> None:
    evil = {"host": "cloud.example", "origin": "https://evil.example"}
    assert origin.refusal(evil, {}, "listZones") is None
    assert origin.refusal(evil, {"other": "cookie"}, "updateUser") is None
    assert origin.refusal(evil, {}, "LOGIN") is not None
    assert origin.refusal(evil, {"JSESSIONID": "j"}, None) is not None
