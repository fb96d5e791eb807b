"""A write inside a read-only transaction is our bug (530, logged), never an outage (503).

A command derived read-only (``registry.Command.read_only``: no event, not async, not public)
runs in a transaction that refuses writes on every backend (``db.engine.reading``). Before
this, SQLite's refusal ("attempt to write a readonly database", SQLITE_READONLY) was counted by
``db.failures`` as an outage and answered 503, and PostgreSQL and MariaDB let the write through.
A database file the server may not write is still an outage.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from cirrostack.api import dispatch, errors, registry, responses
from cirrostack.db import engine as db_engine
from cirrostack.db import failures
from cirrostack.db.models import configuration, infrastructure, storage
from tests import allocator_rows, databases
from tests.cloud import Cloud, content, signed_request
from tests.databases import Database

DISPATCH_LOGGER = "cirrostack.api.dispatch"
ROW = "readonly.probe"


def _value(database: Database) -> str | None:
    with database.sessions() as session:
        return session.scalar(
            sa.select(configuration.Configuration.value).where(
                configuration.Configuration.name == ROW
            )
        )


def _write_wrongly(call: registry.Call) -> responses.Reply:
    call.session.execute(
        sa.update(configuration.Configuration)
        .where(configuration.Configuration.name == ROW)
        .values(value="written")
    )
    call.session.flush()
    return responses.Fields({"success": "true"})


def test_a_write_in_a_command_derived_read_only_is_a_logged_530_not_a_503(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    cloud = Cloud(database.sessions)
    with database.sessions() as session:
        session.add(configuration.Configuration(name=ROW, value="0"))
        session.commit()
    # No event, not async, not public: derived read-only, yet it writes.
    wrong = registry.Command("writeWrongly", _write_wrongly, "writes though read-only", ())
    assert wrong.read_only
    dispatcher = dispatch.Dispatcher(registry.Registry([wrong]), database.sessions)
    caplog.set_level(logging.INFO)

    answer = dispatcher.handle(signed_request(cloud.admin.keys, "writeWrongly", []))

    assert answer.status == errors.ErrorCode.INTERNAL_ERROR, answer.body
    assert content(answer)["cserrorcode"] == errors.CsErrorCode.CLOUD_RUNTIME
    logged = [record for record in caplog.records if record.name == DISPATCH_LOGGER]
    assert [record.getMessage() for record in logged] == [
        "command writeWrongly failed unexpectedly"
    ]
    assert logged[0].exc_info is not None
    assert failures.kind(logged[0].exc_info[1]) is failures.Kind.READ_ONLY  # type: ignore[arg-type]
    assert _value(database) == "0"


def _minimal(cloud: Cloud) -> dict[str, dict[str, str]]:
    """Valid minimal parameters of the read-only commands that require some (and a simulated
    host, so that the lists and configureSimulator have a row to work on)."""
    admin = cloud.admin.keys
    zone = cloud.ok(admin, "createZone", name="z", networktype="Basic", dns1="8.8.8.8",
                    internaldns1="8.8.4.4")["zone"]  # fmt: skip
    pod = cloud.ok(admin, "createPod", name="p", zoneid=zone["id"], gateway="172.16.0.1",
                   netmask="255.255.255.0", startip="172.16.0.10",
                   endip="172.16.0.20")["pod"]  # fmt: skip
    cloud.ok(admin, "addHost", zoneid=zone["id"], podid=pod["id"], clustername="c0",
             hypervisor="Simulator", url="http://sim/c0/h0", username="root",
             password="password")  # fmt: skip
    doomed = cloud.domain("doomed")
    job = content(cloud.call(cloud.admin.keys, "deleteDomain", id=doomed))["jobid"]
    template = _template(cloud, zone["id"])
    volume, offering = _ready_volume(cloud, zone["id"])
    compute = cloud.ok(admin, "createServiceOffering", name="so", displaytext="so", cpunumber="1",
                       cpuspeed="500", memory="256")["serviceoffering"]["id"]  # fmt: skip
    physical = cloud.job(
        admin, cloud.call(admin, "createPhysicalNetwork", name="phy", zoneid=zone["id"])
    )["jobresult"]["physicalnetwork"]["id"]
    return {
        "listTrafficTypes": {"physicalnetworkid": physical},
        "explainStoragePlacement": {"zoneid": zone["id"], "diskofferingid": offering},
        "explainHostPlacement": {"zoneid": zone["id"], "serviceofferingid": compute},
        "findStoragePoolsForMigration": {"id": volume},
        "listTemplates": {"templatefilter": "all"},
        "listTemplatePermissions": {"id": template},
        "listIsoPermissions": {"id": template},
        "getUser": {"userapikey": cloud.admin.keys.api_key},
        "getUserKeys": {"id": cloud.admin.user_id},
        "queryAsyncJobResult": {"jobid": job},
        "configureSimulator": {"name": "PingCommand", "value": "result:success"},
        "listStorageProviders": {"type": "primary"},
    }


def _ready_volume(cloud: Cloud, zone_id: str) -> tuple[str, str]:
    """A volume made Ready on a pool row (findStoragePoolsForMigration needs one), and its
    disk offering."""
    admin = cloud.admin.keys
    offering = cloud.ok(admin, "createDiskOffering", name="d", displaytext="d", disksize="1")[
        "diskoffering"
    ]["id"]
    answer = cloud.call(admin, "createVolume", name="v", diskofferingid=offering, zoneid=zone_id)
    assert cloud.job(admin, answer)["jobstatus"] == 1
    volume_uuid = str(content(answer)["id"])
    with cloud.sessions() as session:
        zone = session.scalars(
            sa.select(infrastructure.DataCenter).where(infrastructure.DataCenter.uuid == zone_id)
        ).one()
        pool = allocator_rows.pool(session, zone, name="ro-pool", scope="ZONE")
        session.execute(
            sa.update(storage.Volume)
            .where(storage.Volume.uuid == volume_uuid)
            .values(state="Ready", pool_id=pool.id, path=volume_uuid)
        )
        session.commit()
    return volume_uuid, str(offering)


def _template(cloud: Cloud, zone_id: str) -> str:
    """A registered template (its image store on NFS, its URL on loopback, allowed)."""
    admin = cloud.admin.keys
    cloud.ok(admin, "addImageStore", provider="NFS", url="nfs://10.0.0.9/sec", zoneid=zone_id)
    cloud.ok(admin, "updateConfiguration", name="secstorage.allowed.internal.sites",
             value="127.0.0.0/8")  # fmt: skip
    os_type = cloud.ok(admin, "listOsTypes")["ostype"][0]["id"]
    registered = cloud.ok(admin, "registerTemplate", name="t", url="http://127.0.0.1/t.qcow2",
                          zoneid=zone_id, format="QCOW2", hypervisor="Simulator",
                          ostypeid=os_type)  # fmt: skip
    return str(registered["template"][0]["id"])


def test_every_command_derived_read_only_runs_without_a_write(database: Database) -> None:
    """Every read-only command of the registry, called by the root admin with valid minimal
    parameters (none, or those of ``_minimal``), succeeds: a write in its read-only
    transaction would answer 530."""
    cloud = Cloud(database.sessions)
    minimal = _minimal(cloud)
    read_only = [command for command in cloud.registry if command.read_only]
    assert len(read_only) > 20
    failed = []
    for command in read_only:
        answer = cloud.call(cloud.admin.keys, command.name, **minimal.get(command.name, {}))
        if answer.status != 200:
            failed.append((command.name, answer.status, answer.body))
    assert failed == []
    assert set(minimal) <= {command.name for command in read_only}


def test_a_database_file_that_cannot_be_written_is_still_an_outage(
    sqlite_database: Database, tmp_path: Path
) -> None:
    """SQLite answers SQLITE_READONLY for a file it may not write too: that one is an outage."""
    path = sa.make_url(sqlite_database.url).database
    assert path
    read_only_url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = db_engine.make_engine(read_only_url)
    sessions = databases.sessions_for(engine)
    try:
        with sessions() as session, pytest.raises(sa.exc.OperationalError) as raised:
            session.execute(
                sa.insert(configuration.Configuration).values(name="readonly.file", value="1")
            )
        assert failures.kind(raised.value) is failures.Kind.UNAVAILABLE
        assert errors.from_exception(raised.value).code == errors.ErrorCode.SERVICE_UNAVAILABLE
        with (
            db_engine.reading(sessions) as reader,
            pytest.raises(sa.exc.OperationalError) as ours,
        ):
            reader.execute(
                sa.insert(configuration.Configuration).values(name="readonly.file", value="1")
            )
        assert failures.kind(ours.value) is failures.Kind.READ_ONLY
    finally:
        engine.dispose()
