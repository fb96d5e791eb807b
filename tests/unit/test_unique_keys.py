"""db.unique.violated_key reads the violated key's name from each driver's error (the real
backends are exercised by the race tests; these pin the message forms, MySQL 8's included)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.db import unique


def failure(message: str) -> sa.exc.IntegrityError:
    return sa.exc.IntegrityError("INSERT ...", {}, Exception(message))


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("(1062, \"Duplicate entry '2-x' for key 'uq_account_domain_id_live_name'\")",
         "uq_account_domain_id_live_name"),
        ("(1062, \"Duplicate entry '2-x' for key 'user.uq_user_domain_id_live_name'\")",
         "uq_user_domain_id_live_name"),
        ("UNIQUE constraint failed: domain.parent, domain.live_name", "uq_domain_parent_live_name"),
        ("UNIQUE constraint failed: user.api_key", "uq_user_api_key"),
        ("UNIQUE constraint failed: host_pod_ref.name, host_pod_ref.data_center_id",
         "uq_host_pod_ref_name_data_center_id"),
        ("FOREIGN KEY constraint failed", None),
        ("(1452, 'Cannot add or update a child row: a foreign key constraint fails')", None),
    ],
)  # fmt: skip
def test_the_key_is_named_on_each_backend(message: str, key: str | None) -> None:
    assert unique.violated_key(failure(message)) == key


def test_only_the_named_key_becomes_the_refusal() -> None:
    refusal = errors.InvalidParameterValue("taken")
    key = "uq_data_center_live_name"
    with (
        pytest.raises(errors.InvalidParameterValue, match="taken"),
        unique.translating(key, refusal),
    ):
        raise failure("UNIQUE constraint failed: data_center.live_name")
    with pytest.raises(sa.exc.IntegrityError), unique.translating(key, refusal):
        raise failure("UNIQUE constraint failed: user.api_key")
