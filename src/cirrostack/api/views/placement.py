"""Response objects of the placement commands: an allocator decision, pools for migration."""

from __future__ import annotations

from typing import Any

from cirrostack.allocators import verdicts
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.db.models import storage as models

REASON = (
    Field("code", "string", "the dimension: avoid, state, scope, hypervisor, format, tags, ..."),
    Field("text", "string", "the detail"),
)

WEIGHER = (
    Field("name", "string", "the weigher: free (allocated capacity) or dispersion"),
    Field("multiplier", "double", "its multiplier (volume.allocation.*.multiplier)"),
)

VERDICT = (
    Field("id", "string", "the ID of the storage pool"),
    Field("name", "string", "the name of the storage pool"),
    Field("allocator", "string", "the allocator that judged the pool"),
    Field("suitable", "boolean", "true if the pool may take the volume"),
    Field("score", "double", "the weight of a suitable pool (higher is tried first)"),
    Field("rank", "integer", "the order in which a suitable pool is tried, from 1"),
    Field("reasons", "list", "why the pool is not suitable", REASON),
    Field("factors", "map", "the normalised weigher values of a suitable pool"),
)

PLACEMENT = ObjectSpec(
    "storageplacement",
    (
        Field("summary", "string", "the decision in one line, as a failed placement reports it"),
        Field("algorithm", "string", "the ordering in effect (volume.allocation.algorithm)"),
        Field(
            "weighers",
            "list",
            "each weigher's multiplier: a score is the sum of multiplier x factor",
            WEIGHER,
        ),
        Field("storagepool", "list", "every candidate pool with its verdict", VERDICT),
    ),
)

MIGRATION_POOL = ObjectSpec(
    "storagepool",
    (
        Field("id", "string", "the ID of the storage pool"),
        Field("name", "string", "the name of the storage pool"),
        Field("type", "string", "the storage pool type"),
        Field("scope", "string", "the scope of the storage pool"),
        Field("state", "string", "the state of the storage pool"),
        Field("disksizetotal", "long", "the total disk size of the storage pool"),
        Field("disksizeused", "long", "the host's currently used disk size"),
        Field("suitableformigration", "boolean", "true if the volume may be migrated to it"),
        Field("reasons", "list", "why the pool is not suitable (cirrostack)", REASON),
    ),
)


def verdict_item(verdict: verdicts.Verdict, rank: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": verdict.pool_uuid,
        "name": verdict.pool_name,
        "allocator": verdict.allocator,
        "suitable": verdict.accepted,
        "reasons": [{"code": r.code, "text": r.text} for r in verdict.reasons],
    }
    if verdict.score is not None:
        item["score"] = round(verdict.score, 6)
        item["rank"] = rank
        item["factors"] = {name: round(value, 6) for name, value in verdict.factors.items()}
    return item


def placement_item(decision: verdicts.Decision) -> dict[str, Any]:
    pools = [verdict_item(v, rank) for rank, v in enumerate(decision.accepted, start=1)]
    pools += [verdict_item(v, None) for v in decision.rejected]
    weighers = [
        {"name": name, "multiplier": multiplier}
        for name, multiplier in decision.multipliers.items()
    ]
    return {
        "summary": decision.summary(),
        "algorithm": decision.algorithm,
        "weighers": weighers,
        "storagepool": pools,
    }


def migration_item(
    pool: models.StoragePool, suitable: bool, reasons: tuple[verdicts.Reason, ...]
) -> dict[str, Any]:
    return {
        "id": pool.uuid,
        "name": pool.name,
        "type": pool.pool_type,
        "scope": pool.scope,
        "state": pool.status,
        "disksizetotal": pool.capacity_bytes,
        "disksizeused": pool.used_bytes,
        "suitableformigration": suitable,
        "reasons": [{"code": r.code, "text": r.text} for r in reasons],
    }
