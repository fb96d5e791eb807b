"""API key pairs and session keys: format, independence, URL- and signature-safe alphabet."""

from __future__ import annotations

import base64
import dataclasses
import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from cirrostack.accounts import keys
from cirrostack.api import signing

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
DRAWS = 2000


def test_key_pair_has_two_86_character_url_safe_keys() -> None:
    pair = keys.new_key_pair()
    for key in (pair.api_key, pair.secret_key):
        assert len(key) == 86
        assert URL_SAFE.fullmatch(key)
        assert len(base64.urlsafe_b64decode(key + "==")) == 64


def test_the_two_keys_of_a_pair_differ() -> None:
    pair = keys.new_key_pair()
    assert pair.api_key != pair.secret_key


def test_key_pairs_are_unique_across_many_draws() -> None:
    drawn = [keys.new_key_pair() for _ in range(DRAWS)]
    every_key = [k for pair in drawn for k in (pair.api_key, pair.secret_key)]
    assert len(set(every_key)) == 2 * DRAWS


def test_keys_use_the_whole_url_safe_alphabet() -> None:
    # A weak or narrowed generator would show here long before it showed in a collision.
    seen = set("".join(keys.new_key_pair().api_key for _ in range(200)))
    assert seen == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_key_pair_is_frozen_and_hides_the_secret_from_repr() -> None:
    pair = keys.new_key_pair()
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.api_key = "other"  # type: ignore[misc]
    assert pair.secret_key not in repr(pair)
    assert pair.api_key in repr(pair)


def test_session_key_is_url_safe_with_at_least_32_random_bytes() -> None:
    key = keys.new_session_key()
    assert URL_SAFE.fullmatch(key)
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) >= 32


def test_session_keys_are_unique_across_many_draws() -> None:
    assert len({keys.new_session_key() for _ in range(DRAWS)}) == DRAWS


@pytest.mark.parametrize(
    "key",
    [keys.new_key_pair().api_key, keys.new_key_pair().secret_key, keys.new_session_key()],
    ids=["api", "secret", "session"],
)
def test_keys_need_no_escaping_in_urls_cookies_or_signed_strings(key: str) -> None:
    assert quote(key, safe="") == key
    assert signing.ValueEncoding.JAVA.encode(key) == key


def test_generated_keys_sign_and_verify() -> None:
    pair = keys.new_key_pair()
    params = [("command", "listZones"), ("apiKey", pair.api_key)]
    pairs = [*params, ("signature", signing.sign(params, pair.secret_key))]
    verified = signing.verify(pairs, pair.secret_key, now=datetime.now(UTC))
    assert signing.api_key(pairs) == pair.api_key
    assert verified.parameters["apiKey"] == pair.api_key
