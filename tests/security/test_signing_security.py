"""Signature checks an attacker would probe: timing, garbage input, replay, re-framed requests.

Lessons from CloudStack's history: the signature was once compared with ``equals`` (a timing
oracle, fixed with a constant-time comparator), and signed GETs are replayable unless
``signatureVersion=3`` with ``expires`` is enforced.
"""

from __future__ import annotations

import ast
import contextlib
import hmac
import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cirrostack.api import signing

SECRET = "s3cr3t-" + "x" * 79
NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)

Pairs = list[tuple[str, str]]


def signed(params: Pairs, secret: str = SECRET) -> Pairs:
    return [*params, ("signature", signing.sign(params, secret))]


def v3_request(expires: datetime) -> Pairs:
    return signed(
        [
            ("apiKey", "K"),
            ("command", "destroyVirtualMachine"),
            ("expires", expires.strftime("%Y-%m-%dT%H:%M:%S%z")),
            ("id", "vm-1"),
            ("response", "json"),
            ("signatureVersion", "3"),
        ]
    )


# --- constant-time comparison --------------------------------------------------------------


class Spy:
    """Wraps the real ``hmac.compare_digest`` and records its arguments."""

    def __init__(self, real: Callable[[bytes, bytes], bool]) -> None:
        self.real = real
        self.calls: list[tuple[bytes, bytes]] = []

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls.append((a, b))
        return self.real(a, b)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    recorder = Spy(hmac.compare_digest)
    monkeypatch.setattr("cirrostack.api.signing.hmac.compare_digest", recorder)
    return recorder


def test_a_good_signature_is_accepted_through_compare_digest(spy: Spy) -> None:
    pairs = signed([("command", "listZones"), ("apiKey", "K")])
    signing.verify(pairs, SECRET, now=NOW)
    assert spy.calls
    assert spy.calls[-1][1] == pairs[-1][1].encode()


def test_a_bad_signature_is_refused_through_compare_digest_for_every_form(spy: Spy) -> None:
    pairs = [("command", "listZones"), ("name", "a~[b]"), ("signature", "A" * 27 + "=")]
    with pytest.raises(signing.BadSignature):
        signing.verify(pairs, SECRET, now=NOW)
    distinct = set(signing.canonical_strings(pairs).values())
    assert len(spy.calls) == len(distinct) > 1


def test_the_module_never_compares_signatures_with_equality() -> None:
    tree = ast.parse(inspect.getsource(signing))
    suspects = {"given", "given_bytes", "_digest", "signature", "expected"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot) for op in node.ops
        ):
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            assert not names & suspects, ast.unparse(node)


# --- garbage in, SignatureError out --------------------------------------------------------

SPECIAL_NAMES = st.sampled_from(
    ["signature", "Signature", "signatureVersion", "signatureversion", "expires", "apiKey", ""]
)
# Any code point, lone surrogates too (st.characters() alone leaves them out).
ANY_CHARACTER = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr))
ANY_TEXT = st.text(ANY_CHARACTER, max_size=40)
EXPIRES = st.one_of(
    ANY_TEXT,
    st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,12})?([+-]\d{2}:?\d{2}|Z)?"),
    st.just("3"),
)
GARBAGE = st.lists(
    st.one_of(st.tuples(SPECIAL_NAMES, EXPIRES), st.tuples(ANY_TEXT, ANY_TEXT)), max_size=12
)


@settings(max_examples=300)
@given(GARBAGE, ANY_TEXT, st.datetimes(timezones=st.just(UTC)))
def test_verify_raises_only_signature_errors_for_any_input(
    params: Pairs, secret: str, now: datetime
) -> None:
    with contextlib.suppress(signing.SignatureError):
        signing.verify(params, secret, now=now, max_future=timedelta(minutes=15))


@settings(max_examples=300)
@given(GARBAGE)
def test_garbage_signed_with_the_right_key_still_raises_only_signature_errors(
    params: Pairs,
) -> None:
    with contextlib.suppress(signing.SignatureError):
        signing.verify(signed(params), SECRET, now=NOW)


# --- replay -----------------------------------------------------------------------------


def test_replay_after_expires_is_refused() -> None:
    pairs = v3_request(expires=NOW + timedelta(minutes=10))
    signing.verify(pairs, SECRET, now=NOW + timedelta(minutes=10))
    with pytest.raises(signing.RequestExpired):
        signing.verify(pairs, SECRET, now=NOW + timedelta(minutes=10, seconds=1))


def test_replay_with_the_version_merged_into_another_name_is_refused() -> None:
    # Names are not encoded in the signed string, so a name holding '&' and '=' can swallow
    # its neighbours: this forgery signs the same string as the original, yet carries no
    # signatureVersion, which would turn the expiry check off.
    original = v3_request(expires=NOW)
    params = dict(original)
    forged = [
        ("apiKey", "K"),
        ("command", "destroyVirtualMachine"),
        ("expires", params["expires"]),
        ("id", "vm-1"),
        ("response=json&signatureVersion", "3"),
        ("signature", params["signature"]),
    ]
    same = signing.canonical_strings(forged)[signing.SERVER]
    assert same == signing.canonical_strings(original)[signing.SERVER]
    with pytest.raises(signing.AmbiguousRequest):
        signing.verify(forged, SECRET, now=NOW + timedelta(days=1))


def test_replay_with_the_version_hidden_in_a_value_is_refused() -> None:
    original = v3_request(expires=NOW)
    forged = [
        (name, value) for name, value in original if name not in {"response", "signatureVersion"}
    ]
    forged.insert(3, ("id", "vm-1&response=json&signatureVersion=3"))
    with pytest.raises(signing.SignatureError):
        signing.verify(forged, SECRET, now=NOW + timedelta(days=1))


def test_a_value_appended_under_a_signed_name_is_never_returned() -> None:
    pairs = [*v3_request(expires=NOW), ("id", "vm-of-someone-else")]
    verified = signing.verify(pairs, SECRET, now=NOW)
    assert verified.parameters["id"] == "vm-1"


def test_a_value_appended_under_a_signed_name_in_another_case_is_refused() -> None:
    pairs = [*v3_request(expires=NOW), ("ID", "vm-of-someone-else")]
    with pytest.raises(signing.AmbiguousRequest):
        signing.verify(pairs, SECRET, now=NOW)


def test_an_empty_secret_never_verifies() -> None:
    pairs = signed([("command", "listZones"), ("apiKey", "K")], secret="")
    with pytest.raises(signing.BadSignature):
        signing.verify(pairs, "", now=NOW)
