"""What an offering says about the storage of a disk: its kind, its placement and its limits.

A disk offering carries these directly; a service offering carries them on the hidden disk
offering that describes its root disk. Both are built from one ``StorageSpec``, checked once,
so the two paths cannot disagree on what a valid value is.

Called by ``disk_offerings`` and ``service_offerings`` while creating or updating a row. Every
check raises ``errors.InvalidParameterValue`` naming the API parameter at fault.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import TypeVar

from cirrostack import errors
from cirrostack.db.models import offerings as models

GIB = 1024**3


class ProvisioningType(enum.StrEnum):
    """How a volume is allocated; stored lowercase, as CloudStack stores it."""

    THIN = "thin"
    SPARSE = "sparse"
    FAT = "fat"


class StorageType(enum.StrEnum):
    """Where a volume lives: on the host's local disk or on shared primary storage."""

    SHARED = "shared"
    LOCAL = "local"


class CacheMode(enum.StrEnum):
    """The hypervisor's disk cache mode (``cacheMode`` in answers)."""

    NONE = "none"
    WRITEBACK = "writeback"
    WRITETHROUGH = "writethrough"
    HYPERVISOR_DEFAULT = "hypervisor_default"


Choice = TypeVar("Choice", bound=enum.StrEnum)


def choice(kind: type[Choice], text: str | None, parameter: str) -> Choice | None:
    """The member of ``kind`` spelled ``text`` (any case); None when ``text`` is None."""
    if text is None:
        return None
    for member in kind:
        if member.value == text.strip().lower():
            return member
    valid = ", ".join(member.value for member in kind)
    raise errors.InvalidParameterValue(f"Invalid {parameter} {text!r}: valid values are {valid}")


def clean_tags(text: str | None) -> str | None:
    """Tags as CloudStack keeps them: comma-separated, each trimmed; None when there are none."""
    if text is None:
        return None
    tags = [tag.strip() for tag in text.split(",") if tag.strip()]
    return ",".join(tags) or None


def size_in_bytes(gigabytes: int, parameter: str, maximum: int) -> int:
    """``gigabytes`` (1 .. ``maximum``) in bytes; raises InvalidParameterValue otherwise.

    ``maximum`` is ``storage.max.volume.size``, which CloudStack checks offerings against.
    """
    if gigabytes <= 0:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {gigabytes}: specify a disk size of at least 1 GB"
        )
    if gigabytes > maximum:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {gigabytes}: the maximum size for a disk is "
            f"{maximum} GB (storage.max.volume.size)"
        )
    return gigabytes * GIB


@dataclass(frozen=True)
class RateLimits:
    """Hypervisor-side QoS: bytes and I/O requests per second, with bursts (max, length in s).

    The field names are the ``disk_offering`` columns; the API parameter is the name without
    underscores (``bytesreadratemax``), the answer key ``disk`` + CamelCase
    (``diskBytesReadRateMax``).
    """

    bytes_read_rate: int | None = None
    bytes_read_rate_max: int | None = None
    bytes_read_rate_max_length: int | None = None
    bytes_write_rate: int | None = None
    bytes_write_rate_max: int | None = None
    bytes_write_rate_max_length: int | None = None
    iops_read_rate: int | None = None
    iops_read_rate_max: int | None = None
    iops_read_rate_max_length: int | None = None
    iops_write_rate: int | None = None
    iops_write_rate_max: int | None = None
    iops_write_rate_max_length: int | None = None

    def checked(self) -> RateLimits:
        """The limits to store: negatives refused, 0 meaning "no limit" (None), max ≥ rate."""
        values = {}
        for name in RATE_FIELDS:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise errors.InvalidParameterValue(
                    f"Invalid {parameter_name(name)} {value}: a rate must not be negative"
                )
            values[name] = value or None
        for rate in ("bytes_read_rate", "bytes_write_rate", "iops_read_rate", "iops_write_rate"):
            normal, burst = values[rate], values[f"{rate}_max"]
            if normal is not None and burst is not None and burst < normal:
                raise errors.InvalidParameterValue(
                    f"{parameter_name(rate)} ({normal}) cannot be greater than "
                    f"{parameter_name(rate + '_max')} ({burst})"
                )
        return RateLimits(**values)

    def given(self) -> dict[str, int]:
        """The limits that were set, by column name."""
        return {name: getattr(self, name) for name in RATE_FIELDS if getattr(self, name)}


RATE_FIELDS = tuple(field.name for field in dataclasses.fields(RateLimits))


def parameter_name(field: str) -> str:
    """The API parameter of a RateLimits field: ``bytes_read_rate`` → ``bytesreadrate``."""
    return field.replace("_", "")


def answer_key(field: str) -> str:
    """The answer key of a RateLimits field: ``bytes_read_rate`` → ``diskBytesReadRate``."""
    return "disk" + "".join(part.title() for part in field.split("_"))


@dataclass(frozen=True)
class StorageSpec:
    """Everything a disk offering says about storage except its size."""

    provisioning_type: ProvisioningType = ProvisioningType.THIN
    storage_type: StorageType = StorageType.SHARED
    tags: str | None = None
    #: True: each volume picks its IOPS; False: fixed min/max IOPS; None: no storage QoS.
    customized_iops: bool | None = None
    min_iops: int | None = None
    max_iops: int | None = None
    rates: RateLimits = RateLimits()
    hypervisor_snapshot_reserve: int | None = None
    cache_mode: CacheMode | None = None
    encrypt: bool = False

    def write_to(self, row: models.DiskOffering) -> None:
        """Check the spec and set it on ``row`` (a new disk offering row)."""
        customized, low, high = _iops(self.customized_iops, self.min_iops, self.max_iops)
        reserve = self.hypervisor_snapshot_reserve
        if reserve is not None and reserve < 0:
            raise errors.InvalidParameterValue(
                f"Invalid hypervisorsnapshotreserve {reserve}: it must not be negative"
            )
        row.provisioning_type = self.provisioning_type.value
        row.use_local_storage = self.storage_type is StorageType.LOCAL
        row.tags = clean_tags(self.tags)
        row.customized_iops, row.min_iops, row.max_iops = customized, low, high
        row.hv_ss_reserve = reserve
        row.cache_mode = None if self.cache_mode is None else self.cache_mode.value
        row.encrypt = self.encrypt
        write_rates(row, self.rates.checked())


def write_rates(row: models.DiskOffering, rates: RateLimits) -> None:
    """Set every rate column of ``rates`` (already checked) on ``row``."""
    for name in RATE_FIELDS:
        setattr(row, name, getattr(rates, name))


def _iops(
    customized: bool | None, low: int | None, high: int | None
) -> tuple[bool | None, int | None, int | None]:
    """The stored (customized_iops, min_iops, max_iops); given IOPS imply fixed IOPS."""
    if customized:
        if low is not None or high is not None:
            raise errors.InvalidParameterValue(
                "miniops and maxiops are chosen for each volume when customizediops is true; "
                "give them only with customizediops=false"
            )
        return True, None, None
    if low is None and high is None:
        # CloudStack stores 0/0 for fixed IOPS given without values.
        return (None, None, None) if customized is None else (False, 0, 0)
    if low is None or high is None or low <= 0:
        raise errors.InvalidParameterValue(
            "Fixed IOPS need both miniops (greater than 0) and maxiops"
        )
    if low > high:
        raise errors.InvalidParameterValue(
            f"miniops ({low}) must be less than or equal to maxiops ({high})"
        )
    return False, low, high
