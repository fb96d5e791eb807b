"""Where a new volume goes: ``decide`` (explain, no claim), ``place`` (decide and claim),
``release`` (give the bytes back). Called by volume creation (``storage.volume_create``), the
explain and migration commands (``api.commands.placement``) and, later, the VM planner.

The allocators are CloudStack's three, each owning the pools of one scope, asked in the order
of ``storage.pool.allocators.order`` (storage reference 4.1):

    LocalStorage                      HOST pools   (only for local-storage offerings)
    ClusterScopeStoragePoolAllocator  CLUSTER pools (in the request's cluster or pod, if named)
    ZoneWideStoragePoolAllocator      ZONE pools

Every candidate of every allocator is judged (``pool_filters.ORDER``) and the suitable ones of
each allocator weighed apart (``pool_weighers``); ``Decision.accepted`` lists the first
allocator's suitable pools best first, then the next allocator's, so ``place`` takes
CloudStack's "first non-empty list" and, when a claim there is lost to a parallel request,
goes on down the list instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.allocators import (
    candidates,
    claims,
    narrowing,
    pipeline,
    pool_filters,
    pool_settings,
    pool_weighers,
    requests,
    verdicts,
)
from cirrostack.db.models import storage as models

VolumeRequest = requests.VolumeRequest
Reason = verdicts.Reason
Verdict = verdicts.Verdict
Decision = verdicts.Decision

LOCAL, CLUSTER, ZONE = (
    "LocalStorage",
    "ClusterScopeStoragePoolAllocator",
    "ZoneWideStoragePoolAllocator",
)
#: The allocator owning each pool scope.
_OWNER = {"HOST": LOCAL, "CLUSTER": CLUSTER, "ZONE": ZONE}


def allocator_of(pool: candidates.Candidate) -> str:
    return _OWNER.get(pool.scope, CLUSTER)


def decide(
    session: Session,
    request: VolumeRequest,
    *,
    seed: int | None = None,
    every_pool: bool = False,
) -> Decision:
    """A verdict for every candidate pool of ``request``; reads only, claims nothing.

    ``every_pool`` judges every pool of the zone (pools outside the request's cluster or pod
    are rejected for their scope) instead of only those the SQL narrows to. ``seed`` makes
    the ``random`` order reproducible. Raises BadStoredValue for a setting that does not parse.
    """
    return _decide(session, request, seed, every_pool)[0]


def _decide(
    session: Session, request: VolumeRequest, seed: int | None, every_pool: bool
) -> tuple[Decision, dict[int, candidates.Candidate]]:
    found = pool_settings.read(session, *narrowing.of(request, every_pool))
    algorithm = pool_weighers.effective(
        pool_weighers.Algorithm(found.decision.algorithm), request.account_id
    )
    order = _order(found.decision.allocators_order)
    pools, template_size = candidates.load(
        session,
        request,
        found,
        every_pool=every_pool,
        owner_counts=algorithm is pool_weighers.Algorithm.USERDISPERSING,
    )
    ask = pool_filters.Ask.of(request, template_size, found.decision.rule_timeout_ms)
    weighers = pool_weighers.weighers(algorithm, found.decision)
    accepted: list[Verdict] = []
    rejected: list[Verdict] = []
    by_allocator: dict[str, list[candidates.Candidate]] = {}
    for pool in pool_weighers.ordered(pools, algorithm, seed):
        by_allocator.setdefault(allocator_of(pool), []).append(pool)
    for allocator in order:
        mine = by_allocator.get(allocator, [])
        good, bad = pipeline.judge(mine, ask, pool_filters.ORDER, weighers)
        accepted.extend(_verdict(allocator, judged) for judged in good)
        rejected.extend(_verdict(allocator, judged) for judged in bad)
    rejected.extend(_unasked(pools, order))
    rejected.sort(key=lambda verdict: verdict.pool_id)
    multipliers = {weigher.name: weigher.multiplier for weigher in weighers}
    decision = Decision(tuple(accepted), tuple(rejected), algorithm.value, multipliers)
    return decision, {pool.id: pool for pool in pools}


def _order(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    return tuple(dict.fromkeys(name for name in names if name in _OWNER.values()))


def _unasked(pools: Sequence[candidates.Candidate], order: Sequence[str]) -> list[Verdict]:
    """Pools whose allocator ``storage.pool.allocators.order`` leaves out."""
    reason = Reason("allocator", "its allocator is not in storage.pool.allocators.order")
    return [
        _verdict(allocator_of(pool), pipeline.Judged(pool, (reason,), {}, None))
        for pool in pools
        if allocator_of(pool) not in order
    ]


def _verdict(allocator: str, judged: pipeline.Judged[candidates.Candidate]) -> Verdict:
    pool = judged.item
    return Verdict(
        pool_id=pool.id,
        pool_uuid=pool.uuid,
        pool_name=pool.name,
        allocator=allocator,
        accepted=judged.accepted,
        score=judged.score,
        reasons=judged.reasons,
        factors=judged.factors,
    )


def place(
    session: Session, request: VolumeRequest, *, seed: int | None = None
) -> tuple[models.StoragePool, Decision]:
    """Decide, then claim ``request.size`` on the best pool (``claims.claim``); a claim lost
    to a parallel request tries the next suitable pool.

    The template's bytes are asked in the decision but not claimed here: its copy on the pool
    claims them when it is made (``storage.template_pool``). Raises InsufficientCapacity with
    the decision's summary when no pool can be claimed; nothing is claimed then.
    """
    decision, by_id = _decide(session, request, seed, every_pool=False)
    lost = 0
    for verdict in decision.accepted:
        threshold = by_id[verdict.pool_id].settings.allocated_threshold
        if claims.claim(session, verdict.pool_id, request.size, threshold):
            return session.get_one(models.StoragePool, verdict.pool_id), decision
        lost += 1
    text = decision.summary()
    if lost:
        text += f"; {lost} filled up by parallel requests while claiming"
    raise errors.InsufficientCapacity(
        f"Unable to find a storage pool for the volume ({request.size} bytes): {text}"
    )


def release(session: Session, pool_id: int, size: int) -> None:
    """Give ``size`` bytes of the pool's allocated capacity back (volume deleted, creation
    failed); never below 0."""
    claims.release(session, pool_id, size)
