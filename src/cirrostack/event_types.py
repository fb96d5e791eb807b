"""Event type names: CloudStack's catalogue, and every type cirrostack can write.

``event.type`` holds these names. Three sources make up what listEventTypes answers:

- ``CLOUDSTACK``: names from CloudStack's ``EventTypes`` for the resources cirrostack manages
  (schema reference, section 8, plus accounts, domains, infrastructure, offerings and
  configuration), so a client filtering ``listEvents type=VM.START`` finds the name it knows;
- the ``event`` of every API command (``ACCOUNT.CREATE``), passed in by the caller;
- the state gate's bindings: one type per state machine (``VM.STATE``, ``HOST.STATUS``, ...),
  cirrostack's additions for the transition log, listed in ``CIRROSTACK``.
"""

from __future__ import annotations

from collections.abc import Iterable

from cirrostack.states import bindings

_VM = (
    "VM.CREATE VM.DESTROY VM.START VM.STOP VM.REBOOT VM.UPDATE VM.UPGRADE VM.DYNAMIC.SCALE "
    "VM.RESETPASSWORD VM.RESETSSHKEY VM.RESETUSERDATA VM.MIGRATE VM.MOVE VM.RESTORE VM.EXPUNGE "
    "VM.IMPORT VM.UNMANAGE VM.RECOVER"
)
_VOLUME = (
    "VOLUME.CREATE VOLUME.DELETE VOLUME.ATTACH VOLUME.DETACH VOLUME.EXTRACT VOLUME.UPLOAD "
    "VOLUME.MIGRATE VOLUME.RESIZE VOLUME.UPDATE VOLUME.DESTROY VOLUME.RECOVER VOLUME.IMPORT "
    "VOLUME.UNMANAGE VOLUME.CHANGE.DISK.OFFERING VOLUME.CHECK VOLUME.DETAIL.ADD "
    "VOLUME.DETAIL.UPDATE VOLUME.DETAIL.REMOVE"
)
_SNAPSHOT = (
    "SNAPSHOT.CREATE SNAPSHOT.DELETE SNAPSHOT.COPY SNAPSHOT.REVERT SNAPSHOT.EXTRACT "
    "SNAPSHOT.ON_PRIMARY SNAPSHOT.OFF_PRIMARY SNAPSHOTPOLICY.CREATE SNAPSHOTPOLICY.UPDATE "
    "SNAPSHOTPOLICY.DELETE"
)
_TEMPLATE = (
    "TEMPLATE.CREATE TEMPLATE.DELETE TEMPLATE.UPDATE TEMPLATE.COPY TEMPLATE.EXTRACT "
    "TEMPLATE.UPLOAD TEMPLATE.CLEANUP TEMPLATE.DOWNLOAD.START TEMPLATE.DOWNLOAD.SUCCESS "
    "TEMPLATE.DOWNLOAD.FAILED ISO.CREATE ISO.DELETE ISO.UPDATE ISO.COPY ISO.ATTACH ISO.DETACH "
    "ISO.EXTRACT ISO.UPLOAD"
)
_STORAGE = (
    "MAINT.PREPARE.PS MAINT.CANCEL.PS UPDATE.PS ENABLE.PS DISABLE.PS SYNC.STORAGE.POOL "
    "CHANGE.STORAGE.POOL.SCOPE IMAGE.STORE.MIGRATE.DATA"
)
_OFFERINGS = (
    "SERVICE.OFFERING.CREATE SERVICE.OFFERING.EDIT SERVICE.OFFERING.DELETE "
    "DISK.OFFERING.CREATE DISK.OFFERING.EDIT DISK.OFFERING.DELETE"
)
_NETWORK = (
    "NET.IPASSIGN NET.IPRELEASE NETWORK.CREATE NETWORK.DELETE NETWORK.UPDATE NETWORK.RESTART "
    "NETWORK.OFFERING.ASSIGN NETWORK.OFFERING.REMOVE"
)
_IDENTITY = (
    "ACCOUNT.CREATE ACCOUNT.DELETE ACCOUNT.ENABLE ACCOUNT.DISABLE ACCOUNT.UPDATE "
    "USER.LOGIN USER.LOGOUT USER.CREATE USER.DELETE USER.DISABLE USER.UPDATE USER.ENABLE "
    "USER.LOCK REGISTER.USER.KEY DOMAIN.CREATE DOMAIN.DELETE DOMAIN.UPDATE "
    "ROLE.CREATE ROLE.UPDATE ROLE.DELETE"
)
_INFRASTRUCTURE = (
    "ZONE.CREATE ZONE.EDIT ZONE.DELETE POD.CREATE POD.EDIT POD.DELETE MAINT.PREPARE "
    "MAINT.CANCEL HOST.RECONNECT CONFIGURATION.VALUE.EDIT"
)

_GROUPS = (_VM, _VOLUME, _SNAPSHOT, _TEMPLATE, _STORAGE, _OFFERINGS, _NETWORK, _IDENTITY)

#: CloudStack's names for what cirrostack manages (``com.cloud.event.EventTypes``).
CLOUDSTACK: frozenset[str] = frozenset(
    word for group in (*_GROUPS, _INFRASTRUCTURE) for word in group.split()
)

#: cirrostack's own names: one per state machine (the gate's transition log), and the
#: archiving or deleting of events, which CloudStack does not record.
CIRROSTACK: frozenset[str] = frozenset(
    {binding.event_type for binding in bindings.ALL} | {"EVENT.ARCHIVE", "EVENT.DELETE"}
)


def known(command_events: Iterable[str]) -> list[str]:
    """Every event type cirrostack can write, sorted: CloudStack's, ours, the commands'."""
    return sorted(CLOUDSTACK | CIRROSTACK | set(command_events))
