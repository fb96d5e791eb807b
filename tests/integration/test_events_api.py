"""listEvents, listEventTypes, archiveEvents, deleteEvents through the real dispatcher."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack import event_types
from cirrostack.accounts import vault
from cirrostack.api.views import events as view
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import events as models
from tests.cloud import Cloud, Keys, Member, content
from tests.conftest import Database


@pytest.fixture
def cloud(sqlite_database: Database) -> Cloud:
    return Cloud(sqlite_database.sessions)


def events_of(cloud: Cloud, keys: Keys, **named: str) -> list[dict[str, Any]]:
    answer = cloud.ok(keys, "listEvents", **named)
    found: list[dict[str, Any]] = answer.get("event", [])
    assert answer.get("count", 0) >= len(found)
    return found


def rekey(cloud: Cloud, member: Member) -> None:
    """An action of ``member`` itself that the log records (REGISTER.USER.KEY)."""
    cloud.ok(member.keys, "registerUserKeys", id=member.user_id)


def add_event(cloud: Cloud, created: datetime.datetime, **columns: Any) -> str:
    """An event row written as the admin at a chosen time; its uuid."""
    values: dict[str, Any] = {
        "type": "VM.START",
        "description": "test",
        "user_id": 2,
        "account_id": 2,
        "domain_id": 1,
        "created": created,
    }
    values.update(columns)
    with cloud.sessions() as session:
        event = models.Event(**values)
        session.add(event)
        session.commit()
        return event.uuid


def test_an_action_is_seen_by_its_account_and_not_by_another(cloud: Cloud) -> None:
    domain = cloud.domain("d1")
    alice, bob = cloud.member("alice", domain), cloud.member("bob", domain)
    rekey(cloud, alice)
    # Alice's own key registration; keys are new, so this list is from her new keys' view.
    alice = member_with_new_keys(cloud, alice)
    mine = events_of(cloud, alice.keys, type="REGISTER.USER.KEY")
    assert len(mine) == 1
    event = mine[0]
    assert event["account"] == "alice"
    assert event["username"] == "alice"
    assert event["domainid"] == domain
    assert event["domain"] == "d1"
    assert event["level"] == "INFO"
    assert event["state"] == "Completed"
    assert event["resourcetype"] == "User"
    assert event["resourceid"] == alice.user_id
    assert event["created"].endswith("+0000")
    # Bob sees none of it, whatever he asks for.
    for named in ({}, {"listall": "true"}, {"domainid": domain}, {"id": event["id"]}):
        assert events_of(cloud, bob.keys, **named) == [], named
    answer = cloud.call(bob.keys, "listEvents", account="alice", domainid=domain)
    # Another account is answered like an unknown name (issue 6 finding 10).
    assert answer.status == 431, answer.body


def member_with_new_keys(cloud: Cloud, member: Member) -> Member:
    with cloud.sessions() as session:
        user = session.scalars(
            sa.select(account_models.User).where(account_models.User.uuid == member.user_id)
        ).one()
        keys = Keys(str(user.api_key), str(vault.opened(session, user.secret_key)))
    return Member(
        member.username,
        member.user_id,
        member.account_id,
        member.account_name,
        member.domain_id,
        keys,
    )


def test_admins_see_by_domain_and_listall(cloud: Cloud) -> None:
    d1, d2 = cloud.domain("d1"), cloud.domain("d2")
    alice = cloud.member("alice", d1)
    boss1, boss2 = (
        cloud.member("boss1", d1, account_type=2),
        cloud.member("boss2", d2, account_type=2),
    )
    rekey(cloud, alice)
    wanted = {"type": "REGISTER.USER.KEY", "account": "alice", "domainid": d1}
    assert len(events_of(cloud, boss1.keys, **wanted)) == 1
    assert len(events_of(cloud, boss1.keys, type="REGISTER.USER.KEY", listall="true")) == 1
    assert len(events_of(cloud, boss1.keys, type="REGISTER.USER.KEY", domainid=d1)) == 1
    # Without listall an admin lists its own account's events only, as in CloudStack.
    assert events_of(cloud, boss1.keys, type="REGISTER.USER.KEY") == []
    assert events_of(cloud, boss2.keys, type="REGISTER.USER.KEY", listall="true") == []
    # A domain out of reach is answered like an unknown one (issue 6 finding 10).
    assert cloud.call(boss2.keys, "listEvents", domainid=d1).status == 431
    assert len(events_of(cloud, cloud.admin.keys, type="REGISTER.USER.KEY", listall="true")) >= 1
    subtree = events_of(cloud, cloud.admin.keys, domainid=cloud.root_id, isrecursive="true")
    assert "alice" in {event["account"] for event in subtree}


def test_the_system_accounts_events_are_for_root_admins_only(cloud: Cloud) -> None:
    boss = cloud.member("boss", cloud.root_id, account_type=2)
    uuid = add_event(
        cloud, datetime.datetime(2026, 1, 1), type="HOST.STATUS", user_id=1, account_id=1
    )
    assert [event["id"] for event in events_of(cloud, cloud.admin.keys, id=uuid)] == [uuid]
    assert events_of(cloud, boss.keys, id=uuid) == []
    assert events_of(cloud, boss.keys, type="HOST.STATUS", listall="true") == []


def test_date_filters_and_date_only_end_covers_the_whole_day(cloud: Cloud) -> None:
    day = datetime.datetime(2026, 3, 10)
    early = add_event(cloud, day.replace(hour=0, minute=0, second=5), type="VM.STOP")
    late = add_event(cloud, day.replace(hour=23, minute=30), type="VM.STOP")
    later = add_event(cloud, day + datetime.timedelta(days=1, hours=1), type="VM.STOP")
    admin = cloud.admin.keys

    def ids(**named: str) -> set[str]:
        return {event["id"] for event in events_of(cloud, admin, type="VM.STOP", **named)}

    assert ids(startdate="2026-03-10", enddate="2026-03-10") == {early, late}
    assert ids(startdate="2026-03-10 12:00:00") == {late, later}
    assert ids(enddate="2026-03-10 12:00:00") == {early}
    assert ids(startdate="2026-03-11") == {later}
    answer = cloud.call(admin, "listEvents", startdate="2026-03-12", enddate="2026-03-10")
    assert answer.status == 431
    assert cloud.call(admin, "listEvents", startdate="10/03/2026").status == 431


def test_paging_filters_and_newest_first(cloud: Cloud) -> None:
    base = datetime.datetime(2026, 5, 1)
    made = [
        add_event(cloud, base + datetime.timedelta(minutes=n), type="VOLUME.CREATE", level=level)
        for n, level in enumerate(["INFO", "INFO", "ERROR", "INFO", "WARN"])
    ]
    admin = cloud.admin.keys
    page = cloud.ok(admin, "listEvents", type="VOLUME.CREATE", page="1", pagesize="2")
    assert page["count"] == 5
    assert [event["id"] for event in page["event"]] == [made[4], made[3]]
    last = cloud.ok(admin, "listEvents", type="VOLUME.CREATE", page="3", pagesize="2")
    assert [event["id"] for event in last["event"]] == [made[0]]
    assert cloud.ok(admin, "listEvents", type="VOLUME.CREATE", page="4", pagesize="2") == {
        "count": 5
    }
    assert [e["id"] for e in events_of(cloud, admin, level="error")] == [made[2]]
    assert len(events_of(cloud, admin, keyword="volume.cr")) == 5
    assert cloud.ok(admin, "listEvents", type="NO.SUCH.TYPE") == {}


def test_async_actions_link_their_events_by_parentid(cloud: Cloud) -> None:
    alice = cloud.member("alice", cloud.root_id)
    answer = cloud.call(cloud.admin.keys, "disableAccount", id=alice.account_id, lock="false")
    assert cloud.outcome(cloud.admin.keys, answer) == 0
    found = events_of(cloud, cloud.admin.keys, type="ACCOUNT.DISABLE")
    states = {event["state"]: event for event in found}
    assert set(states) == {"Scheduled", "Completed"}
    assert states["Completed"]["parentid"] == states["Scheduled"]["id"]
    assert "parentid" not in states["Scheduled"]
    chain = events_of(cloud, cloud.admin.keys, startid=states["Scheduled"]["id"])
    assert {event["id"] for event in chain} == {event["id"] for event in found}
    by_resource = events_of(
        cloud, cloud.admin.keys, resourcetype="account", resourceid=alice.account_id
    )
    assert {event["type"] for event in by_resource} == {"ACCOUNT.CREATE", "ACCOUNT.DISABLE"}


def test_pending_events_by_entrytime_and_duration(cloud: Cloud) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    started = add_event(cloud, now - datetime.timedelta(seconds=600), state="Scheduled")
    finished = add_event(cloud, now - datetime.timedelta(seconds=600), state="Scheduled")
    with cloud.sessions() as session:
        first = session.scalars(sa.select(models.Event).where(models.Event.uuid == finished)).one()
        session.add(
            models.Event(
                type="VM.START",
                description="done",
                user_id=2,
                account_id=2,
                domain_id=1,
                state="Completed",
                start_id=first.id,
            )
        )
        session.commit()
    pending = events_of(cloud, cloud.admin.keys, entrytime="3600", duration="60")
    assert [event["id"] for event in pending] == [started]
    answer = cloud.call(cloud.admin.keys, "listEvents", entrytime="60", duration="60")
    assert answer.status == 431


def test_list_event_types_has_every_type_cirrostack_writes(cloud: Cloud) -> None:
    member = cloud.member("alice", cloud.root_id)
    answer = cloud.ok(member.keys, "listEventTypes")
    names = [item["name"] for item in answer["eventtype"]]
    assert answer["count"] == len(names)
    assert names == sorted(set(names))
    commands = {command.event for command in cloud.registry if command.event}
    assert commands <= set(names)
    assert {"VM.STATE", "HOST.STATUS", "VM.START", "VOLUME.CREATE"} <= set(names)
    assert set(names) == set(event_types.known(commands))
    assert set(answer["eventtype"][0]) == {"name"}


def test_archive_and_delete_within_what_the_caller_may_see(cloud: Cloud) -> None:
    domain = cloud.domain("d1")
    alice, bob = cloud.member("alice", domain), cloud.member("bob", domain)
    rekey(cloud, alice)
    alice = member_with_new_keys(cloud, alice)
    event = events_of(cloud, alice.keys, type="REGISTER.USER.KEY")[0]["id"]
    answer = cloud.call(bob.keys, "archiveEvents", ids=event)
    assert answer.status == 431, answer.body
    assert cloud.call(alice.keys, "archiveEvents").status == 431
    assert cloud.ok(alice.keys, "archiveEvents", ids=event) == {"success": True}
    assert events_of(cloud, alice.keys, type="REGISTER.USER.KEY") == []
    archived = events_of(cloud, alice.keys, type="REGISTER.USER.KEY", archived="true")
    assert [item["id"] for item in archived] == [event]
    assert archived[0]["archived"] is True
    assert cloud.call(bob.keys, "deleteEvents", ids=event).status == 431
    assert cloud.ok(alice.keys, "deleteEvents", ids=event) == {"success": True}
    assert events_of(cloud, alice.keys, type="REGISTER.USER.KEY", archived="true") == []
    # Deleting left its own trace.
    assert len(events_of(cloud, alice.keys, type="EVENT.DELETE")) == 1


def test_bad_filters_are_431(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    body = content(cloud.call(admin, "listEvents", resourcetype="Spaceship"))
    assert "Invalid resourcetype Spaceship" in body["errortext"]
    assert cloud.call(admin, "listEvents", resourceid="x").status == 431
    missing = "00000000-0000-4000-8000-000000000000"
    assert cloud.ok(admin, "listEvents", resourcetype="Volume", resourceid=missing) == {}


def test_list_event_types_pages_and_filters(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    every = cloud.ok(admin, "listEventTypes")
    page = cloud.ok(admin, "listEventTypes", page="2", pagesize="3")
    assert page["count"] == every["count"]
    assert page["eventtype"] == every["eventtype"][3:6]
    found = {
        item["name"] for item in cloud.ok(admin, "listEventTypes", keyword="vm.st")["eventtype"]
    }
    assert found == {"VM.START", "VM.STATE", "VM.STOP"}


def test_answers_carry_only_declared_fields(cloud: Cloud) -> None:
    alice = cloud.member("alice", cloud.root_id)
    cloud.call(cloud.admin.keys, "disableAccount", id=alice.account_id, lock="true")
    for item in events_of(cloud, cloud.admin.keys, listall="true"):
        assert set(item) <= view.EVENT.field_names(), set(item) - view.EVENT.field_names()
    for item in cloud.ok(cloud.admin.keys, "listEventTypes")["eventtype"]:
        assert set(item) <= view.EVENT_TYPE.field_names()
