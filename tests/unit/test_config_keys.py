"""Setting keys: parsing and validation by type, the declarations, the registry."""

from __future__ import annotations

from typing import Any

import pytest

from cirrostack import errors as cloud_errors
from cirrostack.config import definitions, errors, keys
from cirrostack.config.definitions import ConfigKey, Scope

RATIO = ConfigKey("t.ratio", float, 0.5, "a ratio", minimum=0.0, maximum=1.0)
COUNT = ConfigKey("t.count", int, 3, "a count", minimum=1)
FLAG = ConfigKey("t.flag", bool, False, "a flag")
WORD = ConfigKey("t.word", str, "a", "a word", choices=("a", "b"))
TEXT = ConfigKey("t.text", str, "", "any text")


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        (RATIO, "0.85", 0.85),
        (RATIO, " 1 ", 1.0),
        (RATIO, "0", 0.0),
        (RATIO, "1e-1", 0.1),
        (COUNT, "42", 42),
        (COUNT, "+7", 7),
        (FLAG, "true", True),
        (FLAG, "FALSE", False),
        (WORD, "b", "b"),
        (TEXT, "anything at all", "anything at all"),
        (TEXT, "", ""),
    ],
)
def test_parse_gives_the_typed_value(key: ConfigKey[Any], text: str, value: object) -> None:
    parsed = key.parse(text)
    assert parsed == value
    assert type(parsed) is key.kind


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        (RATIO, "abc", "a decimal number from 0.0 to 1.0"),
        (RATIO, "1.5", "a decimal number from 0.0 to 1.0"),
        (RATIO, "-0.1", "a decimal number from 0.0 to 1.0"),
        (RATIO, "nan", "a decimal number"),
        (RATIO, "inf", "a decimal number"),
        (RATIO, "", "a decimal number"),
        (COUNT, "2.5", "a whole number of at least 1"),
        (COUNT, "0", "a whole number of at least 1"),
        (COUNT, "12abc", "a whole number"),
        (COUNT, "1" * 30, "a whole number"),
        (FLAG, "yes", "true or false"),
        (FLAG, "1", "true or false"),
        (WORD, "c", "one of a, b"),
    ],
)
def test_parse_refuses_with_the_key_and_the_expected_type(
    key: ConfigKey[Any], text: str, expected: str
) -> None:
    with pytest.raises(errors.InvalidValue) as caught:
        key.parse(text)
    message = str(caught.value)
    assert key.name in message
    assert expected in message
    # The API answers it as 431, like any invalid parameter value.
    assert isinstance(caught.value, cloud_errors.InvalidParameterValue)


def test_type_names_are_cloudstacks() -> None:
    assert [key.type_name for key in (FLAG, COUNT, RATIO, TEXT)] == [
        "Boolean",
        "Number",
        "Decimal",
        "String",
    ]


def test_default_text_is_the_stored_form() -> None:
    assert FLAG.default_text == "false"
    assert RATIO.default_text == "0.5"
    assert COUNT.default_text == "3"


def test_a_default_the_key_refuses_is_a_declaration_error() -> None:
    with pytest.raises(errors.InvalidValue):
        ConfigKey("t.bad", float, 2.0, "out of its own range", maximum=1.0)


def test_global_is_implied_not_listed() -> None:
    with pytest.raises(ValueError, match="GLOBAL is implied"):
        ConfigKey("t.scoped", int, 1, "x", scopes=(Scope.GLOBAL, Scope.ZONE))
    key = ConfigKey("t.scoped", int, 1, "x", scopes=(Scope.ZONE,))
    assert key.supports(Scope.GLOBAL)
    assert key.supports(Scope.ZONE)
    assert not key.supports(Scope.CLUSTER)
    assert key.scope_names() == ("global", "zone")


def test_registry_refuses_a_duplicate_name() -> None:
    with pytest.raises(errors.DuplicateKey, match=r"t\.count"):
        definitions.Registry([COUNT, ConfigKey("t.count", int, 1, "again")])


def test_registry_lookup_and_unknown_names() -> None:
    registry = definitions.Registry([COUNT, RATIO])
    assert registry.require("t.ratio") is RATIO
    assert registry.get("t.nothing") is None
    with pytest.raises(errors.UnknownKey, match=r"t\.nothing"):
        registry.require("t.nothing")
    assert [key.name for key in registry] == ["t.count", "t.ratio"]


def test_every_declared_key_is_registered() -> None:
    declared = {value for value in vars(keys).values() if isinstance(value, ConfigKey)}
    assert declared == set(keys.ALL)
    assert len(keys.REGISTRY) == len(keys.ALL)


# Section 11 of the schema reference: every allocation and capacity key, default and scopes.
SECTION_11: dict[str, tuple[str, tuple[str, ...]]] = {
    "pool.storage.capacity.disablethreshold": ("0.85", ("storagepool", "zone")),
    "pool.storage.allocated.capacity.disablethreshold": ("0.85", ("storagepool", "zone")),
    "storage.overprovisioning.factor": ("2.0", ("storagepool",)),
    "cluster.storage.capacity.notificationthreshold": ("0.75", ("cluster",)),
    "cluster.storage.allocated.capacity.notificationthreshold": ("0.75", ("cluster",)),
    "cluster.localStorage.capacity.notificationthreshold": ("0.75", ("cluster",)),
    "secondary.storage.capacity.threshold": ("0.9", ()),
    "cpu.overprovisioning.factor": ("1.0", ("cluster",)),
    "mem.overprovisioning.factor": ("1.0", ("cluster",)),
    "cluster.cpu.allocated.capacity.disablethreshold": ("0.85", ("cluster",)),
    "cluster.memory.allocated.capacity.disablethreshold": ("0.85", ("cluster",)),
    "cluster.threshold.enabled": ("true", ()),
    "cluster.cpu.allocated.capacity.notificationthreshold": ("0.75", ("cluster",)),
    "cluster.memory.allocated.capacity.notificationthreshold": ("0.75", ("cluster",)),
    "zone.secstorage.capacity.notificationthreshold": ("0.75", ("zone",)),
    "zone.virtualnetwork.publicip.capacity.notificationthreshold": ("0.75", ("zone",)),
    "zone.vlan.capacity.notificationthreshold": ("0.75", ("zone",)),
    "zone.directnetwork.publicip.capacity.notificationthreshold": ("0.75", ("zone",)),
    "pod.privateip.capacity.notificationthreshold": ("0.75", ("zone",)),
    "vm.allocation.algorithm": ("random", ()),
    "host.capacityType.to.order.clusters": ("CPU", ()),
    "capacity.check.period": ("300000", ()),
    "capacity.skipcounting.hours": ("3600", ()),
    "storage.max.volume.size": ("2000", ()),
    "custom.diskoffering.size.min": ("1", ()),
    "custom.diskoffering.size.max": ("1024", ()),
    "storage.cleanup.enabled": ("true", ()),
    "storage.cleanup.interval": ("86400", ()),
    "storage.cleanup.delay": ("86400", ()),
    "storage.template.cleanup.enabled": ("true", ()),
    "primary.storage.download.wait": ("10800", ()),
    "disk.provisioning.type.strictness": ("false", ("zone",)),
    "preferred.storage.pool": ("", ("account",)),
    "expunge.delay": ("86400", ()),
    "expunge.interval": ("86400", ()),
    "expunge.workers": ("1", ()),
    "job.expire.minutes": ("1440", ()),
    "job.cancel.threshold.minutes": ("60", ()),
    "network.gc.interval": ("600", ()),
    "network.gc.wait": ("600", ()),
    "max.account.primary.storage": ("200", ("account",)),
    "max.account.secondary.storage": ("400", ("account",)),
    "max.account.volumes": ("20", ("account",)),
    "max.account.snapshots": ("20", ("account",)),
    "max.account.templates": ("20", ("account",)),
    "max.account.user.vms": ("20", ("account",)),
    # Keys the rest of cirrostack reads.
    "default.page.size": ("500", ()),
    "ping.interval": ("60", ()),
    "ping.timeout": ("2.5", ()),
    "event.purge.delay": ("15", ()),
}


@pytest.mark.parametrize("name", sorted(SECTION_11))
def test_reference_keys_have_cloudstacks_default_and_scopes(name: str) -> None:
    default, scopes = SECTION_11[name]
    key = keys.REGISTRY.require(name)
    assert key.default_text == default
    assert key.scope_names() == ("global", *scopes)


def test_cirrostack_additions_say_so() -> None:
    for key in (keys.JOB_WORKERS, keys.JOB_LEASE_SECONDS):
        assert key.description.startswith("cirrostack:")
    assert not keys.JOB_WORKERS.is_dynamic


def test_thresholds_are_fractions() -> None:
    with pytest.raises(errors.InvalidValue):
        keys.CLUSTER_CPU_DISABLE_THRESHOLD.parse("85")
    assert keys.CLUSTER_CPU_DISABLE_THRESHOLD.parse("0.9") == 0.9


def test_limits_accept_minus_one_for_unlimited() -> None:
    assert keys.MAX_ACCOUNT_VOLUMES.parse("-1") == -1
    with pytest.raises(errors.InvalidValue):
        keys.MAX_ACCOUNT_VOLUMES.parse("-2")
