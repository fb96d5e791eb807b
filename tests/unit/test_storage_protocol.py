"""The storage commands on the wire: every one round-trips, transfer objects cross tagged by
class, and a store or data object of the wrong kind is refused rather than guessed."""

from __future__ import annotations

import json

import pytest

from cirrostack.protocol import codec, errors, messages
from cirrostack.protocol import storage as s

POOL = s.PrimaryDataStoreTO(
    uuid="p-1",
    id=1,
    name="pool",
    pool_type=s.StoragePoolType.NETWORK_FILESYSTEM,
    host="10.0.0.6",
    path="/export/pri",
    port=2049,
    details={"nfsmountopts": "vers=4.1"},
)
NFS = s.NfsTO(uuid="n-1", url="nfs://10.0.0.5/export/sec")
S3 = s.S3TO(
    uuid="s3-1",
    id=2,
    end_point="127.0.0.1:9000",
    bucket_name="templates",
    access_key="ak",
    secret_key="sk",
    https=False,
)
TEMPLATE = s.TemplateObjectTO(
    uuid="t-1",
    id=201,
    name="201-2-abc",
    format=s.ImageFormat.QCOW2,
    image_data_store=NFS,
    path="template/tmpl/2/201/t-1.qcow2",
    checksum="{SHA-256}00",
)
VOLUME = s.VolumeObjectTO(
    uuid="v-1",
    id=9,
    name="ROOT-9",
    volume_type=s.VolumeType.ROOT,
    data_store=POOL,
    size=2**30,
    format=s.ImageFormat.QCOW2,
)
SNAPSHOT = s.SnapshotObjectTO(
    uuid="sn-1", id=4, name="snap", volume=VOLUME, data_store=S3, parents=("a", "b")
)
DISK = s.DiskTO(data=VOLUME, disk_seq=1, type="DATADISK")

EXAMPLES: list[messages.Message] = [
    s.CreateObjectCommand(data=VOLUME),
    s.CreateObjectCommand(data=VOLUME, template_path="t-1"),
    s.CopyCommand(src=TEMPLATE, dest=VOLUME, options={"a": "b"}),
    s.CopyCommand(src=SNAPSHOT, dest=TEMPLATE, cache=TEMPLATE),
    s.DeleteCommand(data=TEMPLATE),
    s.AttachCommand(disk=DISK, vm_name="i-2-9-VM"),
    s.DettachCommand(disk=DISK, vm_name="i-2-9-VM"),
    s.ModifyStoragePoolCommand(add=True, pool=POOL),
    s.DeleteStoragePoolCommand(pool=POOL),
    s.GetStorageStatsCommand(store=S3),
    s.DownloadCommand(template=TEMPLATE, url="http://h/x.qcow2", allowed_internal=("10.0.0.0/8",)),
    s.DownloadVolumeCommand(volume=VOLUME, url="http://h/v.qcow2", checksum="{MD5}00"),
    s.ReadObjectCommand(store=S3, path="volumes/2/7/x.qcow2", offset=4, length=8),
    s.ResizeVolumeCommand(volume=VOLUME, new_size=2**31),
    s.CreateObjectAnswer(data=VOLUME),
    s.CopyCmdAnswer(new_data=TEMPLATE),
    s.AttachAnswer(disk=DISK),
    s.DettachAnswer(disk=DISK),
    s.ModifyStoragePoolAnswer(
        local_path="/mnt/p-1",
        capacity_bytes=10,
        available_bytes=5,
        pool_type=s.StoragePoolType.NETWORK_FILESYSTEM,
        template_info={"t-1": s.TemplateProp(uuid="t-1", path="t-1", size=3, physical_size=2)},
    ),
    s.GetStorageStatsAnswer(capacity_bytes=10, used_bytes=3),
    s.DownloadAnswer(template=TEMPLATE, checksum="{MD5}00"),
    s.DownloadVolumeAnswer(volume=VOLUME, physical_size=3, checksum="{MD5}00"),
    s.ReadObjectAnswer(data="AAEC", size=3),
    s.ResizeVolumeAnswer(new_size=2**31),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_storage_message_round_trips(message: messages.Message) -> None:
    assert codec.decode(codec.encode(message)) == message


def test_every_storage_message_has_an_example() -> None:
    assert {type(m) for m in EXAMPLES} == {*s.COMMANDS, *s.ANSWERS}


def test_transfer_objects_cross_tagged_by_class() -> None:
    body = json.loads(codec.encode(s.CopyCommand(src=TEMPLATE, dest=VOLUME)))["body"]
    assert list(body["src"]) == ["TemplateObjectTO"]
    assert list(body["src"]["TemplateObjectTO"]["image_data_store"]) == ["NfsTO"]
    assert list(body["dest"]["VolumeObjectTO"]["data_store"]) == ["PrimaryDataStoreTO"]


def _pool_command(pool: object) -> str:
    text = codec.encode(s.ModifyStoragePoolCommand(add=True, pool=POOL))
    envelope = json.loads(text)
    envelope["body"]["pool"] = pool
    return json.dumps(envelope)


@pytest.mark.parametrize(
    ("pool", "why"),
    [
        ({"NfsTO": {"uuid": "n", "url": "nfs://h/e"}}, "'NfsTO' is not one of"),
        ({"uuid": "p-1", "id": 1}, "expected {<transfer object>"),
        (None, "expected {<transfer object>"),
        ({"PrimaryDataStoreTO": {}, "NfsTO": {}}, "expected {<transfer object>"),
        ({"PrimaryDataStoreTO": {"uuid": "p"}}, "missing field"),
        ({"Bogus": {}}, "'Bogus' is not one of"),
    ],
)
def test_a_store_of_the_wrong_kind_is_refused(pool: object, why: str) -> None:
    with pytest.raises(errors.MalformedMessage, match=why):
        codec.decode(_pool_command(pool))


def test_an_optional_transfer_object_may_be_null() -> None:
    command = s.CopyCommand(src=TEMPLATE, dest=VOLUME, cache=None)
    assert json.loads(codec.encode(command))["body"]["cache"] is None
    assert codec.decode(codec.encode(command)) == command
