"""Store paths are checked before any file is touched; names and mount points are CloudStack's
(reference 2.1, 2.2, 5.2)."""

from __future__ import annotations

import uuid
from pathlib import Path, PurePosixPath

import pytest

from cirrostack.agent.storage import errors, mounts, naming, paths, s3
from cirrostack.protocol import storage as st


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "..",
        "a/../b",
        "./a",
        "a/./b",
        "a\x00b",
        "a\\b",
        "a b",
        "$(id)",
        "a;b",
        "-rf",
        "x" * 2000,
    ],
)
def test_a_bad_relative_path_is_refused(path: str) -> None:
    with pytest.raises(errors.PathRefused):
        paths.relative(path)


def test_a_good_path_keeps_its_segments() -> None:
    assert paths.relative("template/tmpl/2/201//x.qcow2") == PurePosixPath(
        "template/tmpl/2/201/x.qcow2"
    )


def test_a_symbolic_link_cannot_lead_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "pool"
    root.mkdir()
    (root / "out").symlink_to(tmp_path)
    assert paths.within(root, "vol") == (root / "vol").resolve()
    with pytest.raises(errors.PathRefused, match="outside its store"):
        paths.within(root, "out/escape")


def test_absolute_pool_paths_are_checked_too() -> None:
    assert paths.absolute("/export//primary/") == PurePosixPath("/export/primary")
    for bad in ("export", "/export/../etc", "/a b"):
        with pytest.raises(errors.PathRefused):
            paths.absolute(bad)


def test_an_image_store_mount_is_named_as_java_names_it() -> None:
    # Java: UUID.nameUUIDFromBytes("abc".getBytes()) == 90015098-3cd2-3fb0-9696-3f7d28e17f72
    assert mounts.store_mount_name(mounts.Export("ab", "c")) == (
        "90015098-3cd2-3fb0-9696-3f7d28e17f72"
    )
    found = mounts.parse_url("nfs://10.0.0.5//export//sec")
    assert found == mounts.Export("10.0.0.5", "/export/sec")


@pytest.mark.parametrize(
    "url", ["http://h/x", "nfs://user@h/x", "nfs://h/x?y=1", "nfs://h/../x", "nfs://-h/x"]
)
def test_a_bad_nfs_url_is_refused(url: str) -> None:
    with pytest.raises(errors.PathRefused):
        mounts.parse_url(url)


def _pool() -> st.PrimaryDataStoreTO:
    return st.PrimaryDataStoreTO(
        uuid="p", id=1, name="p", pool_type=st.StoragePoolType.FILESYSTEM, host="h", path="/p"
    )


def _volume(**fields: object) -> st.VolumeObjectTO:
    values: dict[str, object] = {
        "uuid": "vol-uuid",
        "id": 7,
        "name": "v",
        "volume_type": st.VolumeType.ROOT,
        "data_store": _pool(),
        "size": 1,
        "account_id": 2,
    }
    return st.VolumeObjectTO(**{**values, **fields})  # type: ignore[arg-type]


def test_names_on_a_pool_follow_cloudstack() -> None:
    template = st.TemplateObjectTO(
        uuid="tmpl-uuid",
        id=201,
        name="201-2-x",
        format=st.ImageFormat.QCOW2,
        image_data_store=_pool(),
    )
    assert naming.on_pool(template, None) == "tmpl-uuid"
    assert naming.on_pool(_volume(), None) == "vol-uuid"
    assert naming.on_pool(_volume(), template) == "vol-uuid"
    assert naming.on_pool(_volume(path="kept"), None) == "kept"
    copied = naming.on_pool(_volume(format=st.ImageFormat.RAW), _volume())
    assert copied.endswith(".raw") and uuid.UUID(copied.removesuffix(".raw"))
    nfs = st.NfsTO(uuid="s", url="nfs://h/x")
    from_store = naming.on_pool(_volume(), _volume(data_store=nfs))
    assert uuid.UUID(from_store) and "." not in from_store


def test_names_on_an_image_store_follow_cloudstack() -> None:
    nfs = st.NfsTO(uuid="s", url="nfs://h/x")
    bucket = st.S3TO(uuid="b", id=1, end_point="h", bucket_name="b", access_key="a", secret_key="s")
    volume = _volume(data_store=nfs)
    assert naming.on_image_store(volume, _volume()).startswith("volumes/2/7/")
    template = st.TemplateObjectTO(
        uuid="t",
        id=201,
        name="201-2-x",
        format=st.ImageFormat.QCOW2,
        image_data_store=nfs,
        account_id=2,
    )
    source = st.TemplateObjectTO(
        uuid="t",
        id=201,
        name="x",
        format=st.ImageFormat.QCOW2,
        image_data_store=nfs,
        path="template/tmpl/2/201/abc.qcow2",
    )
    assert naming.on_image_store(template, source).startswith("template/tmpl/2/201/")
    on_s3 = naming.on_image_store(
        st.TemplateObjectTO(**{**template.__dict__, "image_data_store": bucket}), source
    )
    assert on_s3 == "template/tmpl/2/201/201-2-x/abc.qcow2"


def test_template_properties_are_cloudstacks_keys() -> None:
    template = st.TemplateObjectTO(
        uuid="t",
        id=201,
        name="201-2-x",
        format=st.ImageFormat.QCOW2,
        image_data_store=st.NfsTO(uuid="s", url="nfs://h/x"),
    )
    text = naming.template_properties(template, "f.qcow2", 10, 20)
    pairs = dict(line.split("=", 1) for line in text.splitlines())
    assert pairs == {
        "id": "201",
        "uniquename": "201-2-x",
        "filename": "f.qcow2",
        "size": "10",
        "virtualsize": "20",
        "qcow2": "true",
        "qcow2.filename": "f.qcow2",
        "qcow2.size": "10",
        "qcow2.virtualsize": "20",
    }


@pytest.mark.parametrize(
    ("fmt", "provisioning", "expected"),
    [
        ("qcow2", st.ProvisioningType.THIN, "off"),
        ("qcow2", st.ProvisioningType.SPARSE, "metadata"),
        ("qcow2", st.ProvisioningType.FAT, "full"),
        ("raw", st.ProvisioningType.SPARSE, "off"),
        ("raw", st.ProvisioningType.FAT, "full"),
    ],
)
def test_preallocation_follows_the_provisioning_type(
    fmt: str, provisioning: st.ProvisioningType, expected: str
) -> None:
    assert naming.preallocation(fmt, provisioning) == expected


def test_multipart_parts_stay_within_s3s_bounds() -> None:
    assert s3.part_size(10 * 1024**2, 6 * 1024**2) == 6 * 1024**2
    assert s3.part_size(10 * 1024**2, 1024) == s3.MIN_PART
    assert s3.part_size(5 * 1024**4, 5 * 1024**3) * s3.MAX_PARTS >= 5 * 1024**4


@pytest.mark.parametrize("end_point", ["h/x", "http://h", "h:port", "", "a b"])
def test_an_s3_end_point_must_be_host_and_port(end_point: str) -> None:
    store = st.S3TO(
        uuid="b", id=1, end_point=end_point, bucket_name="b", access_key="a", secret_key="s"
    )
    with pytest.raises(errors.StorageError, match="is not host"):
        s3.client(store)
