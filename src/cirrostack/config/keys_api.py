"""The API: where a session key may come from, its cookie, and what listCapabilities answers.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _ACCOUNT

# --- Sessions and cross-site requests (http) ---------------------------------------------------

#: Where a request's session key may come from; CloudStack's ApiSessionKeyCheckOption values.
SESSION_KEY_LOCATIONS = ("CookieOrParameter", "ParameterOnly", "CookieAndParameter")
API_SESSIONKEY_CHECK_LOCATIONS = ConfigKey(
    "api.sessionkey.check.locations",
    str,
    "CookieAndParameter",
    "The locations of 'sessionkey' during the validation of the API requests. Valid options "
    "are: CookieOrParameter, ParameterOnly, CookieAndParameter (default).",
    component="ApiServer",
    choices=SESSION_KEY_LOCATIONS,
)
API_SESSIONKEY_COOKIE_SAMESITE = ConfigKey(
    "api.sessionkey.cookie.samesite",
    str,
    "Lax",
    "The SameSite attribute of cookie 'sessionkey'. Valid options are: Lax (default), Strict, "
    "NoneAndSecure and Null.",
    component="ApiServer",
    choices=("Lax", "Strict", "NoneAndSecure", "Null"),
)

# --- configuration truth (config) -------------------------------------------------------------

ALLOW_USER_VIEW_DESTROYED_VM = ConfigKey(
    "allow.user.view.destroyed.vm",
    bool,
    False,
    "Whether users can view their destroyed or expunging VMs (listCapabilities answers it as "
    "allowuserviewdestroyedvm)",
    component="QueryManager",
    scopes=(_ACCOUNT,),
)
ALLOW_PUBLIC_USER_TEMPLATES = ConfigKey(
    "allow.public.user.templates",
    bool,
    True,
    "If false, users will not be able to create public templates (listCapabilities answers it "
    "as userpublictemplateenabled)",
    component="TemplateManager",
    scopes=(_ACCOUNT,),
)
ALLOW_USER_CREATE_PROJECTS = ConfigKey(
    "allow.user.create.projects",
    bool,
    True,
    "If regular user can create a project; true by default (listCapabilities answers it as "
    "allowusercreateprojects)",
    category="Project Defaults",
    component="management-server",
    is_dynamic=False,
)
PROJECT_INVITE_REQUIRED = ConfigKey(
    "project.invite.required",
    bool,
    False,
    "If invitation confirmation is required when add account to project (listCapabilities "
    "answers it as projectinviterequired)",
    category="Project Defaults",
    component="management-server",
    is_dynamic=False,
)
