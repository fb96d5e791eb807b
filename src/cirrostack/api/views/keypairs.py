"""The ``sshkeypair`` (lists) and ``keypair`` (create, register) objects: CloudStack's
fields; ``privatekey`` only in createSSHKeyPair's answer, the one time it exists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import owners
from cirrostack.db.models import attachments as models

KEYPAIR = ObjectSpec(
    "sshkeypair",
    (
        Field("id", "string", "ID of the ssh keypair"),
        Field("name", "string", "Name of the keypair"),
        Field("fingerprint", "string", "Fingerprint of the public key"),
        *owners.FIELDS,
        Field("privatekey", "string", "Private key (createSSHKeyPair only)"),
    ),
)


def keypair_items(session: Session, found: Sequence[models.SshKeyPair]) -> list[dict[str, Any]]:
    who = owners.of(session, [pair.account_id for pair in found])
    return [
        responses.compact(
            {
                "id": pair.uuid,
                "name": pair.keypair_name,
                "fingerprint": pair.fingerprint,
                **who.fields(pair.account_id),
            }
        )
        for pair in found
    ]
