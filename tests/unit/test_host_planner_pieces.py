"""The host planner's pure pieces: request figures, filters, order, summaries."""

from __future__ import annotations

import dataclasses

from cirrostack.allocators import (
    compute_claims,
    host_candidates,
    host_filters,
    host_order,
    hosts,
    verdicts,
)

GIB = 1 << 30
Amount = host_candidates.Amount


def candidate(**changes: object) -> host_candidates.HostCandidate:
    base = host_candidates.HostCandidate(
        id=1, uuid="u1", name="h1", type="Routing", status="Up", resource_state="Enabled",
        hypervisor="KVM", cpus=4, speed=2000, zone_id=1, pod_id=1, cluster_id=1,
        zone_state="Enabled", pod_state="Enabled", cluster_state="Enabled",
        memory=Amount(0, 0, 8 * GIB), cpu=Amount(0, 0, 8000), tags=frozenset(),
    )  # fmt: skip
    return base._replace(**changes)  # type: ignore[arg-type]


SETTINGS = host_candidates.PlannerSettings(
    algorithm="firstfit", order_clusters_by="CPU", threshold_enabled=True,
    admin_on_disabled=False, cpu_threshold={1: 0.85}, memory_threshold={1: 0.85},
)  # fmt: skip


def request(**changes: object) -> hosts.HostRequest:
    base = hosts.HostRequest(zone_id=1, cpus=2, speed=1000, memory=1 * GIB, account_id=1,
                             domain_id=1)  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def ask(clusters: dict[int, host_candidates.ClusterLoad] | None = None, **changes: object):  # type: ignore[no-untyped-def]
    return host_filters.Ask(request(**changes), SETTINGS, clusters or {})


def codes(host: host_candidates.HostCandidate, context: host_filters.Ask) -> list[str]:
    return [r.code for check in host_filters.ORDER if (r := check(host, context)) is not None]


def test_request_figures_and_tags() -> None:
    vm = request(cpus=3, speed=1500, host_tags=" SSD, gpu ,,")
    assert vm.cpu_mhz == 4500 and vm.tags == frozenset({"ssd", "gpu"})
    assert compute_claims.Compute.of(3, 1500, GIB).by_type() == {0: GIB, 1: 4500, 90: 3}


def test_a_healthy_host_passes_and_each_fault_names_its_dimension() -> None:
    assert codes(candidate(), ask()) == []
    assert codes(candidate(status="Alert", cluster_state="Disabled"), ask()) == [
        "state",
        "disabled",
    ]
    assert codes(candidate(cpu=Amount(7000, 500, 8000)), ask()) == ["cpu"]
    assert codes(candidate(speed=900), ask()) == ["cpu capability"]
    assert codes(candidate(hypervisor="VMware"), ask(hypervisor="KVM")) == ["hypervisor"]
    assert codes(candidate(), ask(avoid=frozenset({1}))) == ["avoid"]
    never = candidate(cpu=Amount(0, 0, 0), memory=Amount(0, 0, 0))
    assert codes(never, ask()) == ["capacity"]


def test_the_reservation_on_the_last_host_counts_as_room() -> None:
    full = candidate(cpu=Amount(6000, 2000, 8000), memory=Amount(7 * GIB, 1 * GIB, 8 * GIB))
    assert codes(full, ask()) == ["cpu", "memory"]
    context = ask(last_host_id=1)
    assert context.from_reservation(full) and codes(full, context) == []


def test_cluster_threshold_uses_the_sums_with_the_ask() -> None:
    load = {1: host_candidates.ClusterLoad(6000, 10000, 0, 10 * GIB)}
    assert codes(candidate(), ask(load)) == []  # (6000 + 2000) / 10000 = 80%
    tight = {1: host_candidates.ClusterLoad(7000, 10000, 0, 10 * GIB)}
    reason = host_filters.cluster_threshold(candidate(), ask(tight))
    assert reason is not None and reason.text.startswith("cluster cpu 90% allocated")
    # thresholds off and the VM has run before: not checked
    off = host_filters.Ask(
        request(last_host_id=9), dataclasses.replace(SETTINGS, threshold_enabled=False), tight
    )
    assert host_filters.cluster_threshold(candidate(), off) is None


def test_clusters_most_free_first_then_firstfit_within() -> None:
    hosts_ = [
        candidate(id=1, cluster_id=1), candidate(id=2, cluster_id=2),
        candidate(id=3, cluster_id=1), candidate(id=4, cluster_id=None),
    ]  # fmt: skip
    loaded = host_candidates.Loaded(
        hosts=hosts_,
        clusters={1: host_candidates.ClusterLoad(0, 100, 0, 0),
                  2: host_candidates.ClusterLoad(0, 900, 0, 0)},
        settings=SETTINGS, vms_by_host={}, vms_by_pod={},
    )  # fmt: skip
    assert [h.id for h in host_order.ordered(loaded)] == [2, 1, 3, 4]


def test_summary_counts_first_reasons_and_names_a_lone_host() -> None:
    reason = verdicts.Reason("state", "host h1: not Up (Alert)")
    text = verdicts.summarise(0, [(reason,), (verdicts.Reason("cpu", "x"),),
                                  (verdicts.Reason("cpu", "y"),)], noun="host")  # fmt: skip
    assert text == "no suitable host: 3 rejected: 2 cpu, 1 state (host h1: not Up (Alert))"
    assert verdicts.summarise(0, [], noun="host") == "no suitable host: no candidate host in scope"
