"""Cross-site requests: a browser's request from another site may not use its session cookies.

A session cookie is sent by the browser whoever made the page that sends the request, so
cookies prove nothing about intent (CVE-2024-45693, CloudStack's missing origin validation).
A request that carries a session cookie (``JSESSIONID`` or ``sessionkey``), or that asks to
``login`` (which would set them), is refused when the browser says it comes from elsewhere:

    Sec-Fetch-Site   cross-site or same-site (another origin, by the browser's own judgement)
    Origin           present and not this server (``null`` included)
    Referer          when there is no Origin, present and not this server

"This server" is the Host header, or X-Forwarded-Host behind a proxy: a page on another site
cannot set either (a forged header needs a CORS preflight, which this server never grants).
Clients that send none of these headers (cs, cmk, cloudmonkey, libcloud) are not affected, nor
are signed requests without cookies: the signature is the credential there.

Called by ``api.app`` for every request before it is dispatched.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

from cirrostack.api import edge

SESSION_COOKIES = ("JSESSIONID", "sessionkey")
_OTHER_SITE = ("cross-site", "same-site")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def refusal(
    headers: Mapping[str, str], cookies: Mapping[str, str], command: str | None
) -> edge.Refused | None:
    """The 401 refusal of a cross-site request that would use or open a session, or None.

    ``headers`` are the request's (names lower-cased), ``cookies`` its cookies, ``command``
    the command parameter.
    """
    wants_session = any(name in cookies for name in SESSION_COOKIES)
    if not wants_session and (command or "").lower() != "login":
        return None
    reason = _elsewhere(headers)
    if reason is None:
        return None
    return edge.Refused(401, f"Refused a cross-site request: {reason} is not this server")


def _elsewhere(headers: Mapping[str, str]) -> str | None:
    """Why the request comes from another site, or None when nothing says so."""
    fetch_site = headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site in _OTHER_SITE:
        return f"Sec-Fetch-Site {fetch_site}"
    own = _own_hosts(headers)
    origin = headers.get("origin")
    if origin is not None:
        return None if _same_server(origin, own) else f"Origin {origin[:200]}"
    referer = headers.get("referer")
    if referer is not None and not _same_server(referer, own):
        return f"Referer {referer[:200]}"
    return None


def _own_hosts(headers: Mapping[str, str]) -> list[str]:
    names = [headers.get("host", "")]
    forwarded = headers.get("x-forwarded-host")
    if forwarded:
        names.append(forwarded.split(",")[0].strip())
    return [name for name in names if name]


def _same_server(url: str, own: list[str]) -> bool:
    """Whether ``url``'s scheme, host and port are those of one of ``own`` host names."""
    try:
        where = urlsplit(url.strip())
        if where.scheme not in _DEFAULT_PORTS or not where.hostname:
            return False  # "null", file:, data:, garbage
        return any(_matches(where, urlsplit(f"//{name}")) for name in own)
    except ValueError:
        return False


def _matches(where: SplitResult, host: SplitResult) -> bool:
    default = _DEFAULT_PORTS[where.scheme]
    return (where.hostname, where.port or default) == (host.hostname, host.port or default)
