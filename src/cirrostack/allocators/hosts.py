"""Which host a VM runs on: ``decide`` (explain, no claim), ``place`` (decide and claim),
``release`` and ``release_reserved`` (give capacity back). Called by the VM lifecycle
(deployVirtualMachine, startVirtualMachine, stop, destroy) and ``explainHostPlacement``.

A decision loads the hosts in scope (``host_candidates``), judges each with every filter of
``host_filters`` (one verdict per host, all its reasons), and orders the suitable ones
(``host_order``: clusters by free capacity, then ``vm.allocation.algorithm``; the last host
first when it passes). ``place`` claims on the best host (``compute_claims``); a claim lost to a
parallel request goes on down the list, as ``pools.place`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import (
    compute_claims,
    host_candidates,
    host_filters,
    host_order,
    host_requests,
    pipeline,
    verdicts,
)
from cirrostack.db.models import infrastructure

HostRequest = host_requests.HostRequest
Reason = verdicts.Reason


@dataclass(frozen=True)
class HostVerdict:
    """One host's judgement; ``score`` (1 best .. 0) is None when rejected."""

    host_id: int
    host_uuid: str
    host_name: str
    cluster_id: int | None
    pod_id: int | None
    accepted: bool
    score: float | None
    reasons: tuple[Reason, ...] = ()
    factors: Mapping[str, float] = field(default_factory=dict)
    from_reservation: bool = False

    def described(self) -> tuple[Reason, ...]:
        """The reasons with the host's name in front: "host h1: not Up (Disconnected)"."""
        return tuple(Reason(r.code, f"host {self.host_name}: {r.text}") for r in self.reasons)


@dataclass(frozen=True)
class HostDecision:
    """The suitable hosts, best first, and the rejected ones with their reasons."""

    accepted: tuple[HostVerdict, ...]
    rejected: tuple[HostVerdict, ...]
    algorithm: str = ""
    order_clusters_by: str = ""

    @property
    def verdicts(self) -> tuple[HostVerdict, ...]:
        return self.accepted + self.rejected

    def summary(self) -> str:
        """One line: "no suitable host: 3 rejected: 2 cpu, 1 state (host h1: not Up ...)"."""
        reasons = [verdict.described() for verdict in self.rejected]
        return verdicts.summarise(len(self.accepted), reasons, noun="host")


@dataclass(frozen=True)
class Placement:
    """Where the VM goes, with the claim made: the host row, its cluster and pod, and whether
    the claim moved the VM's reservation on its last host to used."""

    host: infrastructure.Host
    cluster_id: int | None
    pod_id: int | None
    from_reservation: bool
    decision: HostDecision


def decide(
    session: Session, request: HostRequest, *, seed: int | None = None, every_host: bool = False
) -> HostDecision:
    """A verdict for every host in scope; reads only, claims nothing.

    ``every_host`` judges every host of the zone (hosts outside the request's pod, cluster
    or host are rejected for their scope). ``seed`` makes the ``random`` order reproducible.
    Raises BadStoredValue for a setting that does not parse.
    """
    loaded = host_candidates.load(session, request, every_host=every_host)
    ask = host_filters.Ask(request, loaded.settings, loaded.clusters)
    good: list[_Judged] = []
    bad: list[_Judged] = []
    for group in _groups(host_order.ordered(loaded, seed), request.last_host_id):
        passed, failed = pipeline.judge(group, ask, host_filters.ORDER, ())
        good.extend(passed)
        bad.extend(failed)
    return _decision(good, bad, ask, loaded)


_Judged = pipeline.Judged[host_candidates.HostCandidate]


def _groups(
    ordered: list[host_candidates.HostCandidate], last_host_id: int | None
) -> list[list[host_candidates.HostCandidate]]:
    """The hosts in the order they are tried, in groups: the last host alone first, then one
    group per cluster (``host_order`` keeps a cluster's hosts together)."""
    groups = [[host for host in ordered if host.id == last_host_id]]
    previous: object = object()
    for host in ordered:
        if host.id == last_host_id:
            continue
        if host.cluster_id != previous:
            groups.append([])
            previous = host.cluster_id
        groups[-1].append(host)
    return [group for group in groups if group]


def _decision(
    good: list[_Judged], bad: list[_Judged], ask: host_filters.Ask, loaded: host_candidates.Loaded
) -> HostDecision:
    count = len(good)
    accepted = tuple(
        _verdict(judged, ask, loaded, 1.0 - index / count) for index, judged in enumerate(good)
    )
    rejected = tuple(
        sorted((_verdict(judged, ask, loaded, None) for judged in bad), key=lambda v: v.host_id)
    )
    settings = loaded.settings
    return HostDecision(accepted, rejected, settings.algorithm, settings.order_clusters_by)


def _verdict(
    judged: pipeline.Judged[host_candidates.HostCandidate],
    ask: host_filters.Ask,
    loaded: host_candidates.Loaded,
    score: float | None,
) -> HostVerdict:
    host = judged.item
    factors: dict[str, float] = {
        "cluster free": float(host_order.cluster_free(loaded, host.cluster_id)),
        "host free": float(host_order.free_of(loaded, host)),
    }
    if loaded.vms_by_host:
        factors["owner vms"] = float(loaded.vms_by_host.get(host.id, 0))
    return HostVerdict(
        host_id=host.id,
        host_uuid=host.uuid,
        host_name=host.name,
        cluster_id=host.cluster_id,
        pod_id=host.pod_id,
        accepted=judged.accepted,
        score=score,
        reasons=judged.reasons,
        factors=factors if judged.accepted else {},
        from_reservation=judged.accepted and ask.from_reservation(host),
    )


def place(session: Session, request: HostRequest, *, seed: int | None = None) -> Placement:
    """Decide, then claim the VM's CPU and memory on the best host, from its reservation when
    it is the last host and the reservation covers it; a claim lost to a parallel request tries
    the next host. Inside the caller's transaction; a failed claim changes nothing.

    Hosts are judged a cluster at a time, in order, until a claim succeeds, so
    ``Placement.decision`` holds the verdicts of the clusters judged so far (``decide`` judges
    all). Raises InsufficientCapacity ("Unable to create a deployment for VM[...]: <summary>"
    over every host) when no host can be claimed; nothing is claimed then.
    """
    loaded = host_candidates.load(session, request)
    ask = host_filters.Ask(request, loaded.settings, loaded.clusters)
    claimed = compute_claims.Compute.of(request.cpus, request.speed, request.memory)
    good: list[_Judged] = []
    bad: list[_Judged] = []
    lost = 0
    for group in _groups(host_order.ordered(loaded, seed), request.last_host_id):
        passed, failed = pipeline.judge(group, ask, host_filters.ORDER, ())
        bad.extend(failed)
        for judged in passed:
            good.append(judged)
            reserved = ask.from_reservation(judged.item) and compute_claims.claim_reserved(
                session, judged.item.id, claimed
            )
            if reserved or compute_claims.claim(session, judged.item.id, claimed):
                host = session.get_one(infrastructure.Host, judged.item.id)
                decision = _decision(good, bad, ask, loaded)
                return Placement(host, host.cluster_id, host.pod_id, reserved, decision)
            lost += 1
    text = _decision(good, bad, ask, loaded).summary()
    if lost:
        text += f"; {lost} filled up by parallel requests while claiming"
    vm = f"VM[{request.vm_id}]" if request.vm_id is not None else "VM"
    raise errors.InsufficientCapacity(
        f"Unable to create a deployment for {vm} ({request.cpus}x{request.speed} MHz, "
        f"{request.memory // host_filters.MIB} MiB): {text}"
    )


def release(
    session: Session,
    host_id: int,
    cpus: int,
    speed: int,
    memory: int,
    *,
    to_reserved: bool = False,
) -> None:
    """Give a VM's capacity on ``host_id`` back: used -= VM; with ``to_reserved`` the released
    amount stays reserved for the VM on that host (a normal stop; reference 2.6)."""
    ask = compute_claims.Compute.of(cpus, speed, memory)
    if to_reserved:
        compute_claims.release_to_reserved(session, host_id, ask)
    else:
        compute_claims.release(session, host_id, ask)


def release_reserved(session: Session, host_id: int, cpus: int, speed: int, memory: int) -> None:
    """Drop a stopped VM's reservation on its last host (destroyed, or started elsewhere)."""
    compute_claims.release_reserved(
        session, host_id, compute_claims.Compute.of(cpus, speed, memory)
    )
