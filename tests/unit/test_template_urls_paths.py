"""The registration URL policy and the store layout of template files (pure logic)."""

from __future__ import annotations

import pytest

from cirrostack import errors
from cirrostack.storage import template_paths, url_policy

PUBLIC = {
    "images.example.org": ["93.184.216.34"],
    "both.example.org": ["93.184.216.34", "10.1.2.3"],
}


def resolver(host: str) -> list[str]:
    """Names from the table; an address literal resolves to itself, other names to nothing."""
    named = {"localhost": ["127.0.0.1"], **PUBLIC}
    return named.get(host, [host] if host[-1:].isdigit() or ":" in host else [])


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://images.example.org/a.qcow2",
        "gopher://images.example.org/a.qcow2",
        "http:///a.qcow2",
        "http://user:pw@images.example.org/a.qcow2",
        "http://images.example.org:99999/a.qcow2",
        "http://nowhere.invalid/a.qcow2",
        "http://localhost/a.qcow2",
        "http://127.0.0.1/a.qcow2",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/a.qcow2",
        "http://[::1]/a.qcow2",
        "http://[::ffff:127.0.0.1]/a.qcow2",
        "http://224.0.0.1/a.qcow2",
        "http://0.0.0.0/a.qcow2",
        "http://both.example.org/a.qcow2",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        url_policy.check(url, (), resolver)


def test_public_url_passes() -> None:
    url = "https://images.example.org/a.qcow2"
    assert url_policy.check(url, (), resolver) == url


def test_internal_site_allows_its_cidr_only() -> None:
    sites = url_policy.allowed_sites("127.0.0.0/8, 10.1.0.0/16")
    assert url_policy.check("http://127.0.0.1:8080/a.qcow2", sites, resolver)
    assert url_policy.check("http://both.example.org/a.qcow2", sites, resolver)
    with pytest.raises(errors.InvalidParameterValue):
        url_policy.check("http://10.2.0.1/a.qcow2", sites, resolver)


@pytest.mark.parametrize("text", ["0.0.0.0/0", "::/0", "not-a-cidr"])
def test_bad_internal_sites(text: str) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        url_policy.allowed_sites(text)


def test_real_resolver_answers_loopback() -> None:
    assert "127.0.0.1" in url_policy.resolve("127.0.0.1")
    assert url_policy.resolve("no-such-host.invalid") == []


def test_paths_are_made_from_ids_only() -> None:
    qcow2 = template_paths.ImageFormat.QCOW2
    assert template_paths.nfs_install_path(2, 201, qcow2) == "template/tmpl/2/201/201.qcow2"
    assert (
        template_paths.s3_key(2, 201, "201-2-abc", qcow2)
        == "template/tmpl/2/201/201-2-abc/201.qcow2"
    )
    with pytest.raises(ValueError):
        template_paths.s3_key(2, 201, "../x", qcow2)


@pytest.mark.parametrize(
    ("url", "fmt", "ok"),
    [
        ("http://h/a.qcow2", "QCOW2", True),
        ("http://h/a.QCOW2?x=1", "QCOW2", True),
        ("http://h/a.qcow2.bz2", "QCOW2", True),
        ("http://h/a.raw", "QCOW2", False),
        ("http://h/a.img", "RAW", True),
        ("http://h/a.iso", "ISO", True),
        ("http://h/a.qcow2", "ISO", False),
    ],
)
def test_extension_matches_format(url: str, fmt: str, ok: bool) -> None:
    image_format = template_paths.ImageFormat(fmt)
    if ok:
        template_paths.check_extension(url, image_format)
    else:
        with pytest.raises(errors.InvalidParameterValue):
            template_paths.check_extension(url, image_format)


def test_format_parse() -> None:
    assert template_paths.parse_format("qcow2") is template_paths.ImageFormat.QCOW2
    assert template_paths.parse_format("anything", iso=True) is template_paths.ImageFormat.ISO
    for bad in ("ISO", "VHD", ""):
        with pytest.raises(errors.InvalidParameterValue):
            template_paths.parse_format(bad)
