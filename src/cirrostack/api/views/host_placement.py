"""Response object of explainHostPlacement: the host planner's decision, host by host."""

from __future__ import annotations

from typing import Any

from cirrostack.allocators import hosts
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import placement

VERDICT = (
    Field("id", "string", "the ID of the host"),
    Field("name", "string", "the name of the host"),
    Field("clusterid", "string", "the ID of the host's cluster"),
    Field("suitable", "boolean", "true if the host may take the VM"),
    Field("rank", "integer", "the order in which a suitable host is tried, from 1"),
    Field("score", "double", "1 for the first suitable host down to 0 (rank as a weight)"),
    Field("fromreservation", "boolean", "true if the VM would take its reservation there"),
    Field("reasons", "list", "why the host is not suitable", placement.REASON),
    Field("factors", "map", "the figures the order used (cluster free, host free, owner vms)"),
)

PLACEMENT = ObjectSpec(
    "hostplacement",
    (
        Field("summary", "string", "the decision in one line, as a failed deployment reports it"),
        Field("algorithm", "string", "the host order in effect (vm.allocation.algorithm)"),
        Field(
            "orderclustersby",
            "string",
            "what orders the clusters (host.capacityType.to.order.clusters)",
        ),
        Field("host", "list", "every host of the zone with its verdict", VERDICT),
    ),
)


def verdict_item(
    verdict: hosts.HostVerdict, rank: int | None, clusters: dict[int, str]
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": verdict.host_uuid,
        "name": verdict.host_name,
        "suitable": verdict.accepted,
        "reasons": [{"code": r.code, "text": r.text} for r in verdict.reasons],
    }
    if verdict.cluster_id is not None and verdict.cluster_id in clusters:
        item["clusterid"] = clusters[verdict.cluster_id]
    if verdict.score is not None:
        item["rank"] = rank
        item["score"] = round(verdict.score, 6)
        item["fromreservation"] = verdict.from_reservation
        item["factors"] = dict(verdict.factors)
    return item


def placement_item(decision: hosts.HostDecision, clusters: dict[int, str]) -> dict[str, Any]:
    found = [verdict_item(v, rank, clusters) for rank, v in enumerate(decision.accepted, start=1)]
    found += [verdict_item(v, None, clusters) for v in decision.rejected]
    return {
        "summary": decision.summary(),
        "algorithm": decision.algorithm,
        "orderclustersby": decision.order_clusters_by,
        "host": found,
    }
