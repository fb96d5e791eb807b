"""login and logout: username/password sessions for cloudmonkey, cmk and browsers.

login is POST only (405 otherwise). The password is checked in login's ``before`` step, with no
transaction open (PBKDF2 holds no lock); the login's own transaction only opens the session.

Its answer carries the session key in the JSON and, as
CloudStack does, in a ``sessionkey`` cookie beside ``JSESSIONID`` (cmk reads the cookie).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import events
from cirrostack.accounts import access, domains, passwords, sessions
from cirrostack.api import errors, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.config import keys as config_keys
from cirrostack.config import settings as config_settings
from cirrostack.db import transactions
from cirrostack.db.models import accounts as models

_COOKIE_FLAGS = "Path=/client; HttpOnly; SameSite=Lax"
#: ``api.sessionkey.cookie.samesite`` → the attributes of the ``sessionkey`` cookie.
_SAME_SITE = {
    "Lax": "; SameSite=Lax",
    "Strict": "; SameSite=Strict",
    "NoneAndSecure": "; SameSite=None; Secure",
    "Null": "",
}


@dataclass(frozen=True)
class _Checked:
    """What login's ``before`` step proved: the user, and the domain named."""

    found: sessions.Candidate
    domain: models.Domain | None


def check_password(before: registry.Before) -> _Checked:
    """login's ``before`` step: find the user in a short read, then check the password (PBKDF2,
    about 60 ms of CPU) with no transaction open; raises the 531 of a failed login."""
    username, password = before.args["username"], before.args["password"]
    try:
        with before.reading() as session:
            domain = _login_domain(session, before.args)
            found = sessions.candidate(session, username, domain) if domain else None
        if domain is None:
            passwords.verify_or_waste(password, None)  # as slow as any other refusal
            raise sessions.LoginFailed(
                f"Failed to authenticate user {username}: unknown domain; "
                "please provide valid credentials"
            )
        if not sessions.verified(found, password):  # one derivation, known user or not
            # A wrong password counts against the user (incorrect.login.attempts.allowed)
            # in a short transaction of its own, committed although the login is refused.
            # An unknown username runs the same transaction (it finds no one to count), so
            # neither the derivation nor the database work tells which usernames exist.
            transactions.run(
                before.sessions,
                lambda session: sessions.count_failure(session, found),
                name="login failure count",
            )
            raise sessions.LoginFailed(sessions.failure_text(username, domain))
    except sessions.LoginFailed as exc:
        raise _failed(exc) from exc
    assert found is not None  # verified() is False without a user
    return _Checked(found, domain)


def login(call: registry.Call) -> responses.Reply:
    checked: _Checked = call.prepared
    try:
        opened = sessions.open_session(
            call.session, checked.found, call.get("username"), checked.domain, now=call.now
        )
    except sessions.LoginFailed as exc:
        raise _failed(exc) from exc
    owner_actor = access.caller_of(call.session, opened.owner.user)
    events.record(
        call.session,
        owner_actor,
        "USER.LOGIN",
        f"user {opened.owner.user.username} has logged in",
        resource_type="User",
        resource_id=opened.owner.user.id,
    )
    call.cookies.append(f"JSESSIONID={opened.jsessionid}; {_COOKIE_FLAGS}")
    call.cookies.append(f"sessionkey={opened.session_key}; {_sessionkey_flags(call)}")
    owner = opened.owner
    return responses.Fields(
        responses.compact(
            {
                "timeout": int(opened.timeout.total_seconds()),
                "username": owner.user.username,
                "userid": owner.user.uuid,
                "domainid": owner.domain.uuid,
                "account": owner.account.account_name,
                "firstname": owner.user.firstname,
                "lastname": owner.user.lastname,
                "type": str(owner.account.type),
                "timezone": owner.user.timezone,
                "registered": "false",
                "sessionkey": opened.session_key,
                "is2faenabled": "false",
                "is2faverified": "true",
            }
        )
    )


def _sessionkey_flags(call: registry.Call) -> str:
    """The ``sessionkey`` cookie's attributes; its SameSite is CloudStack's setting."""
    same_site = config_settings.Settings(call.session).get(
        config_keys.API_SESSIONKEY_COOKIE_SAMESITE
    )
    return "Path=/client; HttpOnly" + _SAME_SITE[same_site]


def _failed(exc: sessions.LoginFailed) -> errors.ApiError:
    return errors.ApiError(errors.ErrorCode.ACCOUNT_ERROR, str(exc), cs_code=None)


def _login_domain(session: Session, args: dict[str, Any]) -> models.Domain | None:
    """``domainId`` (uuid or numeric id) wins over ``domain`` (a path below ROOT); None when
    neither names a live domain."""
    wanted = args.get("domainId")
    if wanted is not None:
        # An internal id is 1 to 18 ASCII digits (it fits every backend's BIGINT); anything
        # else is compared as a uuid. Neither form matching is an ordinary login failure.
        numeric = re.fullmatch(r"[0-9]{1,18}", wanted) is not None
        column = models.Domain.id if numeric else models.Domain.uuid
        value: object = int(wanted) if numeric else wanted
        found = session.scalars(
            sa.select(models.Domain).where(column == value, models.Domain.removed.is_(None))
        ).first()
    else:
        found = domains.by_path(session, domains.normalise_path(args.get("domain")))
    return found


def logout(call: registry.Call) -> responses.Reply:
    request = call.request
    key = request and (request.first("sessionkey") or request.cookies.get("sessionkey"))
    if key:
        sessions.logout(call.session, key)
    call.cookies.append(f"JSESSIONID=; Max-Age=0; {_COOKIE_FLAGS}")
    call.cookies.append(f"sessionkey=; Max-Age=0; {_COOKIE_FLAGS}")
    return responses.Fields({"description": "success"})


COMMANDS = (
    registry.Command(
        "login",
        login,
        "Logs a user into the CloudStack. A successful login attempt will generate a JSESSIONID "
        "cookie value that can be passed in subsequent Query command calls until the logout "
        "command has been issued or the session has expired.",
        (
            P("username", T.STRING, "Username", required=True),
            P("password", T.STRING, "Clear text password", required=True),
            P("domain", T.STRING, "Path of the domain the user belongs to, e.g. /sub; / is ROOT"),
            P("domainId", T.STRING, "ID of the domain the user belongs to; wins over domain"),
        ),
        public=True,
        post_only=True,
        before=check_password,
    ),
    registry.Command(
        "logout",
        logout,
        "Logs out the user",
        event="USER.LOGOUT",
    ),
)
