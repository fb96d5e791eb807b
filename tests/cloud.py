"""A ready cloud driven in-process: the real dispatcher on a real database, requests signed.

Shared by the integration and security tests; its fixtures (``cloud``, ``sqlite_cloud``) are
registered in tests/conftest.py.

``Cloud`` seeds a database (ROOT, roles, admin), then builds the world a test needs through the
API itself (createDomain, createAccount, registerUserKeys), so every member is made exactly as
a client would make it. ``cloud`` runs on every backend, ``sqlite_cloud`` on SQLite only.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from cirrostack import server
from cirrostack.accounts import bootstrap, vault
from cirrostack.api import auth, dispatch, registry, signing
from cirrostack.db.models import accounts as models
from cirrostack.infrastructure import agents
from tests.databases import Database

PASSWORD = "Pa55-word-for-tests"

Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Keys:
    api_key: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class Member:
    """A user of the test cloud, with the ids tests name it by."""

    username: str
    user_id: str
    account_id: str
    account_name: str
    domain_id: str
    keys: Keys


def signed_request(keys: Keys, command: str, pairs: Pairs, method: str = "GET") -> auth.Request:
    """A request signed as CloudStack's server checks it (``response=json``)."""
    signed = [("apiKey", keys.api_key), ("response", "json"), ("command", command), *pairs]
    signed.append(("signature", signing.sign(signed, keys.secret_key)))
    return auth.Request(method, tuple(signed), {})


def session_request(login: dispatch.Answer, command: str, **named: str) -> auth.Request:
    """A request in the session ``login`` opened: its key as a parameter, its cookies."""
    cookies = dict(
        value.split(";")[0].split("=", 1)
        for header, value in login.headers
        if header == "Set-Cookie"
    )
    key = content(login)["sessionkey"]
    pairs = (("command", command), ("response", "json"), ("sessionkey", key), *named.items())
    return auth.Request("GET", pairs, cookies)


def content(answer: dispatch.Answer) -> Any:
    """The object under the answer's single key."""
    assert len(answer.body) == 1, answer.body
    return next(iter(answer.body.values()))


class Cloud:
    """A seeded cloud and its members; every call goes through ``Dispatcher.handle``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        with sessions() as session:
            credentials = bootstrap.ensure_cloud(session)
            session.commit()
        self.sessions = sessions
        self.registry = server.build_registry()
        #: The simulated hosts' agents of this cloud (what a server's composition root builds).
        self.agents = agents.Agents.in_process()
        self.dispatcher = dispatch.Dispatcher(
            self.registry, sessions, services=registry.Services(agents=self.agents)
        )
        self.admin = self._member_for(
            bootstrap.ADMIN_USERNAME, Keys(credentials.api_key, credentials.secret_key)
        )
        self.root_id = self.admin.domain_id

    def using(self, sessions: sessionmaker[Session]) -> Cloud:
        """The same cloud reached through ``sessions`` (e.g. bound to a rolled-back transaction)."""
        other = copy.copy(self)
        other.sessions = sessions
        other.dispatcher = dispatch.Dispatcher(
            self.registry, sessions, services=registry.Services(agents=self.agents)
        )
        return other

    def call(
        self, keys: Keys, command: str, pairs: Pairs = (), *, method: str = "GET", **named: str
    ) -> dispatch.Answer:
        """Send one signed request; ``named`` are appended to ``pairs``."""
        request = signed_request(keys, command, [*pairs, *named.items()], method)
        return self.dispatcher.handle(request)

    def ok(self, keys: Keys, command: str, **named: str) -> Any:
        """Send a request that must succeed; the content under its key."""
        answer = self.call(keys, command, **named)
        assert answer.status == 200, answer.body
        return content(answer)

    def job(self, keys: Keys, answer: dispatch.Answer) -> dict[str, Any]:
        """The finished job an async command answered with (queried as ``keys``)."""
        assert answer.status == 200, answer.body
        result: dict[str, Any] = self.ok(
            keys, "queryAsyncJobResult", jobid=content(answer)["jobid"]
        )
        return result

    def outcome(self, keys: Keys, answer: dispatch.Answer) -> int:
        """The error code of an answer, looking through an async command's job: 0 = success."""
        if answer.status != 200:
            return answer.status
        body = content(answer)
        if "jobid" not in body or "jobstatus" in body:
            return 0
        return int(self.job(keys, answer)["jobresultcode"])

    def domain(self, name: str, parent_id: str | None = None) -> str:
        """Create a domain (under ROOT by default) as the admin; its uuid."""
        created = self.ok(
            self.admin.keys, "createDomain", name=name, parentdomainid=parent_id or self.root_id
        )
        return str(created["domain"]["id"])

    def member(self, username: str, domain_id: str, account_type: int = 0) -> Member:
        """A new account (``account_type`` 0 user, 1 root admin, 2 domain admin) with keys."""
        self.ok(
            self.admin.keys,
            "createAccount",
            username=username,
            password=PASSWORD,
            email=f"{username}@example.org",
            firstname=username.title(),
            lastname="Tester",
            accounttype=str(account_type),
            domainid=domain_id,
        )
        user_id = self._user_uuid(username, domain_id)
        if account_type == 1:
            # Root admins may not touch each other's keys: the new one registers its own.
            pair = self.in_session(username, domain_id, "registerUserKeys", id=user_id)
        else:
            pair = content(self.call(self.admin.keys, "registerUserKeys", id=user_id))
        keys = Keys(pair["userkeys"]["apikey"], pair["userkeys"]["secretkey"])
        return self._member_for(username, keys, domain_id)

    def login(self, username: str, domain_id: str, password: str = PASSWORD) -> dispatch.Answer:
        """POST login by username and password into the domain with uuid ``domain_id``."""
        pairs = (
            ("command", "login"),
            ("username", username),
            ("password", password),
            ("domainId", domain_id),
            ("response", "json"),
        )
        return self.dispatcher.handle(auth.Request("POST", pairs, {}))

    def in_session(self, username: str, domain_id: str, command: str, **named: str) -> Any:
        """Log in with the password and send one command in that session; must succeed."""
        login = self.login(username, domain_id)
        assert login.status == 200, login.body
        answer = self.dispatcher.handle(session_request(login, command, **named))
        assert answer.status == 200, answer.body
        return content(answer)

    def _user_uuid(self, username: str, domain_id: str) -> str:
        with self.sessions() as session:
            return str(
                session.scalars(
                    sa.select(models.User.uuid)
                    .join(models.Account, models.Account.id == models.User.account_id)
                    .join(models.Domain, models.Domain.id == models.Account.domain_id)
                    .where(models.User.username == username, models.Domain.uuid == domain_id)
                ).one()
            )

    def _member_for(self, username: str, keys: Keys, domain_id: str | None = None) -> Member:
        with self.sessions() as session:
            user, account, domain = session.execute(
                sa.select(models.User, models.Account, models.Domain)
                .join(models.Account, models.Account.id == models.User.account_id)
                .join(models.Domain, models.Domain.id == models.Account.domain_id)
                .where(models.User.api_key == keys.api_key)
            ).one()
            assert user.username == username
            assert domain_id is None or domain.uuid == domain_id
            return Member(
                username, user.uuid, account.uuid, account.account_name, domain.uuid, keys
            )

    def rows(self, tables: Iterable[str] = ("domain", "account", "user")) -> dict[str, list[str]]:
        """Every row of ``tables``, as sorted JSON text: compare before and after a request."""
        snapshot: dict[str, list[str]] = {}
        with self.sessions() as session:
            for name in tables:
                table = models.Account.metadata.tables[name]
                found = session.execute(sa.select(table)).mappings().all()
                snapshot[name] = sorted(json.dumps(dict(row), default=str) for row in found)
        return snapshot

    def secrets(self) -> dict[str, str]:
        """Every secret key (plain and as stored) and password hash, by what it belongs to."""
        found: dict[str, str] = {}
        with self.sessions() as session:
            for user in session.scalars(sa.select(models.User)):
                found[f"password hash of {user.username}"] = user.password
                if user.secret_key:
                    found[f"stored secret key of {user.username}"] = user.secret_key
                    found[f"secret key of {user.username}"] = vault.of(session).open(
                        user.secret_key
                    )
        return found


@pytest.fixture
def cloud(database: Database) -> Cloud:
    """A seeded cloud on each backend."""
    return Cloud(database.sessions)


@pytest.fixture
def sqlite_cloud(sqlite_database: Database) -> Cloud:
    """A seeded cloud on SQLite, for tests whose subject is not the backend."""
    return Cloud(sqlite_database.sessions)
