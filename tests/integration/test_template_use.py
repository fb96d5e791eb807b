"""A volume recorded from a template and the template's deletion serialise on the template's
row (storage.template_use): a volume is refused once a delete has begun, and on PostgreSQL and
MariaDB a volume being recorded while a delete holds the row waits for it and is then refused,
instead of being recorded beside copies that are going away."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.accounts import access
from cirrostack.db import base
from cirrostack.db.models import accounts, guest_os, infrastructure, offerings, templates
from cirrostack.db.models import storage as models
from cirrostack.storage import template_use, volumes
from tests.cloud import Cloud
from tests.databases import Database


def _world(cloud: Cloud) -> tuple[int, int, int]:
    """A zone, a disk offering and a template with one Ready copy on an image store."""
    admin = cloud.admin.keys
    zone_uuid = cloud.ok(
        admin,
        "createZone",
        name="z1",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
        networktype="Advanced",
    )["zone"]["id"]
    offering_uuid = cloud.ok(
        admin, "createDiskOffering", name="one", displaytext="one", disksize="1"
    )["diskoffering"]["id"]
    with cloud.sessions() as session:
        zone = session.scalars(
            sa.select(infrastructure.DataCenter).where(infrastructure.DataCenter.uuid == zone_uuid)
        ).one()
        offering = session.scalars(
            sa.select(offerings.DiskOffering).where(offerings.DiskOffering.uuid == offering_uuid)
        ).one()
        account = session.scalars(
            sa.select(accounts.Account).where(accounts.Account.account_name == "admin")
        ).one()
        store = models.ImageStore(
            name="s1",
            protocol="nfs",
            url="nfs://h/p",
            image_provider_name="NFS",
            data_center_id=zone.id,
            scope="ZONE",
        )
        os_id = session.scalars(sa.select(guest_os.GuestOs.id).limit(1)).one()
        template = templates.VmTemplate(
            name="t1",
            format="QCOW2",
            account_id=account.id,
            guest_os_id=os_id,
            created=base.utcnow(),
        )
        session.add_all([store, template])
        session.flush()
        session.add(
            templates.TemplateStoreRef(
                store_id=store.id, template_id=template.id, state="Ready", created=base.utcnow()
            )
        )
        session.commit()
        return zone.id, offering.id, template.id


def _record(session: Session, zone_id: int, offering_id: int, template_id: int) -> None:
    owner = session.scalars(
        sa.select(accounts.Account).where(accounts.Account.account_name == "admin")
    ).one()
    new = volumes.NewVolume(
        name="root",
        offering=session.get_one(offerings.DiskOffering, offering_id),
        zone=session.get_one(infrastructure.DataCenter, zone_id),
        volume_type="ROOT",
        template_id=template_id,
    )
    user = session.scalars(
        sa.select(accounts.User).where(accounts.User.account_id == owner.id)
    ).first()
    assert user is not None
    volumes.create(session, access.caller_of(session, user), owner, new, base.utcnow())


def _start_delete(session: Session, template_id: int) -> None:
    """What deleteTemplate's first step does under the template's lock."""
    template = template_use.lock(session, template_id)
    ref = session.scalars(
        sa.select(templates.TemplateStoreRef).where(
            templates.TemplateStoreRef.template_id == template.id
        )
    ).one()
    ref.state = "Destroying"
    session.flush()


def _volume_count(cloud: Cloud, template_id: int) -> int:
    with cloud.sessions() as session:
        return (
            session.scalar(
                sa.select(sa.func.count()).where(models.Volume.template_id == template_id)
            )
            or 0
        )


def test_a_volume_from_a_template_being_deleted_is_refused(cloud: Cloud) -> None:
    zone_id, offering_id, template_id = _world(cloud)
    with cloud.sessions() as session:
        _record(session, zone_id, offering_id, template_id)
        session.commit()
    with cloud.sessions() as session:
        _start_delete(session, template_id)
        session.commit()
    with cloud.sessions() as session, pytest.raises(errors.InvalidParameterValue) as refused:
        _record(session, zone_id, offering_id, template_id)
    assert "is being deleted" in str(refused.value)
    assert _volume_count(cloud, template_id) == 1


def test_a_volume_waits_for_a_delete_holding_the_template(database: Database, cloud: Cloud) -> None:
    if database.backend == "sqlite":
        pytest.skip("SQLite's write transactions are serial: there is no row lock to wait on")
    zone_id, offering_id, template_id = _world(cloud)
    outcome: list[BaseException | None] = []
    deleting = cloud.sessions()
    _start_delete(deleting, template_id)

    def record() -> None:
        try:
            with cloud.sessions() as session:
                _record(session, zone_id, offering_id, template_id)
                session.commit()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=record)
    worker.start()
    worker.join(1.0)
    assert worker.is_alive(), "the volume did not wait for the delete's lock"
    deleting.commit()
    deleting.close()
    worker.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], errors.InvalidParameterValue)
    assert _volume_count(cloud, template_id) == 0
