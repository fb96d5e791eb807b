"""CloudStack's password.policy.* settings, checked whenever a password is chosen.

Called by createAccount, createUser and updateUser (``accounts.users``) with the new clear-text
password, before it is hashed. Each setting is read at the domain of the user the password is
for (domain scope, else global), and the rules run in CloudStack's order with its error texts
(PasswordPolicyImpl): special characters, upper case, lower case, digits, length, username,
regular expression. A count of 0 means no requirement; the defaults accept any password.

Characters are classed as Java's Character does: a special character is neither a letter nor
a decimal digit; letters count as upper or lower case when they have a case.
Raises ``errors.InvalidParameterValue`` (431) naming the rule that failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.config import keys, settings


@dataclass(frozen=True)
class _Counts:
    special: int = 0
    upper: int = 0
    lower: int = 0
    digits: int = 0


def check(session: Session, password: str, username: str, domain_id: int) -> None:
    """Raise InvalidParameterValue unless ``password`` meets the policy of ``domain_id``."""
    value = settings.Settings(session)
    counts = _count(password)
    minimums = (
        (keys.PASSWORD_POLICY_MINIMUM_SPECIAL_CHARACTERS, counts.special, "special characters"),
        (keys.PASSWORD_POLICY_MINIMUM_UPPERCASE_LETTERS, counts.upper, "upper case letters"),
        (keys.PASSWORD_POLICY_MINIMUM_LOWERCASE_LETTERS, counts.lower, "lower case letters"),
        (keys.PASSWORD_POLICY_MINIMUM_DIGITS, counts.digits, "digits"),
        (keys.PASSWORD_POLICY_MINIMUM_LENGTH, len(password), "characters"),
    )
    for key, found, what in minimums:
        minimum = value.get(key, domain_id=domain_id)
        if found < minimum:
            raise errors.InvalidParameterValue(
                f"User password should contain at least [{minimum}] {what}."
            )
    allow_username = value.get(
        keys.PASSWORD_POLICY_ALLOW_PASSWORD_TO_CONTAIN_USERNAME, domain_id=domain_id
    )
    if not allow_username and username.casefold() in password.casefold():
        raise errors.InvalidParameterValue("User password should not contain their username.")
    _check_regex(password, value.get(keys.PASSWORD_POLICY_REGEX, domain_id=domain_id))


def _count(password: str) -> _Counts:
    special = upper = lower = digits = 0
    for char in password:
        if not (char.isalpha() or char.isdecimal()):
            special += 1
        elif char.isupper():
            upper += 1
        elif char.islower():
            lower += 1
        elif char.isdecimal():
            digits += 1
    return _Counts(special, upper, lower, digits)


def _check_regex(password: str, pattern: str) -> None:
    try:
        matched = re.fullmatch(pattern, password) is not None
    except re.error as exc:
        raise errors.InvalidParameterValue(
            f"The password policy regex {pattern!r} (password.policy.regex) is not a valid "
            f"regular expression ({exc}); please contact the administrator"
        ) from exc
    if not matched:
        raise errors.InvalidParameterValue(
            "User password does not match with password policy regex."
        )
