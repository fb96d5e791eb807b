"""Storage drivers are plugins of the group ``cirrostack.storage`` (issue 8, item 2): the
built-in five are found by name with their capabilities; an entry point repeating a name with
another target, or a driver serving another kind than its name, is a start-up error."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cirrostack import plugins
from cirrostack.agent.storage import drivers, errors, filesystem, nfs, s3
from cirrostack.protocol import storage as st


@pytest.fixture
def declare(tmp_path: Path) -> Iterator[object]:
    sys.path.insert(0, str(tmp_path))

    def add(distribution: str, **points: str) -> None:
        info = tmp_path / f"{distribution}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n"
        )
        lines = "".join(f"{name} = {target}\n" for name, target in points.items())
        (info / "entry_points.txt").write_text(f"[{plugins.STORAGE_GROUP}]\n{lines}")

    yield add
    sys.path.remove(str(tmp_path))


def _declared() -> dict[str, str]:
    return plugins.discover(plugins.STORAGE_GROUP, plugins.STORAGE_BUILT_IN)


def test_the_built_in_drivers_are_found_by_store_kind() -> None:
    loaded = plugins.storage_drivers(_declared())
    assert loaded.names() == ["Filesystem", "NFS", "NetworkFilesystem", "S3", "SharedMountPoint"]
    pool = st.PrimaryDataStoreTO(
        uuid="u",
        id=1,
        name="p",
        pool_type=st.StoragePoolType.NETWORK_FILESYSTEM,
        host="h",
        path="/x",
    )
    assert loaded.of(pool) is filesystem.NETWORK_FILESYSTEM
    assert loaded.of(st.NfsTO(uuid="u", url="nfs://h/x")) is nfs.NFS
    assert drivers.Capability.LINKED_CLONE in filesystem.FILESYSTEM.capabilities
    assert drivers.Capability.SHARED not in filesystem.FILESYSTEM.capabilities
    assert drivers.Capability.SHARED in filesystem.SHARED_MOUNT_POINT.capabilities
    assert drivers.Capability.FILES not in s3.S3.capabilities


def test_a_kind_without_a_driver_is_unsupported() -> None:
    loaded = drivers.Drivers({})
    with pytest.raises(errors.Unsupported, match="no storage driver for NFS"):
        loaded.of(st.NfsTO(uuid="u", url="nfs://h/x"))


def test_a_name_declared_with_another_target_is_a_start_up_error(declare) -> None:  # type: ignore[no-untyped-def]
    declare("rogue_storage", NFS="rogue.nfs:DRIVER")
    with pytest.raises(plugins.PluginError, match="storage driver 'NFS' is declared twice"):
        _declared()


def test_a_driver_serving_another_kind_is_refused(declare) -> None:  # type: ignore[no-untyped-def]
    declare("misnamed", RBD="cirrostack.agent.storage.nfs:NFS")
    with pytest.raises(plugins.PluginError, match=r"'RBD' .* serves 'NFS'"):
        plugins.storage_drivers(_declared())


def test_a_driver_that_does_not_load_is_refused(declare) -> None:  # type: ignore[no-untyped-def]
    declare("broken", CLVM="nowhere.at.all:DRIVER")
    with pytest.raises(plugins.PluginError, match=r"storage driver 'CLVM' .* does not load"):
        plugins.storage_drivers(_declared())
