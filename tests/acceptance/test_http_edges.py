"""The HTTP edge of a real ``cirrostack serve`` (uvicorn), probed with raw sockets and httpx.

Issue 6, findings 7 and 8: every refusal is CloudStack's JSON envelope; only GET and POST run
commands (HEAD changes nothing); /client/api/ is served, never redirected; silent, slow and
oversized requests are cut off with an answer (408, 413, 414, 431) instead of buffered or
reset; every answer carries the security headers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from cs import CloudStack

from cirrostack.api import signing
from tests.acceptance import raw_http
from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance

CONTENT_TYPE = "application/json; charset=UTF-8"
HEAD_TIMEOUT, BODY_TIMEOUT = 2.0, 3.0
MIB = 1024 * 1024
FORM = "application/x-www-form-urlencoded"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    extra = ["--head-timeout", str(HEAD_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT)]
    running = start_server(tmp_path_factory.mktemp("edges") / "var", extra=extra)
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def admin(cloud: Server) -> CloudStack:
    return CloudStack(endpoint=cloud.url, key=cloud.api_key, secret=cloud.secret_key)


def signed(cloud: Server, command: str, **params: str) -> list[tuple[str, str]]:
    pairs = [("command", command), ("response", "json"), ("apiKey", cloud.api_key)]
    pairs += list(params.items())
    pairs.append(("signature", signing.sign(pairs, cloud.secret_key)))
    return pairs


def assert_refusal(status: int, headers: Any, body: Any, code: int) -> dict[str, Any]:
    """CloudStack's envelope: JSON, one key ``errorresponse``, errorcode equal to the status."""
    assert status == code
    assert headers["content-type"] == CONTENT_TYPE
    assert list(body) == ["errorresponse"]
    assert body["errorresponse"]["errorcode"] == code
    assert body["errorresponse"]["errortext"]
    return dict(body["errorresponse"])


def head_request(target: str, extra: str = "") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


# --- methods and paths -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_get_a_405_envelope(cloud: Server, method: str) -> None:
    answer = httpx.request(method, cloud.url, params={"command": "listCapabilities"})
    assert_refusal(answer.status_code, answer.headers, answer.json(), 405)
    assert answer.headers["allow"] == "GET, POST"


def test_head_is_refused_and_changes_nothing(cloud: Server, admin: CloudStack) -> None:
    [user] = admin.listUsers(username="admin")["user"]
    pairs = signed(cloud, "updateUser", id=user["id"], firstname="ChangedByHead")
    answer = httpx.head(cloud.url, params=pairs)
    assert answer.status_code == 405
    assert answer.headers["content-type"] == CONTENT_TYPE
    assert answer.headers["allow"] == "GET, POST"
    [after] = admin.listUsers(username="admin")["user"]
    assert after["firstname"] == user["firstname"]


def test_the_api_path_with_a_slash_is_served_not_redirected(cloud: Server) -> None:
    answer = httpx.get(
        cloud.url + "/",
        params={"command": "listCapabilities", "response": "json"},
        headers={"host": "evil.example"},
    )
    assert answer.status_code != 307
    assert "location" not in answer.headers
    assert answer.headers["content-type"] == CONTENT_TYPE
    assert "listcapabilitiesresponse" in answer.json() or "errorresponse" in answer.json()


@pytest.mark.parametrize("path", ["/", "/client", "/client/", "/client/apix", "/nothing/here"])
def test_other_paths_get_a_404_envelope(cloud: Server, path: str) -> None:
    answer = httpx.get(cloud.base + path, headers={"host": "evil.example"})
    assert_refusal(answer.status_code, answer.headers, answer.json(), 404)
    assert "location" not in answer.headers


# --- security headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"command": "listCapabilities", "response": "json"},
        {"command": "listAccounts", "response": "json"},
        {"command": "noSuchCommand", "response": "json"},
    ],
)
def test_every_answer_carries_the_security_headers(cloud: Server, params: dict[str, str]) -> None:
    for answer in (httpx.get(cloud.url, params=params), httpx.put(cloud.url, params=params)):
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (name, answer.status_code)
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "server" not in answer.headers


def test_refusals_at_the_connection_carry_the_security_headers(cloud: Server) -> None:
    answer = raw_http.exchange(cloud.url, head_request("/client/api?" + "a" * 100_000))
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, name


# --- sizes -------------------------------------------------------------------------------------


def test_a_one_megabyte_url_answers_414_not_a_reset(cloud: Server) -> None:
    target = "/client/api?command=listCapabilities&pad=" + "a" * MIB
    answer = raw_http.exchange(cloud.url, head_request(target))
    error = assert_refusal(answer.status, answer.headers, answer.json(), 414)
    assert "URL" in error["errortext"]


def test_huge_header_fields_answer_431(cloud: Server) -> None:
    fields = "".join(f"X-Pad-{index}: {'b' * 1000}\r\n" for index in range(200))
    answer = raw_http.exchange(
        cloud.url, head_request("/client/api?command=listCapabilities", fields)
    )
    error = assert_refusal(answer.status, answer.headers, answer.json(), 431)
    assert "header" in error["errortext"].lower()


def test_a_url_within_the_limit_is_served(cloud: Server) -> None:
    answer = httpx.get(cloud.url, params=signed(cloud, "listCapabilities", pad="a" * 30_000))
    assert answer.status_code == 200


def test_malformed_http_gets_a_400_envelope(cloud: Server) -> None:
    answer = raw_http.exchange(cloud.url, b"GET /client/api HTTP/1.1\r\nno colon here\r\n\r\n")
    assert_refusal(answer.status, answer.headers, answer.json(), 400)


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(cloud: Server) -> None:
    head = (
        "POST /client/api HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {200 * MIB}\r\n\r\n"
    )
    with raw_http.connect(cloud.url) as sock:
        sock.sendall(head.encode())
        answer = raw_http.read_answer(sock, timeout=5)
    error = assert_refusal(answer.status, answer.headers, answer.json(), 413)
    assert "4194304" in error["errortext"]


def stream_chunked(cloud: Server, total: int, outcome: dict[str, Any]) -> None:
    """POST a chunked body of ``total`` bytes, stopping as soon as an answer is readable."""
    head = (
        "POST /client/api?command=listCapabilities HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"a" * (256 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with raw_http.connect(cloud.url, timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            while sent < total and not raw_http.readable(sock):
                sock.sendall(framed)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        outcome["sent"] = sent
        outcome["answer"] = raw_http.read_answer(sock, timeout=10)


def test_parallel_100_mb_chunked_bodies_are_cut_off_early_and_memory_stays_low(
    cloud: Server,
) -> None:
    before = raw_http.rss_peak_kib(cloud.process.pid)
    outcomes: list[dict[str, Any]] = [{} for _ in range(8)]
    threads = [
        threading.Thread(target=stream_chunked, args=(cloud, 100 * MIB, outcome))
        for outcome in outcomes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for outcome in outcomes:
        answer = outcome["answer"]
        assert_refusal(answer.status, answer.headers, answer.json(), 413)
        assert outcome["sent"] < 100 * MIB
    grown_mib = (raw_http.rss_peak_kib(cloud.process.pid) - before) / 1024
    assert grown_mib < 100, f"the server's peak RSS grew by {grown_mib:.0f} MiB"


def test_a_body_within_the_limit_is_still_read(cloud: Server) -> None:
    body = urlencode(signed(cloud, "listCapabilities", pad="a" * (3 * MIB)))
    answer = httpx.post(cloud.url, content=body, headers={"content-type": FORM})
    assert answer.status_code == 200


# --- timeouts ----------------------------------------------------------------------------------


def test_a_connection_that_sends_nothing_is_closed(cloud: Server) -> None:
    with raw_http.connect(cloud.url) as sock:
        closed, _ = raw_http.closed_within(sock, HEAD_TIMEOUT + 3)
    assert closed


def test_a_head_sent_a_byte_at_a_time_is_cut_off_with_408(cloud: Server) -> None:
    request = head_request("/client/api?command=listCapabilities&response=json")
    started = time.monotonic()
    received = b""
    with raw_http.connect(cloud.url) as sock:
        try:
            for byte in request[:-2]:
                sock.send(bytes([byte]))
                closed, received = raw_http.closed_within(sock, 0.3)
                if closed or received:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        elapsed = time.monotonic() - started
    assert elapsed < HEAD_TIMEOUT + 3
    answer = raw_http.parse(received)
    assert_refusal(answer.status, answer.headers, answer.json(), 408)


def test_a_body_sent_slowly_is_cut_off(cloud: Server) -> None:
    head = (
        "POST /client/api HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    )
    started = time.monotonic()
    with raw_http.connect(cloud.url) as sock:
        sock.sendall(head.encode())
        closed = False
        try:
            for _ in range(int((BODY_TIMEOUT + 4) / 0.3)):
                sock.send(b"a")
                closed, _ = raw_http.closed_within(sock, 0.3)
                if closed:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    assert closed
    assert time.monotonic() - started < BODY_TIMEOUT + 3


def test_keep_alive_still_serves_several_requests_on_one_connection(cloud: Server) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            answer = client.get(cloud.url, params=signed(cloud, "listCapabilities"))
            assert answer.status_code == 200


def test_an_idle_keep_alive_connection_is_closed(cloud: Server) -> None:
    query = urlencode(signed(cloud, "listCapabilities"))
    with raw_http.connect(cloud.url) as sock:
        sock.sendall(head_request(f"/client/api?{query}"))
        assert raw_http.read_answer(sock).status == 200
        closed, received = raw_http.closed_within(sock, HEAD_TIMEOUT + 3)
    assert closed
    assert received == b""
