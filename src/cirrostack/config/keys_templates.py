"""Templates and ISOs: where they may be downloaded from, how large they may be.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _stored

_TEMPLATES = "TemplateManager"

SECSTORAGE_ALLOWED_INTERNAL_SITES = ConfigKey(
    "secstorage.allowed.internal.sites",
    str,
    "",
    "Comma separated list of cidrs internal to the datacenter that can host template download "
    "servers, please note 0.0.0.0 is not a valid site (checked at registration and again by "
    "the agent at download time)",
    category="Advanced",
    component=_TEMPLATES,
)
MAX_TEMPLATE_ISO_SIZE = ConfigKey(
    "max.template.iso.size",
    int,
    50,
    "The maximum size for a downloaded template or ISO (in GB); the agent stops a download "
    "that grows past it",
    category="Advanced",
    component=_TEMPLATES,
    minimum=1,
)
STORE_DOWNLOAD_FOLLOW_REDIRECTS = _stored(
    ConfigKey(
        "store.download.follow.redirects",
        bool,
        False,
        "Whether template downloads follow HTTP redirects; cirrostack never follows them (a "
        "redirect could lead past the URL checks), whatever this says",
        category="Advanced",
        component=_TEMPLATES,
    )
)
