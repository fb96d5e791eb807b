"""Agents, jobs, API paging and events: pings, job workers and leases, purges.

Part of ``config.keys``, which re-exports every key here and registers it; read a key as
``keys.NAME`` through ``config.settings.Settings``, never from this module.
"""

from __future__ import annotations

from cirrostack.config.definitions import ConfigKey
from cirrostack.config.keys_base import _AGENT, _JOBS, _stored, _whole

# --- Agents, jobs, API, events -----------------------------------------------------------------

PING_INTERVAL = _whole("ping.interval", 60, "Seconds between the pings a host agent sends", _AGENT)
PING_TIMEOUT = ConfigKey(
    "ping.timeout",
    float,
    2.5,
    "Multiplier on ping.interval after which a host that has not pinged is considered lost",
    component=_AGENT,
    minimum=1.0,
)
AGENT_COMMAND_INACTIVITY_TIMEOUT = ConfigKey(
    "agent.command.inactivity.timeout",
    float,
    60.0,
    "Seconds a command sent to a host agent may go without progress or answer before the "
    "management server cancels it and fails (a command that keeps reporting progress may run "
    "as long as it needs; a command's own wait, when set, replaces this)",
    component=_AGENT,
    minimum=0.1,
)
JOB_EXPIRE_MINUTES = _stored(
    _whole(
        "job.expire.minutes",
        1440,
        "Minutes a finished async job is kept before it is purged",
        _JOBS,
    )
)
JOB_CANCEL_THRESHOLD_MINUTES = _whole(
    "job.cancel.threshold.minutes",
    60,
    "Minutes an async job may run without showing activity (its steps, checkpoints, agent "
    "progress) before it is failed as stuck; its lease is not renewed past it and its "
    "resources are recovered",
    _JOBS,
    minimum=1,
)
JOB_WORKERS = _whole(
    "job.workers",
    4,
    "cirrostack: number of async-job worker threads of each management server",
    _JOBS,
    maximum=256,
    is_dynamic=False,
)
JOB_LEASE_SECONDS = _whole(
    "job.lease.seconds",
    60,
    "cirrostack: seconds a worker's claim on a job lasts without a heartbeat (heartbeats "
    "come every third of it); a job whose lease ran out is taken over by the reaper. Read "
    "at each claim and heartbeat, so a new value applies without a restart",
    _JOBS,
    minimum=5,
)
DEFAULT_PAGE_SIZE = ConfigKey(
    "default.page.size",
    int,
    500,
    "Items a list answers without page/pagesize, and the largest pagesize allowed",
    component="ManagementServer",
    minimum=1,
    is_dynamic=False,
)
EVENT_PURGE_DELAY = _stored(
    ConfigKey(
        "event.purge.delay",
        int,
        15,
        "Days an event is kept before it is purged; 0 keeps events forever",
        component="ManagementServer",
        minimum=0,
    )
)
EVENT_PURGE_INTERVAL = _stored(
    _whole(
        "event.purge.interval",
        86400,
        "Seconds between runs of the event purge task",
        "ManagementServer",
    )
)
