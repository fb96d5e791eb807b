"""Unique keys the API user can run into, and the message each one answers.

Called by the API's error mapping (``api.errors.from_exception``) when the database refuses a
row: the check before an insert is only a courtesy, the unique key is what settles a race, so
the losing request must get the same clear CloudStack error (431) as a sequential duplicate.

``DUPLICATES`` is the one table from constraint name to message; add a row with every unique
key a request can hit. ``db.unique`` reads the key's name from each driver's error; services
that know the names involved use its ``refusing`` for a message naming them.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from cirrostack import errors
from cirrostack.db import failures, unique

DUPLICATES: dict[str, str] = {
    # The live-name keys of migration 0004; the services answer them with the names in the
    # text (``unique.refusing``), these are the fallback when another path hits them.
    "uq_domain_parent_live_name": "A domain with this name already exists under the parent",
    "uq_account_domain_id_live_name": "An account with this name already exists in the domain",
    "uq_user_domain_id_live_name": "A user with this username already exists in the domain",
    "uq_data_center_live_name": "A zone with this name already exists",
    "uq_host_pod_ref_data_center_id_live_name": "A pod with this name already exists in the zone",
    "uq_cluster_pod_id_live_name": "A cluster with this name already exists in the pod",
    "uq_host_pod_ref_name_data_center_id": "A pod with this name already exists in the zone",
    "uq_cluster_pod_id_name": "A cluster with this name already exists in the pod",
    "uq_user_api_key": "This API key is already in use; generate the keys again",
    "uq_host_guid": "A host with this agent guid already exists",
    # Migration 0008's keys over live hosts (``infrastructure.hosts`` answers them with names).
    "uq_host_data_center_id_live_name": "A host with this name already exists in the zone",
    "uq_host_data_center_id_live_address": "Another host of the zone has this address",
    "uq_host_details_host_id_name": "The host already has a detail with this name",
    "uq_resource_tags_resource_id_resource_type_key": (
        "The resource already has a tag with this key"
    ),
}


class Duplicate(errors.InvalidParameterValue):
    """A unique key refused the row: the name (or other unique value) is already taken."""

    def __init__(self, constraint: str, message: str) -> None:
        super().__init__(message)
        self.constraint = constraint


def duplicate_of(exc: BaseException) -> Duplicate | None:
    """The typed error for a unique violation on a known key; None for anything else."""
    if not isinstance(exc, sa_exc.IntegrityError) or failures.kind(exc) is not (
        failures.Kind.DUPLICATE
    ):
        return None
    name = constraint_name(exc)
    if name is None or name not in DUPLICATES:
        return None
    return Duplicate(name, DUPLICATES[name])


def constraint_name(exc: sa_exc.IntegrityError) -> str | None:
    """The name of the unique key ``exc`` names, on any backend; None when it cannot tell
    (``unique.violated_key`` reads each driver's form)."""
    return unique.violated_key(exc)
