"""The command registry: each API command declared once.

A ``Command`` names its handler, parameters, whether it is asynchronous, which role types may
call it and the response object it returns. The registry drives dispatch, parameter validation,
``listApis`` and the documentation, so they cannot disagree.

Families of commands live in ``cirrostack.api.commands.<family>`` as a module-level ``COMMANDS``
tuple; the composition root passes the families to ``Registry.of`` explicitly (no registration
by import side effect). A duplicate name is a start-up error.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cirrostack.accounts import access, roles
from cirrostack.api import auth, params, responses
from cirrostack.db import engine
from cirrostack.infrastructure import agents as fleet
from cirrostack.jobs import context, queue


@dataclass(frozen=True)
class Services:
    """What the composition root wires into every handler and ``before`` step (typed, so a
    handler cannot ask for a service by a misspelt name)."""

    #: The commands this server serves (listApis, listEventTypes); the dispatcher sets it.
    registry: Registry | None = None
    #: The agent connections commands and jobs share (hosts); None in a server built without.
    agents: fleet.Agents | None = None
    #: The server's session factory, for the short transactions of a job's slow work (an
    #: agent's progress written while no transaction of the job is open); the dispatcher and
    #: the job runner set it.
    sessions: sessionmaker[Session] | None = None

    def need_registry(self) -> Registry:
        if self.registry is None:
            raise RuntimeError("this server was built without a command registry")
        return self.registry

    def need_agents(self) -> fleet.Agents:
        if self.agents is None:
            raise RuntimeError("this server was built without agents (Services.agents)")
        return self.agents

    def need_sessions(self) -> sessionmaker[Session]:
        if self.sessions is None:
            raise RuntimeError("this server was built without a session factory")
        return self.sessions


@dataclass(frozen=True)
class Field:
    """One field of a response object, as listApis describes it."""

    name: str
    type: str = "string"
    description: str = ""
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class ObjectSpec:
    """A response object: its name in answers (``account``) and its fields."""

    name: str
    fields: tuple[Field, ...]

    def field_names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.fields)


@dataclass
class Call:
    """Everything a handler gets: the open session, who calls, and the typed parameters."""

    session: Session
    #: None only for public commands (login).
    caller: access.Caller | None
    args: dict[str, Any]
    command: Command
    now: datetime.datetime
    #: Services the composition root wired in (e.g. the registry for listApis).
    services: Services = field(default_factory=Services)
    #: The raw request, for the few commands that read cookies (login, logout).
    request: auth.Request | None = None
    #: ``Set-Cookie`` values the answer must carry.
    cookies: list[str] = field(default_factory=list)
    #: What the handler acted on, for the event row: (resource type, internal id, label).
    acted_on: tuple[str, int, str] | None = None
    #: When running as a job: the fence, checkpoints, activity, progress and cancellation
    #: (``jobs.context.JobContext``); None when the command runs in the request.
    job: context.Job | None = None
    #: What the command's ``before`` step returned (None without one).
    prepared: Any = None
    #: In a job: the internal id of the resource its ``prepare`` named (``jobs.Instance``), so
    #: a create-type command's job finds the row its request created.
    instance_id: int | None = None

    @property
    def who(self) -> access.Caller:
        """The authenticated caller (every command but login has one)."""
        if self.caller is None:
            raise RuntimeError(f"{self.command.name} has no authenticated caller")
        return self.caller

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)


Handler = Callable[[Call], responses.Reply]


@dataclass(frozen=True)
class Before:
    """What a command's ``before`` step gets. It runs after authentication and parameter
    parsing, with no transaction open, so slow work (password hashing, a login's password
    check) holds no lock; it may open short transactions of its own."""

    args: dict[str, Any]
    now: datetime.datetime
    sessions: sessionmaker[Session]
    caller: access.Caller | None = None
    request: auth.Request | None = None
    #: Services the composition root wired in (as ``Call.services``).
    services: Services = field(default_factory=Services)

    def reading(self) -> Session:
        """A session for a short read-only lookup (no SQLite write lock)."""
        return engine.reading(self.sessions)


ALL_ROLES = frozenset(roles.RoleType)
ADMINS = frozenset({roles.RoleType.ADMIN})
#: The roles of an internal command (a job body another command queues, ``api.jobs.start``):
#: none, so the dispatcher answers it like an unknown command and listApis never shows it.
NOBODY: frozenset[roles.RoleType] = frozenset()
DOMAIN_ADMINS = frozenset({roles.RoleType.ADMIN, roles.RoleType.DOMAIN_ADMIN})


@dataclass(frozen=True)
class Command:
    """One API command."""

    name: str
    handler: Handler
    description: str
    params: tuple[params.Param, ...] = ()
    response: ObjectSpec | None = None
    is_async: bool = False
    authorized: frozenset[roles.RoleType] = ALL_ROLES
    #: The key of the answer when CloudStack does not use ``<name lower>response``.
    response_key: str | None = None
    since: str = ""
    #: Commands reached without a session or key (login).
    public: bool = False
    #: Only POST may call it (login).
    post_only: bool = False
    #: For async commands: the resource type the job acts on (``jobinstancetype``).
    instance_type: str | None = None
    #: The event type a successful run records (``ACCOUNT.CREATE``); None for reads.
    event: str | None = None
    #: For async commands: runs at submit, in the request's transaction, before the job is
    #: queued: checks what can be checked at once, moves the resource into its transitional
    #: state, and names it (an ``api.jobs.Instance``). The handler then runs in a worker.
    prepare: Callable[[Call], Any] | None = None
    #: For async commands: a create-type command answers the new resource's ``id`` at once.
    creates: bool = False
    #: For async commands: whether a run that lost its lease (its worker died or hung) may be
    #: run again from the start, or must have its rows recovered and fail (``queue.OnLost``).
    on_lost: queue.OnLost = queue.OnLost.RERUN
    #: Slow work done before the command's transaction, with none open; its result is the
    #: handler's ``call.prepared``. It runs once, even when the transaction is run again.
    before: Callable[[Before], Any] | None = None
    #: Whether the handler writes; None derives it: a command that records no event, is not
    #: async and not public (login) only reads.
    writes: bool | None = None
    #: A synchronous command whose handler queues jobs of internal commands in its
    #: transaction (``api.jobs.start``; registerTemplate's downloads): the dispatcher hands
    #: them to the job workers once that transaction has committed.
    starts_jobs: bool = False

    @property
    def internal(self) -> bool:
        """A job body only (``NOBODY`` may call it): never reached from the API."""
        return not self.authorized

    @property
    def read_only(self) -> bool:
        """Its transaction only reads: on SQLite it takes no write lock."""
        if self.writes is not None:
            return not self.writes
        if self.starts_jobs:
            return False
        return self.event is None and not self.is_async and not self.public

    @property
    def key(self) -> str:
        return self.response_key or f"{self.name.lower()}response"


class DuplicateCommand(Exception):
    """Two families declare the same command name."""


class Registry:
    """Commands by name (the name is case-sensitive, as in CloudStack)."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self._commands: dict[str, Command] = {}
        for command in commands:
            if command.name in self._commands:
                raise DuplicateCommand(f"API command {command.name} is declared twice")
            self._commands[command.name] = command

    @classmethod
    def of(cls, *families: Iterable[Command]) -> Registry:
        return cls(command for family in families for command in family)

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def __iter__(self) -> Iterator[Command]:
        return iter(sorted(self._commands.values(), key=lambda command: command.name))

    def __len__(self) -> int:
        return len(self._commands)
