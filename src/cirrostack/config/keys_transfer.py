"""Volume transfers: uploadVolume's size bound, extractVolume's links and their lifetime.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _STORAGE

STORAGE_MAX_VOLUME_UPLOAD_SIZE = ConfigKey(
    "storage.max.volume.upload.size",
    int,
    500,
    "The maximum size for a uploaded volume(in GB); the agent stops a download that grows past it",
    category="Storage",
    component=_STORAGE,
    minimum=1,
)
DISABLE_EXTRACTION = ConfigKey(
    "disable.extraction",
    bool,
    False,
    "Flag for disabling extraction of templates, isos, snapshots and volumes (extractVolume "
    "refuses while it is true)",
    category="Advanced",
    component=_STORAGE,
)
EXTRACT_URL_EXPIRATION_INTERVAL = ConfigKey(
    "extract.url.expiration.interval",
    int,
    14400,
    "The life of an extract URL after which it is deleted (seconds): the link answers 404 "
    "once it has expired and its copy is deleted by the next cleanup",
    category="Advanced",
    component=_STORAGE,
    minimum=1,
)
EXTRACT_URL_CLEANUP_INTERVAL = ConfigKey(
    "extract.url.cleanup.interval",
    int,
    7200,
    "The interval (in seconds) to wait before cleaning up the extract URL's: how often the "
    "management server deletes the copies of expired links",
    category="Advanced",
    component=_STORAGE,
    minimum=1,
)
EXTRACT_URL_BASE = ConfigKey(
    "extract.url.base",
    str,
    "http://localhost:8080",
    "cirrostack: the scheme, host and port clients reach this management server at; extract "
    "links are <this>/client/extract/<token>/<file> (CloudStack serves them from its SSVM)",
    category="Advanced",
    component=_STORAGE,
)
