"""Check CloudStack API request signatures as CloudStack's server does, and sign requests.

Called by the API layer for every request that carries an ``apiKey``: it finds the key with
:func:`api_key`, looks up the user's secret key, calls :func:`verify` and then dispatches the
command with ``Verified.parameters``, never with the raw query (see below). Our own tests and
tools sign requests with :func:`sign`. Pure functions: no database, no clock (``now`` is passed in).

The server (``ApiServer.verifyRequest``) builds one *canonical string*: drop ``signature``, sort
by name, join ``name=URLEncoder.encode(value)`` (``+`` written ``%20``) with ``&``, lower-case the
lot; the signature is the standard base64 of its HMAC-SHA1 under the secret key. Real clients
build the string a little differently (key order, which characters they leave unencoded), so
:func:`verify` tries the server's form first and then every other :class:`Canonicalization` in
:data:`ACCEPTED`. Each accepted form decodes back to the same parameters (up to the ASCII letter
case that CloudStack's lower-casing leaves unsigned anyway), so leniency never lets a signature
cover a request other than the one that was signed.

Guarantees:

- signatures are compared with :func:`hmac.compare_digest`, never ``==``;
- :func:`verify` raises nothing but :class:`SignatureError` whatever the parameters hold;
- with ``signatureVersion=3`` (any case of the name) ``expires`` must be present, readable and
  not in the past, and not further ahead than ``max_future`` when one is given;
- the first value of a repeated name is the one signed (as in CloudStack); ``Verified.parameters``
  holds exactly those values, so a value appended under an already-signed name is never used;
- a request whose names contain ``&`` or ``=``, or repeat a name in another case, is refused:
  such names let one signed string stand for several different requests (for example, merging
  ``response=json&signatureVersion`` into one name would silently drop the expiry check).

Exceptions (all mean HTTP 401 to the client)::

    SignatureError
    ├── MissingSignature   no ``signature`` parameter, or a blank one
    ├── AmbiguousRequest   names containing '&' or '=', or the same name in two cases
    ├── BadSignature       no accepted canonical form matches (or the user has no secret key)
    ├── RequestExpired     signatureVersion 3 and ``expires`` is in the past
    └── InvalidExpires     signatureVersion 3 and ``expires`` missing, unreadable or too far ahead
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import itertools
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib import parse

Params = Sequence[tuple[str, str]]
"""Request parameters as decoded from the query string and form, in order, blanks kept."""


class SignatureError(Exception):
    """The request's signature cannot be accepted."""


class MissingSignature(SignatureError):
    """The request carries no ``signature`` parameter, or a blank one."""


class AmbiguousRequest(SignatureError):
    """The parameter names make the signed string stand for more than one request."""


class BadSignature(SignatureError):
    """The signature matches none of the accepted canonical strings."""


class RequestExpired(SignatureError):
    """A version 3 request whose ``expires`` time has passed."""


class InvalidExpires(SignatureError):
    """A version 3 request whose ``expires`` is missing, unreadable or too far ahead."""


class KeyOrder(enum.Enum):
    """How the parameters are ordered before they are joined."""

    ORIGINAL = "original"
    """By name as sent, case-sensitive: the server, ``cs``, Go ``cmk``."""
    LOWERED = "lowered"
    """By lower-cased name, ties in arrival order: libcloud, cloudmonkey 5.3.3."""

    def sort(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Give ``pairs`` in this order (``sorted`` is stable, as libcloud's ``list.sort``)."""
        if self is KeyOrder.ORIGINAL:
            return sorted(pairs, key=lambda pair: pair[0])
        return sorted(pairs, key=lambda pair: pair[0].lower())


class NameEncoding(enum.Enum):
    """How parameter names are written."""

    RAW = "raw"
    """As sent: the server, ``cs``, ``cmk``, cloudmonkey."""
    QUOTED = "quoted"
    """Percent-encoded except ``[`` and ``]``: libcloud's ``quote(key, safe="[]")``."""

    def encode(self, name: str) -> str:
        """Write ``name`` this way."""
        if self is NameEncoding.RAW:
            return name
        return parse.quote(name, safe="[]", errors="replace")


class ValueEncoding(enum.Enum):
    """Which characters of a value are left unencoded (all others become ``%XX`` of UTF-8)."""

    JAVA = "java"
    """``A-Z a-z 0-9 . - * _``: Java's ``URLEncoder`` (the server) and Python 2 cloudmonkey."""
    TILDE = "tilde"
    """Also ``~``: ``cs``'s ``quote(v, safe="*")`` and Go ``cmk``'s ``QueryEscape``."""
    TILDE_BRACKETS = "tilde-brackets"
    """Also ``~ [ ]``: libcloud's ``quote(v, safe="[]*")``."""

    def encode(self, value: str) -> str:
        """Write ``value`` this way; space is ``%20``, unencodable surrogates ``%3F`` as in Java."""
        if self is ValueEncoding.TILDE_BRACKETS:
            return parse.quote(value, safe="[]*", errors="replace")
        quoted = parse.quote(value, safe="*", errors="replace")
        # Python always leaves '~' alone; Java's URLEncoder encodes it.
        return quoted.replace("~", "%7E") if self is ValueEncoding.JAVA else quoted


@dataclass(frozen=True)
class Canonicalization:
    """One way of building the string that is signed."""

    order: KeyOrder
    names: NameEncoding
    values: ValueEncoding

    def string(self, signed: Mapping[str, str]) -> str:
        """The lower-cased string to sign for the parameters ``signed``."""
        pairs = self.order.sort(signed.items())
        joined = "&".join(f"{self.names.encode(n)}={self.values.encode(v)}" for n, v in pairs)
        return joined.lower()


SERVER = Canonicalization(KeyOrder.ORIGINAL, NameEncoding.RAW, ValueEncoding.JAVA)
"""The canonical string of CloudStack's ``ApiServer.verifyRequest``."""

ACCEPTED: tuple[Canonicalization, ...] = (
    SERVER,
    *(
        Canonicalization(*combination)
        for combination in itertools.product(KeyOrder, NameEncoding, ValueEncoding)
        if Canonicalization(*combination) != SERVER
    ),
)
"""Every form :func:`verify` accepts, the server's first."""


@dataclass(frozen=True)
class Verified:
    """A request whose signature matched."""

    parameters: Mapping[str, str]
    """The signed parameters (first value of each name, no ``signature``): dispatch these."""
    canonicalization: Canonicalization
    """The form that matched; anything but :data:`SERVER` is a client quirk worth a debug log."""


def api_key(params: Params) -> str | None:
    """The ``apiKey`` value (name in any case, first one wins), or None if there is none."""
    return _first(params, "apikey")


def signed_parameters(params: Params) -> dict[str, str]:
    """The parameters a signature covers: the first value of each name, ``signature`` dropped."""
    signed: dict[str, str] = {}
    for name, value in params:
        if name.lower() != "signature":
            signed.setdefault(name, value)
    return signed


def canonical_strings(params: Params) -> dict[Canonicalization, str]:
    """Each accepted canonical string of ``params``, the server's first: for debugging."""
    signed = signed_parameters(params)
    return {canonicalization: canonicalization.string(signed) for canonicalization in ACCEPTED}


def sign(params: Params, secret: str) -> str:
    """The signature CloudStack's server expects for ``params`` (a ``signature`` is ignored)."""
    return _digest(secret, SERVER.string(signed_parameters(params)))


def verify(
    params: Params,
    secret: str,
    *,
    now: datetime,
    max_future: timedelta | None = None,
) -> Verified:
    """Accept the request if its signature is good and, for version 3, it has not expired.

    ``now`` must be timezone-aware; ``max_future`` None leaves ``expires`` unbounded, as
    CloudStack does by default. Raises a :class:`SignatureError` subclass on refusal, and
    ValueError only for a naive ``now`` (a programming error, not bad input).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    given = _given_signature(params)
    signed = signed_parameters(params)
    _reject_ambiguous(signed)
    matched = _match(signed, secret, given)
    _check_expiry(signed, now=now, max_future=max_future)
    return Verified(types.MappingProxyType(signed), matched)


def parse_expires(text: str) -> datetime:
    """Read an ``expires`` value into an aware datetime, or raise :class:`InvalidExpires`.

    Accepts ``2024-01-01T12:00:00`` followed by optional fractional seconds and a ``Z``,
    ``+0000`` or ``+00:00`` offset: what ``cs``, cloudmonkey and ``cmk`` send. No offset, no date.
    """
    match = _EXPIRES.fullmatch(text)
    if match is None:
        raise InvalidExpires(f"expires {text[:40]!r} is not like 2024-01-01T12:00:00+0000")
    try:
        return _to_datetime(match)
    except ValueError as exc:
        raise InvalidExpires(f"expires {text!r} is not a valid time: {exc}") from exc


_EXPIRES = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})",
    re.ASCII,
)


def _to_datetime(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    microsecond = int((fraction or "0").ljust(6, "0")[:6])
    fields = (int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond)
    return datetime(*fields, tzinfo=_zone(zone))


def _zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if minutes >= 60:
        raise ValueError(f"offset minutes {minutes} out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text.startswith("-") else offset)


def _first(pairs: Iterable[tuple[str, str]], lowered_name: str) -> str | None:
    return next((value for name, value in pairs if name.lower() == lowered_name), None)


def _given_signature(params: Params) -> str:
    given = _first(params, "signature")
    if not given:
        raise MissingSignature("the request has no signature")
    return given


def _reject_ambiguous(signed: Mapping[str, str]) -> None:
    seen: set[str] = set()
    for name in signed:
        if "&" in name or "=" in name:
            raise AmbiguousRequest(f"parameter name {name[:40]!r} contains '&' or '='")
        if name.lower() in seen:
            raise AmbiguousRequest(f"parameter {name[:40]!r} is repeated in another case")
        seen.add(name.lower())


def _match(signed: Mapping[str, str], secret: str, given: str) -> Canonicalization:
    if not secret:
        raise BadSignature("the user has no secret key")
    given_bytes = given.encode("utf-8", "replace")
    tried: set[str] = set()
    for canonicalization in ACCEPTED:
        string = canonicalization.string(signed)
        if string in tried:
            continue
        tried.add(string)
        if hmac.compare_digest(_digest(secret, string).encode("ascii"), given_bytes):
            return canonicalization
    raise BadSignature("the signature does not match the request")


def _digest(secret: str, string: str) -> str:
    key = secret.encode("utf-8", "replace")
    mac = hmac.new(key, string.encode("utf-8", "replace"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def _check_expiry(
    signed: Mapping[str, str], *, now: datetime, max_future: timedelta | None
) -> None:
    if _first(signed.items(), "signatureversion") != "3":
        return
    text = _first(signed.items(), "expires")
    if text is None:
        raise InvalidExpires("signatureVersion 3 requires an expires parameter")
    expires = parse_expires(text)
    if expires < now:
        raise RequestExpired(f"the request expired at {expires.isoformat()}")
    if max_future is not None and expires > now + max_future:
        raise InvalidExpires(f"expires {expires.isoformat()} is more than {max_future} ahead")
