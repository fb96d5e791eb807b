"""Serializers emit only the fields their ObjectSpec declares, so listApis tells the truth."""

from __future__ import annotations

from typing import Any

from cirrostack import server
from cirrostack.accounts import access, bootstrap, domains, keys, users
from cirrostack.api.registry import ObjectSpec
from cirrostack.api.views import identity
from cirrostack.db.models import accounts as models
from tests.conftest import Database


def assert_declared(spec: ObjectSpec, item: dict[str, Any]) -> None:
    undeclared = set(item) - spec.field_names()
    assert not undeclared, f"{spec.name} emits undeclared fields {sorted(undeclared)}"
    nested = {field.name: field for field in spec.fields if field.fields}
    for name, field in nested.items():
        for inner in item.get(name, []):
            assert set(inner) <= {sub.name for sub in field.fields}


def test_identity_objects_match_their_specs(sqlite_database: Database) -> None:
    with sqlite_database.sessions() as session:
        bootstrap.ensure_cloud(session)
        admin = session.get_one(models.User, 2)
        caller = access.caller_of(session, admin)
        child = domains.create(session, caller, "child", None)
        account = session.get_one(models.Account, 2)
        assert_declared(identity.DOMAIN, identity.domain_item(session, child))
        assert_declared(identity.ACCOUNT, identity.account_item(session, account))
        assert_declared(identity.USER, identity.user_item(users.owner_of(session, admin)))
        assert_declared(identity.USERKEYS, identity.keys_item(keys.new_key_pair()))


def test_every_declared_response_has_unique_field_names() -> None:
    for command in server.build_registry():
        if command.response is not None:
            names = [field.name for field in command.response.fields]
            assert len(names) == len(set(names)), command.name
