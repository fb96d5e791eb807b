"""A foreign object is answered exactly like a missing one, by every command (finding 10).

Generic on purpose: every command of the registry that takes the id of an account-owned or
domain-scoped object (a user, an account, a domain, a job, an event, an offering), a user's
API key, or an account by name (with its domain) is sent, by each kind of caller, once with
the id of an object out of the caller's reach and once with a random unknown id. The two
answers must be the same (status and text, the id aside): an id the caller may not see is no
oracle of what exists, and an error text names nothing of the foreign object (its account,
its domain). A command added later is covered without a new test::

    ROOT          admin (root admin), rda (domain admin)
    ├── D1        da (domain admin), a and peer (users)
    └── D2        da2 (domain admin), c (user); offerings only D2 may use
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from cirrostack.api import params, registry
from tests.cloud import Cloud, Member, content

#: The object kinds a parameter may name, by the list command its ``related`` gives.
_KIND_OF_RELATED = {
    "listDomains": "domain",
    "listAccounts": "account",
    "listUsers": "user",
    "listEvents": "event",
    "queryAsyncJobResult": "job",
    "listAsyncJobs": "job",
    "listDiskOfferings": "diskoffering",
    "listServiceOfferings": "serviceoffering",
}
_KIND_OF_NAME = {
    "domainid": "domain",
    "accountid": "account",
    "userid": "user",
    "jobid": "job",
    "startid": "event",
    "diskofferingid": "diskoffering",
    "serviceofferingid": "serviceoffering",
}
#: For ``id``/``ids``: the noun of the command names the kind (longest nouns first).
_KIND_OF_NOUN = (
    ("DiskOffering", "diskoffering"),
    ("ServiceOffering", "serviceoffering"),
    ("AsyncJob", "job"),
    ("Event", "event"),
    ("User", "user"),
    ("Account", "account"),
    ("Domain", "domain"),
)
_FILLER = {
    params.ParamType.STRING: "probe",
    params.ParamType.INTEGER: "1",
    params.ParamType.LONG: "1",
    params.ParamType.SHORT: "1",
    params.ParamType.BOOLEAN: "false",
    params.ParamType.DATE: "2099-01-01",
    params.ParamType.LIST: "probe",
    params.ParamType.MAP: "probe",
}


def kind_of(command: registry.Command, param: params.Param) -> str | None:
    """The kind of object ``param`` names, or None when it names none of ours."""
    takes_ids = param.type is params.ParamType.UUID or (
        param.type is params.ParamType.LIST and param.item_type is params.ParamType.UUID
    )
    if param.name == "userapikey":
        return "apikey"
    if param.name == "account":
        return "accountname"
    if not takes_ids:
        return None
    for related in param.related:
        if related in _KIND_OF_RELATED:
            return _KIND_OF_RELATED[related]
    if param.name in _KIND_OF_NAME:
        return _KIND_OF_NAME[param.name]
    if param.name in ("id", "ids"):
        return next((kind for noun, kind in _KIND_OF_NOUN if noun in command.name), None)
    return None


@dataclass(frozen=True)
class Probe:
    caller: Member
    #: The id of an object of each kind that the caller may not reach.
    foreign: dict[str, str]
    #: The domain an ``account`` name is looked up in (``domainid`` beside it).
    domain: str = ""


def _job_of(cloud: Cloud, member: Member, target: Member) -> str:
    answer = cloud.call(member.keys, "disableAccount", id=target.account_id, lock="false")
    assert cloud.job(member.keys, answer)["jobstatus"] == 1
    cloud.ok(member.keys, "enableAccount", id=target.account_id)
    return str(content(answer)["jobid"])


def _event_of(cloud: Cloud, member: Member, domain: str) -> str:
    cloud.ok(member.keys, "updateUser", id=member.user_id, email="moved@example.org")
    found = cloud.ok(cloud.admin.keys, "listEvents", account=member.account_name, domainid=domain)[
        "event"
    ]
    return str(found[0]["id"])


def _probes(cloud: Cloud) -> list[Probe]:
    d1, d2 = cloud.domain("D1"), cloud.domain("D2")
    da, a = cloud.member("da", d1, account_type=2), cloud.member("usera", d1)
    cloud.member("peer", d1)
    da2, c = cloud.member("da2", d2, account_type=2), cloud.member("userc", d2)
    rda = cloud.member("rootda", cloud.root_id, account_type=2)
    admin = cloud.admin
    disk = cloud.ok(
        admin.keys, "createDiskOffering", name="D2disk", displaytext="d", disksize="1", domainid=d2
    )["diskoffering"]["id"]
    service = cloud.ok(
        admin.keys,
        "createServiceOffering",
        name="D2small",
        displaytext="d",
        cpunumber="1",
        cpuspeed="500",
        memory="512",
        domainid=d2,
    )["serviceoffering"]["id"]
    in_d2 = {
        "domain": d2,
        "account": c.account_id,
        "user": c.user_id,
        "job": _job_of(cloud, da2, c),
        "event": _event_of(cloud, c, d2),
        "diskoffering": disk,
        "serviceoffering": service,
        "apikey": c.keys.api_key,
    }
    of_root_admin = {
        "account": admin.account_id,
        "user": admin.user_id,
        "job": _job_of(cloud, admin, a),
        "event": _event_of(cloud, admin, cloud.root_id),
        "apikey": admin.keys.api_key,
    }
    return [
        Probe(a, in_d2 | {"accountname": "peer"}, d1),
        Probe(da, in_d2),
        Probe(rda, of_root_admin | {"accountname": admin.account_name}, cloud.root_id),
    ]


def _answer(cloud: Cloud, caller: Member, command: str, named: dict[str, str]) -> Any:
    """(status, content) of an answer, looking through an async command's job."""
    answer = cloud.call(caller.keys, command, **named)
    body = content(answer) if len(answer.body) == 1 else answer.body
    queued = isinstance(body, dict) and "jobid" in body and "jobstatus" not in body
    if answer.status == 200 and queued:
        body = cloud.job(caller.keys, answer).get("jobresult")
    return answer.status, body


def _filled(command: registry.Command, skip: str) -> dict[str, str]:
    return {
        each.name: _FILLER[each.type]
        for each in command.params
        if each.required and each.name != skip and each.type is not params.ParamType.UUID
    }


@pytest.fixture
def probes(sqlite_cloud: Cloud) -> list[Probe]:
    return _probes(sqlite_cloud)


def test_a_foreign_id_is_answered_like_an_unknown_one(
    sqlite_cloud: Cloud, probes: list[Probe]
) -> None:
    cloud = sqlite_cloud
    checked, problems = 0, []
    for command in cloud.registry:
        for param in command.params:
            kind = kind_of(command, param)
            for probe in probes:
                if kind not in probe.foreign:
                    continue
                foreign = probe.foreign[kind]
                unknown = {"apikey": "k" * len(foreign), "accountname": "nobody"}.get(
                    kind, str(uuid.uuid4())
                )
                base = _filled(command, param.name)
                if kind == "accountname":
                    if "domainid" not in {each.name for each in command.params}:
                        continue
                    base["domainid"] = probe.domain
                got = _answer(cloud, probe.caller, command.name, {**base, param.name: foreign})
                like = _answer(cloud, probe.caller, command.name, {**base, param.name: unknown})
                checked += 1
                shown = str(got).replace(foreign, "<id>")
                if shown != str(like).replace(unknown, "<id>"):
                    problems.append(
                        f"{probe.caller.username} {command.name} {param.name}=<{kind}>: "
                        f"{got} but unknown: {like}"
                    )
    assert checked >= 30
    assert not problems, "\n".join(problems)
