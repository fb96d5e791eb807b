"""Which URLs an agent fetches (server-side request forgery, CVE-2024-29007).

Literal addresses in every notation a resolver accepts, names that resolve inside, user-info
tricks, schemes and characters; and the proof that the connection goes to the address that was
checked, with the name only in the Host header.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from cirrostack.agent import ingest, ingest_errors, url_check
from tests.security import ingest_server
from tests.security.ingest_server import Route

INTERNAL = [
    "http://127.0.0.1/t.qcow2",
    "http://127.1.2.3/t.qcow2",
    "http://10.0.0.1/t.qcow2",
    "http://172.16.5.4/t.qcow2",
    "http://192.168.1.1/t.qcow2",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/t.qcow2",
    "http://240.0.0.1/t.qcow2",
    "http://[::1]/t.qcow2",
    "http://[fe80::1]/t.qcow2",
    "http://[fc00::1]/t.qcow2",
    "http://[::ffff:127.0.0.1]/t.qcow2",
    "http://[::ffff:a9fe:a9fe]/t.qcow2",
    "http://[64:ff9b::a9fe:a9fe]/t.qcow2",
    "http://[2002:7f00:1::]/t.qcow2",
    "http://localhost/t.qcow2",
    "https://127.0.0.1:8443/t.qcow2",
]
NEVER = ["http://0.0.0.0/t.qcow2", "http://[::]/t.qcow2", "http://224.0.0.1/t.qcow2"]
NON_CANONICAL = [
    "http://2130706433/t.qcow2",
    "http://0177.0.0.1/t.qcow2",
    "http://0x7f.0.0.1/t.qcow2",
    "http://0x7f000001/t.qcow2",
    "http://127.1/t.qcow2",
    "http://017700000001/t.qcow2",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(ingest_errors.UrlRefused, match="internal address"):
        ingest.check_url(url, ())


@pytest.mark.parametrize("url", NEVER)
def test_unspecified_and_multicast_are_refused_even_when_allowed(url: str) -> None:
    with pytest.raises(ingest_errors.UrlRefused, match="never fetched from"):
        ingest.check_url(url, ("10.0.0.0/8",))


@pytest.mark.parametrize("url", NON_CANONICAL)
def test_numbers_in_loose_notation_are_refused(url: str) -> None:
    with pytest.raises(ingest_errors.UrlRefused, match="non-canonical"):
        ingest.check_url(url, ("127.0.0.0/8",))


def test_an_allowed_cidr_lets_its_addresses_through() -> None:
    checked = ingest.check_url("http://10.1.2.3:8080/t.qcow2", ("10.1.0.0/16",))
    assert (checked.address, checked.port, checked.target) == ("10.1.2.3", 8080, "/t.qcow2")
    with pytest.raises(ingest_errors.UrlRefused):
        ingest.check_url("http://10.2.0.1/t.qcow2", ("10.1.0.0/16",))


def test_a_public_address_passes_without_any_allowance() -> None:
    checked = ingest.check_url("https://8.8.8.8/a/t.qcow2?X-Amz-Signature=ab%2Fcd&x=1", ())
    assert checked.address == "8.8.8.8" and checked.port == 443
    assert checked.target == "/a/t.qcow2?X-Amz-Signature=ab%2Fcd&x=1"
    assert checked.basename == "t.qcow2" and checked.host_header == "8.8.8.8"


@pytest.mark.parametrize("cidr", ["0.0.0.0", "0.0.0.0/0", "::/0", "not-a-cidr", "10.0.0.0/33"])
def test_an_allowance_of_everything_or_nothing_is_a_bad_setting(cidr: str) -> None:
    with pytest.raises(ingest_errors.BadSetting):
        ingest.check_url("http://8.8.8.8/t.qcow2", (cidr,))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://8.8.8.8/t.qcow2", "only http and https"),
        ("gopher://8.8.8.8/", "only http and https"),
        ("http://8.8.8.8@127.0.0.1/t.qcow2", "user information"),
        ("http://user:pw@8.8.8.8/t.qcow2", "user information"),
        ("http:///t.qcow2", "names no host"),
        ("http://8.8.8.8/t.qcow2\r\nX-Injected: 1", "whitespace"),
        ("http://8.8.8.8/a b.qcow2", "whitespace"),
        ("http://8.8.8.8\\@127.0.0.1/", "whitespace"),
        ("http://8.8.8.8:0/t.qcow2", "port"),
        ("http://8.8.8.8:70000/t.qcow2", "port"),
        ("http://8.8.8.8/t.qcow2?a=$(id)", "query holds unsafe"),
        ("http://8.8.8.8/t|id.qcow2", "path .* holds unsafe"),
        ("http://8.8.8.8/t%3Bid.qcow2", "path .* holds unsafe"),
        ("http://name-that-does-not-resolve.invalid/t.qcow2", "does not resolve"),
    ],
)
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ingest_errors.UrlRefused, match=reason):
        ingest.check_url(url, ("127.0.0.0/8",))


def test_every_address_of_a_name_is_judged() -> None:
    addresses = {info[4][0] for info in socket.getaddrinfo("localhost", 80)}
    allowed = ("127.0.0.0/8",)
    if addresses - {"127.0.0.1"}:
        with pytest.raises(ingest_errors.UrlRefused, match="internal address"):
            ingest.check_url("http://localhost/t", allowed)
    else:
        assert ingest.check_url("http://localhost/t", allowed).address == "127.0.0.1"


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    tmp_path: Path,
) -> None:
    if {info[4][0] for info in socket.getaddrinfo("localhost", 80)} != {"127.0.0.1"}:
        pytest.skip("localhost does not resolve to 127.0.0.1 alone on this machine")
    with ingest_server.serving() as server:
        server.routes["/t.qcow2"] = Route(b"bytes")
        port = server.base.rsplit(":", 1)[1]
        got = ingest.download(
            f"http://localhost:{port}/t.qcow2", tmp_path / "t", allowed_internal=("127.0.0.1/32",)
        )
    assert got.size == 5 and server.seen == [("/t.qcow2", f"localhost:{port}")]


def test_host_header_keeps_a_non_default_port_and_brackets_ipv6() -> None:
    checked = url_check.CheckedUrl("u", "https", "2001:db8::1", 8443, "/", "2001:db8::1")
    assert checked.host_header == "[2001:db8::1]:8443"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name ``localhost`` only (made with openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_verifies_the_name_while_connecting_to_the_checked_address(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    if {info[4][0] for info in socket.getaddrinfo("localhost", 80)} != {"127.0.0.1"}:
        pytest.skip("localhost does not resolve to 127.0.0.1 alone on this machine")
    cert, key = certificate
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    with ingest_server.serving(tls=served) as server:
        server.routes["/t.qcow2"] = Route(b"secret bytes")
        port = server.base.rsplit(":", 1)[1]
        got = ingest.download(
            f"https://localhost:{port}/t.qcow2",
            tmp_path / "t",
            allowed_internal=("127.0.0.0/8",),
            ssl_context=trusting,
        )
        assert got.size == 12 and server.seen == [("/t.qcow2", f"localhost:{port}")]
        with pytest.raises(ingest_errors.DownloadFailed, match="cannot connect"):
            ingest.download(
                f"https://127.0.0.1:{port}/t.qcow2",
                tmp_path / "u",
                allowed_internal=("127.0.0.0/8",),
                ssl_context=trusting,
            )
    assert not (tmp_path / "u").exists()
