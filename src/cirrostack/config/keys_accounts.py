"""Logins and passwords: the lockout, the password policy, operations on users of one's account.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey, Scope

# --- Logins and passwords ----------------------------------------------------------------------

_DOMAIN_SCOPE, _POLICY = Scope.DOMAIN, "PasswordPolicyImpl"

INCORRECT_LOGIN_ATTEMPTS_ALLOWED = ConfigKey(
    "incorrect.login.attempts.allowed",
    int,
    5,
    "Incorrect login attempts allowed before the user is disabled (when value > 0). If value "
    "<= 0 users are not disabled after failed login attempts. Root admins are never disabled "
    "this way (as in CloudStack); a good login, or enableUser, resets the count",
    component="ManagementServer",
)


def _policy_count(name: str, description: str) -> ConfigKey[int]:
    """A password.policy.* minimum (0 means no requirement), settable per domain."""
    return ConfigKey(
        name, int, 0, description, component=_POLICY, scopes=(_DOMAIN_SCOPE,), minimum=0
    )


PASSWORD_POLICY_MINIMUM_SPECIAL_CHARACTERS = _policy_count(
    "password.policy.minimum.special.characters",
    "Minimum number of special characters that the user's password must have. Any character "
    "that is neither a letter nor numeric is considered special. The value 0 means the user's "
    "password does not require any special characters.",
)
PASSWORD_POLICY_MINIMUM_LENGTH = _policy_count(
    "password.policy.minimum.length",
    "Minimum length that the user's password must have. The value 0 means the user's password "
    "can have any length.",
)
PASSWORD_POLICY_MINIMUM_UPPERCASE_LETTERS = _policy_count(
    "password.policy.minimum.uppercase.letters",
    "Minimum number of uppercase letters [A-Z] that the user's password must have. The value 0 "
    "means the user's password does not require any uppercase letters.",
)
PASSWORD_POLICY_MINIMUM_LOWERCASE_LETTERS = _policy_count(
    "password.policy.minimum.lowercase.letters",
    "Minimum number of lowercase letters [a-z] that the user's password must have. The value 0 "
    "means the user's password does not require any lowercase letters.",
)
PASSWORD_POLICY_MINIMUM_DIGITS = _policy_count(
    "password.policy.minimum.digits",
    "Minimum number of numeric characters [0-9] that the user's password must have. The value "
    "0 means the user's password does not require any numeric characters.",
)
PASSWORD_POLICY_ALLOW_PASSWORD_TO_CONTAIN_USERNAME = ConfigKey(
    "password.policy.allowPasswordToContainUsername",
    bool,
    True,
    "Indicates if the user's password may contain their username. Set 'true' (default) if it "
    "is allowed, otherwise set 'false'.",
    component=_POLICY,
    scopes=(_DOMAIN_SCOPE,),
)
PASSWORD_POLICY_REGEX = ConfigKey(
    "password.policy.regex",
    str,
    ".+",
    "A regular expression that the user's password must match. The default expression '.+' "
    "will match with any password.",
    component=_POLICY,
    scopes=(_DOMAIN_SCOPE,),
)
ALLOW_OPERATIONS_ON_USERS_IN_SAME_ACCOUNT = ConfigKey(
    "allow.operations.on.users.in.same.account",
    bool,
    True,
    "Allow operations on users among them in the same account (setting another user's "
    "password or API keys, locking, disabling or enabling it); read at the caller's domain",
    component="AccountManager",
    scopes=(_DOMAIN_SCOPE,),
)
