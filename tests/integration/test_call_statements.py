"""The fixed cost of a call: authentication, the caller and its role cost two statements.

A signed request reads its user with account, domain and role in one joined query, the
caller is built from those rows without reading them again, and the role's rules come in one
query; listApis checks every command against rules read once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from tests.cloud import Cloud, Keys, session_request
from tests.conftest import Database


@contextmanager
def _counted(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(" ".join(str(args[2]).split()))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _reads(statements: list[str]) -> list[str]:
    """The statements but the transactions' own (SQLite's BEGIN and query_only pragma,
    MariaDB's START TRANSACTION READ ONLY)."""
    own = ("BEGIN", "PRAGMA", "START TRANSACTION")
    return [text for text in statements if not text.startswith(own)]


def _caller_reads(statements: list[str]) -> list[str]:
    """The statements that read the caller: its user, account, domain, role and rules."""
    caller = (
        *(f" FROM {quoted}" for quoted in ("user ", '"user" ', "`user` ")),
        " FROM account ",
        " FROM domain ",
        " FROM roles ",
        "role_permissions",
    )
    return [text for text in _reads(statements) if any(part in text for part in caller)]


def test_a_signed_call_reads_its_caller_once(database: Database) -> None:
    cloud = Cloud(database.sessions)
    with _counted(database.engine) as statements:
        answer = cloud.call(cloud.admin.keys, "listZones")
    assert answer.status == 200
    reads = _caller_reads(statements)
    # user + account + domain + role joined, then the role's rules; nothing read again in the
    # command's own transaction.
    assert len(reads) == 2, reads
    assert " JOIN account " in reads[0] and " JOIN roles " in reads[0]
    assert "role_permissions" in reads[1]
    # the caller, the page size setting and the zones
    assert len(_reads(statements)) == 4, _reads(statements)


def test_a_session_call_reads_its_caller_once(database: Database) -> None:
    cloud = Cloud(database.sessions)
    cloud.member("someone", cloud.root_id)
    login = cloud.login("someone", cloud.root_id)
    assert login.status == 200, login.body
    with _counted(database.engine) as statements:
        answer = cloud.dispatcher.handle(session_request(login, "listZones"))
    assert answer.status == 200, answer.body
    account_reads = [text for text in _reads(statements) if "FROM account " in text]
    assert len(account_reads) <= 1, account_reads


def test_list_apis_reads_the_rules_once(database: Database) -> None:
    cloud = Cloud(database.sessions)
    with _counted(database.engine) as statements:
        answer = cloud.call(cloud.admin.keys, "listApis")
    assert answer.status == 200
    rules = [text for text in statements if "role_permissions" in text]
    assert len(rules) == 2, rules  # the dispatcher's check, and listApis's


@contextmanager
def _transactions(engine: sa.Engine) -> Iterator[list[object]]:
    begun: list[object] = []

    def begin(connection: object) -> None:
        begun.append(connection)

    sa.event.listen(engine, "begin", begin)
    try:
        yield begun
    finally:
        sa.event.remove(engine, "begin", begin)


def test_a_small_signed_read_runs_in_one_transaction(database: Database) -> None:
    # Identify, signature and command share one read-only transaction: no second BEGIN and
    # COMMIT per call. A large request (its signature costs real CPU) takes two.
    cloud = Cloud(database.sessions)
    with _transactions(database.engine) as begun:
        assert cloud.call(cloud.admin.keys, "listZones").status == 200
    assert len(begun) == 1
    padding = [(f"x{index}", "y") for index in range(80)]
    with _transactions(database.engine) as begun:
        assert cloud.call(cloud.admin.keys, "listZones", padding).status == 200
    assert len(begun) == 2


def test_a_small_read_still_refuses_a_bad_signature_before_its_parameters(
    database: Database,
) -> None:
    cloud = Cloud(database.sessions)
    forged = Keys(cloud.admin.keys.api_key, "not-the-secret")
    answer = cloud.call(forged, "listZones", page="not-a-number")
    assert answer.status == 401, answer.body
    answer = cloud.call(cloud.admin.keys, "listZones", page="not-a-number")
    assert answer.status == 431, answer.body
