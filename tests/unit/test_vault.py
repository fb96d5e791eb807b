"""API secret keys are sealed with the server key (issue 6 finding 6)."""

from __future__ import annotations

import pytest

from cirrostack.accounts import keys, vault


def test_a_sealed_key_opens_to_the_plain_key_and_shows_nothing_of_it() -> None:
    box = vault.Vault(vault.new_key())
    plain = keys.new_key_pair().secret_key
    sealed = box.seal(plain)
    assert vault.is_sealed(sealed) and not vault.is_sealed(plain)
    assert plain not in sealed
    assert box.open(sealed) == plain
    # A fresh nonce each time: two rows with one secret do not look alike.
    assert box.seal(plain) != sealed


def test_a_sealed_key_fits_the_secret_key_column() -> None:
    box = vault.Vault(vault.new_key())
    assert len(box.seal(keys.new_key_pair().secret_key)) <= 255


def test_another_server_key_or_a_changed_row_does_not_open() -> None:
    sealed = vault.Vault(vault.new_key()).seal("secret")
    with pytest.raises(vault.SecretUnreadable):
        vault.Vault(vault.new_key()).open(sealed)
    box = vault.Vault(vault.new_key())
    sealed = box.seal("secret")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(vault.SecretUnreadable):
        box.open(flipped)
    with pytest.raises(vault.SecretUnreadable):
        box.open("secret")


def test_a_server_key_must_have_32_bytes_and_never_shows_in_repr() -> None:
    with pytest.raises(vault.ServerKeyUnusable):
        vault.Vault(b"short")
    key = vault.new_key()
    assert key.hex() not in repr(vault.Vault(key))
