"""Pure rules of offerings: storage values, sizes, IOPS, rate limits, compute, domain paths."""

from __future__ import annotations

import pytest

from cirrostack import errors
from cirrostack.db.models import offerings as models
from cirrostack.offerings import scope, service_offerings, storage


def test_choices_are_case_insensitive_and_stored_lowercase() -> None:
    kind = storage.choice(storage.ProvisioningType, "SPARSE", "provisioningtype")
    assert kind is storage.ProvisioningType.SPARSE
    assert (
        storage.choice(storage.StorageType, " Local ", "storagetype") is storage.StorageType.LOCAL
    )
    assert storage.choice(storage.CacheMode, None, "cachemode") is None


def test_an_unknown_choice_names_the_parameter_and_the_valid_values() -> None:
    with pytest.raises(errors.InvalidParameterValue, match=r"provisioningtype.*thin, sparse, fat"):
        storage.choice(storage.ProvisioningType, "thick", "provisioningtype")


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [("ssd", "ssd"), (" ssd , fast ", "ssd,fast"), ("a,,b,", "a,b"), (" , ", None), (None, None)],
)
def test_tags_are_trimmed_and_joined_by_commas(text: str | None, cleaned: str | None) -> None:
    assert storage.clean_tags(text) == cleaned


def test_sizes_are_whole_gigabytes_up_to_the_maximum() -> None:
    assert storage.size_in_bytes(1, "disksize", 2000) == 1024**3
    assert storage.size_in_bytes(2000, "disksize", 2000) == 2000 * 1024**3
    for bad in (0, -5, 2001, 2**62):
        with pytest.raises(errors.InvalidParameterValue, match="disksize"):
            storage.size_in_bytes(bad, "disksize", 2000)


def test_rate_names_follow_cloudstack_parameters_and_answer_keys() -> None:
    assert storage.parameter_name("bytes_read_rate_max_length") == "bytesreadratemaxlength"
    assert storage.answer_key("bytes_read_rate_max_length") == "diskBytesReadRateMaxLength"
    assert storage.answer_key("iops_write_rate") == "diskIopsWriteRate"
    assert len(storage.RATE_FIELDS) == 12


def test_rates_refuse_negatives_and_bursts_below_the_rate() -> None:
    with pytest.raises(errors.InvalidParameterValue, match="iopswriterate"):
        storage.RateLimits(iops_write_rate=-1).checked()
    with pytest.raises(errors.InvalidParameterValue, match="bytesreadratemax"):
        storage.RateLimits(bytes_read_rate=100, bytes_read_rate_max=50).checked()
    checked = storage.RateLimits(bytes_read_rate=0, bytes_write_rate=5, bytes_write_rate_max=5)
    assert checked.checked() == storage.RateLimits(bytes_write_rate=5, bytes_write_rate_max=5)


def _written(spec: storage.StorageSpec) -> models.DiskOffering:
    row = models.DiskOffering()
    spec.write_to(row)
    return row


@pytest.mark.parametrize(
    ("customized", "low", "high", "stored"),
    [
        (None, None, None, (None, None, None)),
        (True, None, None, (True, None, None)),
        (False, None, None, (False, 0, 0)),
        (False, 100, 200, (False, 100, 200)),
        (None, 100, 100, (False, 100, 100)),
    ],
)
def test_iops_kinds(
    customized: bool | None,
    low: int | None,
    high: int | None,
    stored: tuple[bool | None, int | None, int | None],
) -> None:
    row = _written(storage.StorageSpec(customized_iops=customized, min_iops=low, max_iops=high))
    assert (row.customized_iops, row.min_iops, row.max_iops) == stored


@pytest.mark.parametrize(
    ("customized", "low", "high", "message"),
    [
        (True, 100, 200, "customizediops is true"),
        (False, 0, 10, "greater than 0"),
        (None, 10, None, "both miniops"),
        (None, 300, 200, "less than or equal"),
    ],
)
def test_bad_iops_are_refused(
    customized: bool | None, low: int | None, high: int | None, message: str
) -> None:
    spec = storage.StorageSpec(customized_iops=customized, min_iops=low, max_iops=high)
    with pytest.raises(errors.InvalidParameterValue, match=message):
        _written(spec)


def test_spec_writes_every_column() -> None:
    row = _written(
        storage.StorageSpec(
            provisioning_type=storage.ProvisioningType.FAT,
            storage_type=storage.StorageType.LOCAL,
            tags=" a ,b",
            rates=storage.RateLimits(iops_read_rate=10),
            hypervisor_snapshot_reserve=20,
            cache_mode=storage.CacheMode.WRITEBACK,
            encrypt=True,
        )
    )
    assert (row.provisioning_type, row.use_local_storage, row.tags) == ("fat", True, "a,b")
    assert (row.iops_read_rate, row.hv_ss_reserve, row.cache_mode, row.encrypt) == (
        10,
        20,
        "writeback",
        True,
    )
    with pytest.raises(errors.InvalidParameterValue, match="hypervisorsnapshotreserve"):
        _written(storage.StorageSpec(hypervisor_snapshot_reserve=-1))


Compute = service_offerings.Compute


@pytest.mark.parametrize(
    ("compute", "customized", "bounds"),
    [
        (Compute(cpu_number=1, cpu_speed=500, memory=512), False, {}),
        (Compute(cpu_number=1, cpu_speed=0, memory=32), False, {}),
        (Compute(), True, {}),
        (Compute(customized=True, cpu_speed=1000), True, {}),
        (
            Compute(
                customized=True, min_cpu_number=1, max_cpu_number=4, min_memory=512, max_memory=512
            ),
            True,
            {"mincpunumber": "1", "maxcpunumber": "4", "minmemory": "512", "maxmemory": "512"},
        ),
    ],
)
def test_compute_kinds(compute: Compute, customized: bool, bounds: dict[str, str]) -> None:
    assert service_offerings._checked_compute(compute, is_system=False) == (customized, bounds)


@pytest.mark.parametrize(
    ("compute", "message"),
    [
        (Compute(cpu_number=0, cpu_speed=500, memory=512), "cpunumber 0"),
        (Compute(cpu_number=1, cpu_speed=-1, memory=512), "cpuspeed -1"),
        (Compute(cpu_number=1, cpu_speed=500, memory=31), "memory 31"),
        (Compute(cpu_number=1, memory=512), "needs cpuspeed"),
        (Compute(customized=False), "needs cpunumber, cpuspeed, memory"),
        (Compute(customized=True, cpu_number=2), "takes cpunumber and memory at deployment"),
        (Compute(customized=True, min_cpu_number=1), "together"),
        (Compute(cpu_number=1, cpu_speed=1, memory=64, min_memory=32), "only to customized"),
        (
            Compute(
                customized=True, min_cpu_number=4, max_cpu_number=2, min_memory=64, max_memory=64
            ),
            r"mincpunumber \(4\) must not be greater than maxcpunumber \(2\)",
        ),
        (
            Compute(
                customized=True, min_cpu_number=1, max_cpu_number=2, min_memory=16, max_memory=64
            ),
            "minmemory 16",
        ),
    ],
)
def test_bad_compute_is_refused(compute: Compute, message: str) -> None:
    with pytest.raises(errors.InvalidParameterValue, match=message):
        service_offerings._checked_compute(compute, is_system=False)


def test_system_offerings_are_never_customized() -> None:
    with pytest.raises(errors.InvalidParameterValue, match="system offering"):
        service_offerings._checked_compute(Compute(), is_system=True)


def test_ancestor_paths_run_from_root_to_the_domain_itself() -> None:
    assert scope._ancestor_paths("/") == ["/"]
    assert scope._ancestor_paths("/a/b/") == ["/", "/a/", "/a/b/"]
