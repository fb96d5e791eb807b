"""From a parsed request to an answer: the one path every API command takes.

    find ─► identify + role rules ─► signature ─► parameters ─► before ─► the command's
     │      (short transaction)      (none open)                (none open)  transaction
     │ 401       │ 401/503              │ 401       │ 430/431     │ mapped     │ mapped error
     ▼           ▼                      ▼           ▼             ▼            ▼
                          CloudStack error envelope, HTTP status = errorcode

Called by the HTTP edge (``api.app``) in a worker thread. Nothing here knows about HTTP beyond
method, pairs and cookies, so tests can drive it directly.

No slow work runs inside a transaction: the signature (HMAC over up to 12 canonical forms) is
checked after the lookup's transaction ended, and a command's ``before`` step (password hashing,
a login's password check) runs with none open. A read-only command's transaction takes no
SQLite write lock. Each transaction runs again after a lost race (``db.transactions``).

No input reaches an unhandled exception: a database outage is answered 503 and logged once per
outage; anything unexpected is logged with its traceback and answered as a 530, and the
transaction is rolled back, so nothing is half-written.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cirrostack.accounts import access, roles
from cirrostack.api import audit, auth, errors, jobs, params, registry, responses
from cirrostack.db import base, failures, outage, transactions
from cirrostack.jobs import runner

log = logging.getLogger(__name__)

ERROR_KEY = "errorresponse"


@dataclass(frozen=True)
class Answer:
    """What the transport sends back."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


class Dispatcher:
    """Runs API commands from a registry against the database behind ``sessions``."""

    def __init__(
        self,
        commands: registry.Registry,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], datetime.datetime] = base.utcnow,
        services: registry.Services | None = None,
        handoff: Callable[[], None] | None = None,
    ) -> None:
        """``handoff`` is called after an async command's job is committed (the worker
        pool's ``wake``); without one, jobs run inline in the requesting thread."""
        self.commands = commands
        self.sessions = sessions
        self.clock = clock
        self.services = dataclasses.replace(
            services or registry.Services(), registry=commands, sessions=sessions
        )
        inline = runner.Inline(sessions, jobs.command_runner(commands, sessions, self.services))
        self.handoff = handoff or inline.submitted
        self.outage = outage.Watch(log, "API")

    def handle(self, request: auth.Request) -> Answer:
        """Answer one request; never raises."""
        name = request.first("command")
        command = self.commands.get(name or "")
        if command is None:
            return _error_answer(ERROR_KEY, _unknown_command(name))
        try:
            answer = self._run(command, request)
        except Exception as exc:
            error = self._failure(command, exc)
            return _error_answer(ERROR_KEY if error.auth_failure else command.key, error)
        self.outage.succeeded(wrote=not command.read_only)
        return answer

    def quick_read(self, request: auth.Request) -> bool:
        """Whether ``request`` is a small signed read (``_one_read``): CPU and local reads
        only, never an agent exchange or a lock wait, so the edge runs such requests on a few
        threads (more would only take turns at the interpreter lock)."""
        command = self.commands.get(request.first("command") or "")
        return command is not None and _one_read(command, request)

    def _failure(self, command: registry.Command, exc: Exception) -> errors.ApiError:
        """The answer to a failed request; an outage is logged once, a bug with its traceback."""
        if isinstance(exc, errors.ApiError):
            return exc
        self.outage.failed(exc)
        return _mapped(command, exc)

    def _run(self, command: registry.Command, request: auth.Request) -> Answer:
        if command.post_only and request.method != "POST":
            raise errors.ApiError(
                errors.ErrorCode.METHOD_NOT_ALLOWED,
                f"Please use HTTP POST to call {command.name}",
            )
        now = self.clock()
        if _one_read(command, request):
            return self._read_call(command, request, now)
        caller = None if command.public else self._authorised(command, request, now)
        plain, maps = params.collect(request.pairs)
        args = params.parse_all(command.name, command.params, plain, maps)
        template = registry.Call(
            session=_NO_SESSION,
            caller=caller,
            args=args,
            command=command,
            now=now,
            services=self.services,
            request=request,
        )
        done = self._transaction(self._before(template))
        if command.is_async or command.starts_jobs:
            self.handoff()
        headers = [("Set-Cookie", cookie) for cookie in done.cookies]
        return Answer(200, responses.envelope(command.key, done.answer), headers)

    def _read_call(
        self, command: registry.Command, request: auth.Request, now: datetime.datetime
    ) -> Answer:
        """A small signed request for a read-only command: identify, check the signature and
        run the command in one read-only transaction (no write lock on SQLite; the signature
        over a few parameters costs microseconds, see ``_one_read``)."""

        def work(session: Session) -> dict[str, Any]:
            identity, caller, allowed = _who(session, command, request, now, touch=False)
            auth.check(identity, request, now)
            if not allowed:
                raise _unknown_command(command.name)
            plain, maps = params.collect(request.pairs)
            call = registry.Call(
                session=session,
                caller=caller,
                args=params.parse_all(command.name, command.params, plain, maps),
                command=command,
                now=now,
                services=self.services,
                request=request,
            )
            return self._execute(session, call)

        answer = transactions.run(self.sessions, work, read=True, name=command.name)
        return Answer(200, responses.envelope(command.key, answer))

    def _authorised(
        self, command: registry.Command, request: auth.Request, now: datetime.datetime
    ) -> access.Caller:
        """The caller, found in one short transaction and proven with none open.

        The signature is checked after the lookup's transaction has ended, so its CPU cost
        holds no lock; the role decision is taken in the lookup but acted on only after the
        signature held, so a forged request cannot learn what the key's role may run.
        """
        writes = auth.writes_on_identify(request)
        try:
            identity, caller, allowed = self._lookup(command, request, now, touch=writes)
        except Exception as exc:
            if not writes or outage.outage_of(exc) is not failures.Kind.FULL:
                raise
            # The disk is full: a session is still read (not refreshed), so reads are served.
            identity, caller, allowed = self._lookup(command, request, now, touch=False)
        auth.check(identity, request, now)
        if not allowed:
            raise _unknown_command(command.name)
        return caller

    def _lookup(
        self,
        command: registry.Command,
        request: auth.Request,
        now: datetime.datetime,
        *,
        touch: bool,
    ) -> tuple[auth.Identity, access.Caller, bool]:
        """``_who`` in a short transaction: writing only to refresh a session (``touch``)."""
        return transactions.run(
            self.sessions,
            lambda session: _who(session, command, request, now, touch=touch),
            read=not touch,
            name="authentication",
        )

    def _before(self, template: registry.Call) -> registry.Call:
        """Run the command's ``before`` step (no transaction open); a failure is recorded as
        the action's ERROR event, as a failure of its transaction is."""
        command = template.command
        if command.before is None:
            return template
        step = registry.Before(
            template.args,
            template.now,
            self.sessions,
            caller=template.caller,
            request=template.request,
            services=self.services,
        )
        try:
            return dataclasses.replace(template, prepared=command.before(step))
        except Exception as exc:
            self._record_failure(template, errors.from_exception(exc))
            raise

    def _transaction(self, template: registry.Call) -> _Done:
        """Run the command in its own transaction (read-only ones take no SQLite write lock),
        again after a lost race; a failure is recorded as the action's ERROR event."""
        calls: list[registry.Call] = []

        def work(session: Session) -> _Done:
            call = dataclasses.replace(template, session=session, cookies=[])
            calls.append(call)
            return _Done(self._execute(session, call), call.cookies)

        try:
            return transactions.run(
                self.sessions, work, read=template.command.read_only, name=template.command.name
            )
        except Exception as exc:
            if calls:
                self._record_failure(calls[-1], errors.from_exception(exc))
            raise

    def _record_failure(self, call: registry.Call, error: errors.ApiError) -> None:
        """An authenticated action that failed still leaves its ERROR event (the action's own
        transaction was rolled back, so the event gets one of its own)."""
        if call.command.event is None or call.caller is None:
            return
        if error.code == errors.ErrorCode.SERVICE_UNAVAILABLE:
            return  # the database cannot take it; the outage is logged once elsewhere
        try:
            with self.sessions() as session:
                audit.record(dataclasses.replace(call, session=session), error)
                session.commit()
        except Exception as exc:
            if outage.outage_of(exc) is None:
                log.exception("could not record the failure event of %s", call.command.name)

    def _execute(self, session: Session, call: registry.Call) -> dict[str, Any]:
        """Run a sync command's handler, or submit an async command's job."""
        if call.command.is_async:
            return jobs.submit(session, call)
        body = responses.content(call.command.handler(call))
        audit.record(call, None)
        return body


@dataclass(frozen=True)
class _Done:
    """A committed command: its answer body and the cookies it set."""

    answer: dict[str, Any]
    cookies: list[str]


#: The placeholder session of a call template; each run of the transaction gets its own.
_NO_SESSION: Any = None


def _who(
    session: Session,
    command: registry.Command,
    request: auth.Request,
    now: datetime.datetime,
    *,
    touch: bool,
) -> tuple[auth.Identity, access.Caller, bool]:
    """The identity, caller and role decision of a request (called in a short transaction)."""
    identity = auth.identify(session, request, now, touch=touch)
    caller = auth.caller(identity)
    allowed = caller.role_type in command.authorized and roles.rules_allow(
        session, caller.role_id, command.name
    )
    return identity, caller, allowed


#: Up to this many parameters, a read-only command's signature is checked inside its read
#: transaction (``_read_call``): the check is a few HMACs over a short string. Larger requests
#: (up to 10,000 parameters, about 2 s of CPU for a forged one) take the three-step path.
ONE_READ_MAX_PAIRS = 64


def _one_read(command: registry.Command, request: auth.Request) -> bool:
    """Whether ``request`` runs in one read-only transaction: a signed (not session: resuming
    one writes its idle timer), small request for a read-only command without a before step.

    Such requests share one thread at the edge (``app.READ_THREADS``): a read-only command
    must wait on nothing but the database (no agent exchange, no lock); one that would must
    say ``writes=True`` or have a ``before`` step."""
    return (
        command.read_only
        and not command.public
        and command.before is None
        and len(request.pairs) <= ONE_READ_MAX_PAIRS
        and not auth.writes_on_identify(request)
    )


def _mapped(command: registry.Command, exc: Exception) -> errors.ApiError:
    """The API error for ``exc``; an unexpected one is logged with its traceback first."""
    error = errors.from_exception(exc)
    if (
        error.code == errors.ErrorCode.INTERNAL_ERROR
        and error.cs_code == errors.CsErrorCode.CLOUD_RUNTIME
    ):
        log.error("command %s failed unexpectedly", command.name, exc_info=exc)
    return error


def _unknown_command(name: str | None) -> errors.ApiError:
    return errors.unauthenticated(
        f"The given command '{name or ''}' does not exist or it is not available for the user"
    )


def _error_answer(key: str, error: errors.ApiError) -> Answer:
    headers = [] if error.auth_failure else [("X-Description", _header_safe(error.text))]
    return Answer(int(error.code), responses.envelope(key, errors.body(error)), headers)


def _header_safe(text: str) -> str:
    """Header values must be printable ASCII: no CR/LF injection, no encoding errors."""
    ascii_text = text.encode("ascii", "backslashreplace").decode("ascii")
    return "".join(char if 32 <= ord(char) < 127 else " " for char in ascii_text)[:1024]
