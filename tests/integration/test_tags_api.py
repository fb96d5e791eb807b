"""createTags, deleteTags, listTags through the dispatcher on every backend, and the ``tags``
field of volumes: every refusal at submit (431, no job), a foreign resource answered exactly
like a missing one, one value per key."""

from __future__ import annotations

from typing import Any

from tests.attachments_world import vm
from tests.cloud import Cloud, Keys, content

_MISSING = "0f0f0f0f-0000-4000-8000-000000000000"


def _volume(cloud: Cloud, keys: Keys) -> str:
    zone = cloud.ok(
        cloud.admin.keys,
        "createZone",
        name="z1",
        dns1="8.8.8.8",
        internaldns1="10.0.0.1",
        networktype="Advanced",
    )["zone"]["id"]
    offering = cloud.ok(
        cloud.admin.keys, "createDiskOffering", name="five", displaytext="five", disksize="5"
    )["diskoffering"]["id"]
    answer = cloud.call(keys, "createVolume", name="data", diskofferingid=offering, zoneid=zone)
    assert cloud.job(keys, answer)["jobstatus"] == 1
    return str(content(answer)["id"])


def _tags(**pairs: str) -> dict[str, str]:
    named: dict[str, str] = {}
    for index, (key, value) in enumerate(pairs.items()):
        named[f"tags[{index}].key"] = key
        named[f"tags[{index}].value"] = value
    return named


def _job(cloud: Cloud, keys: Keys, command: str, **named: str) -> dict[str, Any]:
    answer = cloud.call(keys, command, **named)
    assert answer.status == 200, answer.body
    return cloud.job(keys, answer)


def test_tag_a_volume_list_and_delete(cloud: Cloud) -> None:
    user = cloud.member("u", cloud.domain("D"))
    volume = _volume(cloud, user.keys)
    done = _job(
        cloud,
        user.keys,
        "createTags",
        resourcetype="volume",
        resourceids=volume,
        customer="acme",
        **_tags(env="prod", team="db"),
    )
    assert done["jobstatus"] == 1 and done["jobresult"] == {"success": True}, done
    shown = cloud.ok(user.keys, "listVolumes", id=volume)["volume"][0]["tags"]
    assert [(t["key"], t["value"], t["resourcetype"], t["resourceid"]) for t in shown] == [
        ("env", "prod", "Volume", volume),
        ("team", "db", "Volume", volume),
    ]
    assert shown[0]["account"] == "u" and shown[0]["customer"] == "acme"
    listed = cloud.ok(user.keys, "listTags", resourcetype="Volume", key="env")
    assert listed["count"] == 1 and listed["tag"][0]["value"] == "prod"
    assert cloud.ok(user.keys, "listTags", value="db")["count"] == 1
    assert cloud.ok(user.keys, "listTags", resourceid=_MISSING) == {}
    again = cloud.call(
        user.keys, "createTags", resourcetype="Volume", resourceids=volume, **_tags(env="test")
    )
    assert again.status == 431
    assert content(again)["errortext"] == f"A tag with key env already exists on Volume {volume}"
    _job(
        cloud,
        user.keys,
        "deleteTags",
        resourcetype="Volume",
        resourceids=volume,
        **{"tags[0].key": "env"},
    )
    assert [t["key"] for t in cloud.ok(user.keys, "listTags")["tag"]] == ["team"]
    _job(cloud, user.keys, "deleteTags", resourcetype="Volume", resourceids=volume)
    assert cloud.ok(user.keys, "listTags") == {}
    nothing = cloud.call(user.keys, "deleteTags", resourcetype="Volume", resourceids=volume)
    assert nothing.status == 431
    assert "Unable to find any tags" in content(nothing)["errortext"]


def test_refusals_come_before_any_job(cloud: Cloud) -> None:
    domain = cloud.domain("D")
    owner, other = cloud.member("owner", domain), cloud.member("other", domain)
    _vm_id, vm_uuid = vm(cloud, "owner")
    _job(
        cloud, owner.keys, "createTags", resourcetype="UserVm", resourceids=vm_uuid, **_tags(a="1")
    )
    bad_type = cloud.call(
        owner.keys, "createTags", resourcetype="Rack", resourceids=vm_uuid, **_tags(a="1")
    )
    assert bad_type.status == 431 and content(bad_type)["errortext"] == "Invalid resource type Rack"
    foreign = cloud.call(
        other.keys, "createTags", resourcetype="UserVm", resourceids=vm_uuid, **_tags(b="2")
    )
    missing = cloud.call(
        other.keys, "createTags", resourcetype="UserVm", resourceids=_MISSING, **_tags(b="2")
    )
    assert foreign.status == missing.status == 431
    assert content(foreign)["errortext"].replace(vm_uuid, "X") == content(missing)[
        "errortext"
    ].replace(_MISSING, "X")
    no_value = cloud.call(
        owner.keys, "createTags", resourcetype="UserVm", resourceids=vm_uuid, **{"tags[0].key": "k"}
    )
    assert no_value.status == 431
    assert cloud.ok(other.keys, "listTags", listall="true") == {}
    assert cloud.ok(other.keys, "listAsyncJobs") == {}
    assert cloud.ok(owner.keys, "listTags", resourcetype="uservm")["count"] == 1


def test_security_groups_show_their_tags(cloud: Cloud) -> None:
    user = cloud.member("u", cloud.domain("D"))
    group = cloud.ok(user.keys, "createSecurityGroup", name="web")["securitygroup"]
    _job(
        cloud,
        user.keys,
        "createTags",
        resourcetype="SecurityGroup",
        resourceids=group["id"],
        **_tags(role="frontend"),
    )
    shown = cloud.ok(user.keys, "listSecurityGroups", id=group["id"])["securitygroup"][0]
    assert [(t["key"], t["value"]) for t in shown["tags"]] == [("role", "frontend")]


def test_templates_and_isos_show_their_own_tags(cloud: Cloud) -> None:
    admin = cloud.admin.keys
    zone = cloud.ok(
        admin, "createZone", name="z1", dns1="8.8.8.8", internaldns1="10.0.0.1",
        networktype="Advanced",
    )["zone"]["id"]  # fmt: skip
    os_type = cloud.ok(admin, "listOsTypes")["ostype"][0]["id"]
    cloud.ok(admin, "updateConfiguration", name="secstorage.allowed.internal.sites",
             value="127.0.0.0/8")  # fmt: skip
    cloud.ok(admin, "addImageStore", provider="NFS", url="nfs://10.0.0.9/sec", zoneid=zone)
    template = cloud.ok(admin, "registerTemplate", name="t", zoneid=zone,
                        url="http://127.0.0.1/t.qcow2", format="QCOW2", hypervisor="Simulator",
                        ostypeid=os_type)["template"][0]["id"]  # fmt: skip
    iso = cloud.ok(admin, "registerIso", name="i", zoneid=zone, ostypeid=os_type,
                   url="http://127.0.0.1/i.iso")["iso"][0]["id"]  # fmt: skip
    _job(
        cloud, admin, "createTags", resourcetype="Template", resourceids=template, **_tags(os="deb")
    )
    _job(cloud, admin, "createTags", resourcetype="ISO", resourceids=iso, **_tags(boot="yes"))
    wrong = cloud.call(
        admin, "createTags", resourcetype="ISO", resourceids=template, **_tags(a="b")
    )
    assert wrong.status == 431  # a template is not an ISO
    [listed] = cloud.ok(admin, "listTemplates", templatefilter="all", id=template)["template"]
    assert [(t["key"], t["resourcetype"]) for t in listed["tags"]] == [("os", "Template")]
    [listed_iso] = cloud.ok(admin, "listIsos", isofilter="all", id=iso)["iso"]
    assert [(t["key"], t["resourcetype"]) for t in listed_iso["tags"]] == [("boot", "ISO")]
