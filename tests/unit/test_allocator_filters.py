"""The pool filters, weighers, pipeline and summary as pure functions over Candidate tuples."""

from __future__ import annotations

import dataclasses

import pytest

from cirrostack.allocators import (
    candidates,
    pipeline,
    pool_filters,
    pool_settings,
    pool_weighers,
    requests,
    verdicts,
)

GIB = 1 << 30
DEFAULTS = pool_settings.PoolSettings(0.85, 0.85, 2.0)


def pool(**changes: object) -> candidates.Candidate:
    base = candidates.Candidate(
        id=1, uuid="u1", name="p1", pool_type="NetworkFilesystem", scope="CLUSTER", status="Up",
        hypervisor=None, cluster_id=10, pod_id=20, cluster_name="c1", cluster_hypervisor="KVM",
        cluster_state="Enabled", pod_state="Enabled", zone_state="Enabled",
        capacity_bytes=100 * GIB, used_bytes=0, capacity_iops=None, capacity_type=3,
        allocated=0, allocated_total=100 * GIB, tags=frozenset(), rule_tags=(),
        settings=DEFAULTS, template_here=False, host_ids=frozenset(), owner_volumes=0,
        iops_used=0,
    )  # fmt: skip
    return base._replace(**changes)  # type: ignore[arg-type]


def ask(template_size: int = 0, **changes: object) -> pool_filters.Ask:
    request = requests.VolumeRequest(
        zone_id=1, size=10 * GIB, disk_offering_id=None, tags=(), use_local_storage=False
    )
    return pool_filters.Ask.of(dataclasses.replace(request, **changes), template_size)  # type: ignore[arg-type]


def test_avoid() -> None:
    assert pool_filters.avoid(pool(), ask(avoid=frozenset({1}))) == verdicts.Reason(
        "avoid", "in the avoid set"
    )
    assert pool_filters.avoid(pool(), ask(avoid=frozenset({2}))) is None


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"status": "Maintenance"}, "pool is Maintenance"),
        ({"status": "Disabled"}, "pool is Disabled"),
        ({"cluster_state": "Disabled"}, "cluster c1 is Disabled"),
        ({"pod_state": "Disabled"}, "pod is Disabled"),
        ({"zone_state": "Disabled"}, "zone is Disabled"),
    ],
)
def test_state_rejects_what_is_not_up_and_enabled(changes: dict[str, object], text: str) -> None:
    assert pool_filters.state(pool(**changes), ask()) == verdicts.Reason("state", text)


def test_state_passes_an_up_pool() -> None:
    assert pool_filters.state(pool(), ask()) is None


def test_scope_local_pools_only_for_local_offerings() -> None:
    local = pool(scope="HOST", host_ids=frozenset({7}))
    assert pool_filters.scope(local, ask()).code == "scope"  # type: ignore[union-attr]
    assert pool_filters.scope(local, ask(use_local_storage=True)) is None
    assert pool_filters.scope(local, ask(use_local_storage=True, host_id=7)) is None
    assert (
        "another host"
        in pool_filters.scope(  # type: ignore[union-attr]
            local, ask(use_local_storage=True, host_id=8)
        ).text
    )
    assert pool_filters.scope(pool(), ask(use_local_storage=True)).code == "scope"  # type: ignore[union-attr]


def test_scope_cluster_pools_in_the_requested_cluster_or_pod_zone_pools_anywhere() -> None:
    assert pool_filters.scope(pool(), ask(cluster_id=10)) is None
    assert pool_filters.scope(pool(), ask(cluster_id=11)).code == "scope"  # type: ignore[union-attr]
    assert pool_filters.scope(pool(), ask(pod_id=21)).code == "scope"  # type: ignore[union-attr]
    zone_pool = pool(scope="ZONE", cluster_id=None, pod_id=None, cluster_name=None)
    assert pool_filters.scope(zone_pool, ask(cluster_id=11, pod_id=21)) is None


def test_hypervisor() -> None:
    assert pool_filters.hypervisor(pool(), ask(hypervisor="kvm")) is None
    assert pool_filters.hypervisor(pool(), ask(hypervisor="XenServer")).code == "hypervisor"  # type: ignore[union-attr]
    assert pool_filters.hypervisor(pool(), ask()) is None
    for have, fits in ((None, True), ("Any", True), ("KVM", True), ("VMware", False)):
        zone_pool = pool(scope="ZONE", hypervisor=have, cluster_hypervisor=None)
        assert (pool_filters.hypervisor(zone_pool, ask(hypervisor="KVM")) is None) is fits


def test_format_pool_type_the_hypervisor_can_use() -> None:
    assert pool_filters.pool_format(pool(), ask(hypervisor="KVM")) is None
    assert pool_filters.pool_format(pool(pool_type="VMFS"), ask(hypervisor="KVM")).code == "format"  # type: ignore[union-attr]
    assert pool_filters.pool_format(pool(pool_type="VMFS"), ask(hypervisor="VMware")) is None


#: The rule table of #4194 (field lessons 1A-5): offering tags ⊆ pool tags; untagged matches.
TAG_TABLE = [
    ((), (), True),
    ((), ("ssd",), True),
    (("ssd",), (), False),
    (("ssd",), ("ssd",), True),
    (("ssd",), ("ssd", "fast"), True),
    (("ssd", "fast"), ("ssd",), False),
    (("ssd", "fast"), ("fast", "ssd"), True),
    (("SSD",), ("ssd",), True),
    (("ssd",), ("hdd",), False),
]


@pytest.mark.parametrize(("offering", "on_pool", "fits"), TAG_TABLE)
def test_tags_rule_table(offering: tuple[str, ...], on_pool: tuple[str, ...], fits: bool) -> None:
    candidate = pool(tags=frozenset(tag.casefold() for tag in on_pool))
    assert (pool_filters.tags(candidate, ask(tags=offering)) is None) is fits


def test_tags_names_what_is_missing() -> None:
    reason = pool_filters.tags(pool(tags=frozenset({"ssd"})), ask(tags=("fast",)))
    assert reason == verdicts.Reason("tags", "pool tags ['ssd'] lack ['fast']")


def test_a_rule_tag_is_evaluated_for_the_offering_tags() -> None:
    ruled = pool(rule_tags=("tags.length == 0 || tags.includes('SSD')",))
    assert pool_filters.tags(ruled, ask()) is None  # untagged offering: tags is []
    assert pool_filters.tags(ruled, ask(tags=("SSD", "fast"))) is None
    reason = pool_filters.tags(ruled, ask(tags=("ssd",)))  # JavaScript compares with case
    assert reason == verdicts.Reason(
        "tags", "rule tag \"tags.length == 0 || tags.includes('SSD')\" is not true for ['ssd']"
    )
    # A plain tag on the same pool is not consulted (CloudStack: a pool's one tag is the rule).
    assert pool_filters.tags(ruled._replace(tags=frozenset({"hdd"})), ask(tags=("SSD",))) is None


def test_a_rule_tag_outside_the_subset_or_past_its_timeout_says_so() -> None:
    reason = pool_filters.tags(pool(rule_tags=("x == 1",)), ask())
    assert reason is not None and reason.code == "tag rule"
    assert "not evaluated: unsupported 'x'" in reason.text and "subset" in reason.text
    slow = dataclasses.replace(ask(), rule_timeout_ms=-1)
    reason = pool_filters.tags(pool(rule_tags=("tags.length == 0 || true",)), slow)
    assert reason is not None and reason.code == "tag rule"
    assert "storage.tag.rule.execution.timeout" in reason.text


def test_iops() -> None:
    iops_pool = pool(capacity_iops=1000, iops_used=900)
    assert pool_filters.iops(iops_pool, ask(min_iops=100)) is None
    assert pool_filters.iops(iops_pool, ask(min_iops=101)).code == "iops"  # type: ignore[union-attr]
    assert pool_filters.iops(pool(), ask(min_iops=10**9)) is None


def test_used_space_threshold_and_its_scoped_value() -> None:
    assert pool_filters.used_space(pool(used_bytes=84 * GIB), ask()) is None
    reason = pool_filters.used_space(pool(used_bytes=85 * GIB), ask())
    assert reason == verdicts.Reason("used capacity", "85% used >= 85%")
    loose = pool(used_bytes=90 * GIB, settings=pool_settings.PoolSettings(0.95, 0.85, 2.0))
    assert pool_filters.used_space(loose, ask()) is None


def test_allocated_space_counts_the_template_only_where_its_copy_is_missing() -> None:
    almost = pool(allocated=70 * GIB)
    assert pool_filters.allocated_space(almost, ask()) is None  # 80% after 10 GiB
    reason = pool_filters.allocated_space(almost, ask(template_size=10 * GIB))
    assert reason == verdicts.Reason("allocated capacity", "90% > 85%")
    assert pool_filters.allocated_space(almost._replace(template_here=True), ask(10 * GIB)) is None


def test_allocated_space_never_beyond_the_total_and_needs_a_row() -> None:
    full = pool(allocated=95 * GIB, settings=pool_settings.PoolSettings(0.85, 1.0, 1.0))
    assert pool_filters.allocated_space(full, ask()).code == "allocated capacity"  # type: ignore[union-attr]
    assert (
        "no allocated"
        in pool_filters.allocated_space(  # type: ignore[union-attr]
            pool(capacity_type=None), ask()
        ).text
    )


def test_normalised() -> None:
    assert pipeline.normalised([]) == []
    assert pipeline.normalised([3, 3]) == [0.0, 0.0]
    assert pipeline.normalised([1, 3, 2]) == [0.0, 1.0, 0.5]


def test_firstfitleastconsumed_orders_by_free_fraction() -> None:
    pools = [
        pool(id=1, allocated=50 * GIB),
        pool(id=2, allocated=0),
        pool(id=3, allocated=20 * GIB),
    ]
    weighers = pool_weighers.weighers(pool_weighers.Algorithm.FIRSTFITLEASTCONSUMED)
    good, bad = pipeline.judge(pools, ask(), pool_filters.ORDER, weighers)
    assert [judged.item.id for judged in good] == [2, 3, 1]
    assert good[0].score == 1.0 and good[-1].score == 0.0
    assert not bad


def test_userdispersing_orders_by_the_owners_volume_count() -> None:
    pools = [pool(id=1, owner_volumes=5), pool(id=2, owner_volumes=0), pool(id=3, owner_volumes=2)]
    weighers = pool_weighers.weighers(pool_weighers.Algorithm.USERDISPERSING)
    good, _ = pipeline.judge(pools, ask(), pool_filters.ORDER, weighers)
    assert [judged.item.id for judged in good] == [2, 3, 1]


def test_firstfit_keeps_the_database_order_and_random_is_seeded() -> None:
    pools = [pool(id=index) for index in range(1, 30)]
    weighers = pool_weighers.weighers(pool_weighers.Algorithm.FIRSTFIT)
    good, _ = pipeline.judge(pools, ask(), pool_filters.ORDER, weighers)
    assert [judged.item.id for judged in good] == list(range(1, 30))
    one = pool_weighers.ordered(pools, pool_weighers.Algorithm.RANDOM, seed=7)
    assert one == pool_weighers.ordered(pools, pool_weighers.Algorithm.RANDOM, seed=7)
    assert one != pools and sorted(one) == sorted(pools)


def test_random_without_an_owner() -> None:
    least = pool_weighers.Algorithm.FIRSTFITLEASTCONSUMED
    assert pool_weighers.effective(least, None) is pool_weighers.Algorithm.RANDOM
    assert pool_weighers.effective(least, 5) is least


def test_a_rejected_pool_lists_every_reason() -> None:
    bad = pool(status="Disabled", tags=frozenset({"hdd"}), allocated=99 * GIB)
    _, rejected = pipeline.judge([bad], ask(tags=("ssd",)), pool_filters.ORDER, ())
    assert [reason.code for reason in rejected[0].reasons] == [
        "state", "tags", "allocated capacity",
    ]  # fmt: skip


def verdict(ident: int, *reasons: verdicts.Reason) -> verdicts.Verdict:
    return verdicts.Verdict(ident, f"u{ident}", f"p{ident}", "c", not reasons, None, reasons)


def test_summary() -> None:
    tags = verdicts.Reason("tags", "x")
    full = verdicts.Reason("allocated capacity", "92% > 85%")
    decision = verdicts.Decision((), (verdict(1, tags), verdict(2, tags), verdict(3, full)))
    assert decision.summary() == (
        "no suitable pool: 3 rejected: 2 tags, 1 allocated capacity (92% > 85%)"
    )
    assert verdicts.Decision((), ()).summary() == "no suitable pool: no candidate pool in scope"
    assert (
        verdicts.Decision((verdict(4),), (verdict(3, full),))
        .summary()
        .startswith("1 suitable pool: 1 rejected")
    )
