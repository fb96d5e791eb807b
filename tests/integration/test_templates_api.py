"""Image stores and templates through the real dispatcher, signed as clients sign.

Store secrets sealed at rest and never answered; registration refusing bad URLs before any
row is written; the rows a registration leaves (an Active template, one copy per store whose
download job runs at once: here, with no host, it fails saying so) and its CloudStack answer
(isready false, "Download in progress"); templatefilter visibility, with
another account's private template answered like a missing one; sharing through launch
permissions; a store with copies that cannot be deleted.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from cirrostack.db.models import storage as storage_models
from cirrostack.db.models import templates as models
from tests.cloud import Cloud, content
from tests.conftest import Database
from tests.integration.test_infra_commands import Infra

URL = "http://127.0.0.1:8080/images/tiny.qcow2"


class Images(Infra):
    """A zone with an NFS image store, and helpers to register templates."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.zone_id = self.zone()["id"]
        self.store = self.ok(
            "addImageStore",
            provider="NFS",
            name="nfs1",
            url="nfs://10.0.0.9/export/sec",
            zoneid=self.zone_id,
        )["imagestore"]
        os_types = self.ok("listOsTypes", keyword="Ubuntu")["ostype"]
        self.os_type = os_types[0]["id"]

    def allow_loopback(self) -> None:
        self.ok(
            "updateConfiguration", name="secstorage.allowed.internal.sites", value="127.0.0.0/8"
        )

    def register(self, keys: Any = None, **more: str) -> dict[str, Any]:
        fields = {
            "name": "tiny",
            "displaytext": "tiny",
            "url": URL,
            "zoneid": self.zone_id,
            "format": "QCOW2",
            "hypervisor": "Simulator",
            "ostypeid": self.os_type,
        } | more
        answer = self.cloud.call(keys or self.admin, "registerTemplate", **fields)
        assert answer.status == 200, answer.body
        return dict(content(answer)["template"][0])

    def rows(self, model: Any) -> list[Any]:
        with self.database.sessions() as session:
            return list(session.scalars(sa.select(model).order_by(model.id)))


@pytest.fixture
def images(database: Database) -> Images:
    return Images(database)


def test_image_store_is_listed_and_nfs_url_checked(images: Images) -> None:
    listed = images.ok("listImageStores")["imagestore"]
    assert [(s["name"], s["providername"], s["protocol"], s["zoneid"]) for s in listed] == [
        ("nfs1", "NFS", "nfs", images.zone_id)
    ]
    status, text = images.error(
        "addImageStore", provider="NFS", url="http://x/y", zoneid=images.zone_id
    )
    assert status == 431 and "nfs://" in text
    assert (
        images.error("addImageStore", provider="Swift", url="nfs://h/p", zoneid=images.zone_id)[0]
        == 431
    )


def test_s3_secret_is_sealed_and_never_answered(images: Images) -> None:
    secret = "s3-secret-that-must-not-leak"
    added = images.ok(
        "addImageStoreS3",
        accesskey="AKIA1",
        secretkey=secret,
        endpoint="127.0.0.1:5000",
        bucket="templates",
        usehttps="false",
    )["imagestore"]
    assert added["providername"] == "S3" and added["scope"] == "REGION"
    assert secret not in str(added) and secret not in str(images.ok("listImageStores"))
    stored = [d.value for d in images.rows(storage_models.ImageStoreDetail)]
    assert secret not in "".join(stored)
    assert any(value.startswith("sealed") or value != secret for value in stored)


@pytest.mark.parametrize(
    "url",
    [
        URL,
        "file:///etc/passwd",
        "ftp://127.0.0.1/a.qcow2",
        "http://169.254.169.254/a.qcow2",
        "http://no-such-host.invalid/a.qcow2",
        "http://127.0.0.1/a.raw",
    ],
)
def test_bad_urls_are_refused_before_any_row(images: Images, url: str) -> None:
    status, _text = images.error(
        "registerTemplate",
        name="t",
        url=url,
        zoneid=images.zone_id,
        format="QCOW2",
        hypervisor="Simulator",
        ostypeid=images.os_type,
    )
    assert status == 431
    assert images.rows(models.VmTemplate) == [] and images.rows(models.TemplateStoreRef) == []


def test_registration_answers_a_template_downloading(images: Images) -> None:
    images.allow_loopback()
    template = images.register(checksum="{SHA-256}" + "a" * 64)
    assert template["isready"] is False
    assert template["status"] == "Download in progress"
    assert template["zoneid"] == images.zone_id and template["format"] == "QCOW2"
    assert template["account"] == "admin" and template["checksum"] == "{SHA-256}" + "a" * 64
    [row] = images.rows(models.VmTemplate)
    [ref] = images.rows(models.TemplateStoreRef)
    # Its download job ran once the registration committed: this zone has no Up host.
    assert (row.state, ref.state, ref.download_state) == ("Active", "Failed", "DOWNLOAD_ERROR")
    assert ref.error_str and "No Up host" in ref.error_str
    assert row.unique_name and row.unique_name.startswith(f"{row.id}-")


def test_checksum_length_is_checked(images: Images) -> None:
    images.allow_loopback()
    status, text = images.error(
        "registerTemplate",
        name="t",
        url=URL,
        zoneid=images.zone_id,
        format="QCOW2",
        hypervisor="Simulator",
        ostypeid=images.os_type,
        checksum="{SHA-256}abcd",
    )
    assert status == 431 and "64" in text


def test_private_template_of_another_account_is_like_a_missing_one(images: Images) -> None:
    images.allow_loopback()
    cloud: Cloud = images.cloud
    alice = cloud.member("alice", cloud.root_id)
    bob = cloud.member("bob", cloud.root_id)
    mine = images.register(alice.keys, name="alice-private")
    listed = cloud.ok(alice.keys, "listTemplates", templatefilter="self")
    assert [t["id"] for t in listed["template"]] == [mine["id"]]
    for kind in ("self", "featured", "community", "executable", "sharedexecutable"):
        seen = cloud.ok(bob.keys, "listTemplates", templatefilter=kind, id=mine["id"])
        assert seen.get("count", 0) == 0, kind
    foreign = cloud.call(bob.keys, "deleteTemplate", id=mine["id"])
    missing = cloud.call(bob.keys, "deleteTemplate", id="00000000-0000-0000-0000-000000000000")
    assert foreign.status == missing.status == 431
    assert str(content(foreign)["errortext"]).replace(mine["id"], "X") == str(
        content(missing)["errortext"]
    ).replace("00000000-0000-0000-0000-000000000000", "X")
    assert cloud.call(bob.keys, "listTemplates", templatefilter="all").status == 431


def test_sharing_through_launch_permissions(images: Images) -> None:
    images.allow_loopback()
    cloud = images.cloud
    alice = cloud.member("alice", cloud.root_id)
    bob = cloud.member("bob", cloud.root_id)
    mine = images.register(alice.keys, name="shared")
    with images.database.sessions() as session:
        session.execute(
            sa.update(models.TemplateStoreRef).values(state="Ready", download_state="DOWNLOADED")
        )
        session.commit()
    cloud.ok(alice.keys, "updateTemplatePermissions", id=mine["id"], accounts="bob", op="add")
    shown = cloud.ok(alice.keys, "listTemplatePermissions", id=mine["id"])["templatepermission"]
    assert shown["account"] == ["bob"]
    seen = cloud.ok(bob.keys, "listTemplates", templatefilter="sharedexecutable")["template"]
    assert [(t["id"], t["isready"], t["status"]) for t in seen] == [
        (mine["id"], True, "Download Complete")
    ]
    cloud.ok(alice.keys, "updateTemplatePermissions", id=mine["id"], op="reset")
    assert (
        cloud.ok(bob.keys, "listTemplates", templatefilter="sharedexecutable").get("count", 0) == 0
    )


def test_store_with_copies_cannot_be_deleted(images: Images) -> None:
    images.allow_loopback()
    template = images.register()
    status, text = images.error("deleteImageStore", id=images.store["id"])
    assert status in (431, 536) and "template" in text
    images.ok("deleteTemplate", id=template["id"])
    [ref] = images.rows(models.TemplateStoreRef)
    assert (ref.state, ref.destroyed) == ("Destroyed", True)
    assert images.ok("listTemplates", templatefilter="all").get("count", 0) == 0
    images.ok("deleteImageStore", id=images.store["id"])
    assert images.ok("listImageStores").get("count", 0) == 0


def test_a_copy_still_downloading_is_not_deleted(images: Images) -> None:
    images.allow_loopback()
    template = images.register()
    with images.database.sessions() as session:
        session.execute(sa.update(models.TemplateStoreRef).values(state="Creating"))
        session.commit()
    assert images.status("deleteTemplate", id=template["id"]) == 534
    [ref] = images.rows(models.TemplateStoreRef)
    assert (ref.state, ref.destroyed) == ("Creating", False)
    assert images.ok("listTemplates", templatefilter="all")["count"] == 1
