"""From a parsed request to an answer: the one path every API command takes.

    find the command ─► authenticate ─► role rules ─► parse parameters ─► run in a transaction
         │ 401                │ 401          │ 401          │ 430/431          │ mapped error
         ▼                    ▼              ▼              ▼                  ▼
                          CloudStack error envelope, HTTP status = errorcode

Called by the HTTP edge (``api.app``) in a worker thread. Nothing here knows about HTTP beyond
method, pairs and cookies, so tests can drive it directly. No input reaches an unhandled
exception: anything unexpected is logged with its traceback and answered as a 530, and the
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
from cirrostack.db import base

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
        services: dict[str, Any] | None = None,
        handoff: Callable[[], None] | None = None,
    ) -> None:
        """``handoff`` is called after an async command's job is committed (the worker
        pool's ``wake``); without one, jobs run inline in the requesting thread."""
        self.commands = commands
        self.sessions = sessions
        self.clock = clock
        self.services = {"registry": commands, **(services or {})}
        inline = jobs.Inline(sessions, jobs.Runner(commands, sessions, self.services))
        self.handoff = handoff or inline.submitted

    def handle(self, request: auth.Request) -> Answer:
        """Answer one request; never raises."""
        name = request.first("command")
        command = self.commands.get(name or "")
        if command is None:
            return _error_answer(ERROR_KEY, _unknown_command(name))
        try:
            return self._run(command, request)
        except errors.ApiError as exc:
            return _error_answer(ERROR_KEY if exc.auth_failure else command.key, exc)
        except Exception:
            log.exception("command %s failed unexpectedly", command.name)
            return _error_answer(command.key, errors.from_exception(RuntimeError()))

    def _run(self, command: registry.Command, request: auth.Request) -> Answer:
        if command.post_only and request.method != "POST":
            raise errors.ApiError(
                errors.ErrorCode.METHOD_NOT_ALLOWED,
                f"Please use HTTP POST to call {command.name}",
            )
        now = self.clock()
        with self.sessions() as session:
            call: registry.Call | None = None
            try:
                call = self._prepare(session, command, request, now)
                body = self._execute(session, call)
                session.commit()
            except Exception as exc:
                session.rollback()
                error = _mapped(command, exc)
                if call is not None:
                    self._record_failure(call, error)
                raise error from exc
        if command.is_async:
            self.handoff()
        headers = [("Set-Cookie", cookie) for cookie in call.cookies]
        return Answer(200, responses.envelope(command.key, body), headers)

    def _record_failure(self, call: registry.Call, error: errors.ApiError) -> None:
        """An authenticated action that failed still leaves its ERROR event (the action's own
        transaction was rolled back, so the event gets one of its own)."""
        try:
            with self.sessions() as session:
                audit.record(dataclasses.replace(call, session=session), error)
                session.commit()
        except Exception:
            log.exception("could not record the failure event of %s", call.command.name)

    def _execute(self, session: Session, call: registry.Call) -> dict[str, Any]:
        """Run a sync command's handler, or submit an async command's job."""
        if call.command.is_async:
            return jobs.submit(session, call)
        body = responses.content(call.command.handler(call))
        audit.record(call, None)
        return body

    def _prepare(
        self,
        session: Session,
        command: registry.Command,
        request: auth.Request,
        now: datetime.datetime,
    ) -> registry.Call:
        caller = None
        if not command.public:
            caller = _authorised(session, command, request, now)
        plain, maps = params.collect(request.pairs)
        args = params.parse_all(command.name, command.params, plain, maps)
        return registry.Call(
            session=session,
            caller=caller,
            args=args,
            command=command,
            now=now,
            services=self.services,
            request=request,
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


def _authorised(
    session: Session, command: registry.Command, request: auth.Request, now: datetime.datetime
) -> access.Caller:
    owner = auth.authenticate(session, request, now)
    caller = access.caller_of(session, owner.user)
    if caller.role_type not in command.authorized or not roles.rules_allow(
        session, caller.role_id, command.name
    ):
        raise _unknown_command(command.name)
    return caller


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
