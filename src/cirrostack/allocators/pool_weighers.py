"""How accepted pools are ordered: ``volume.allocation.algorithm`` (CloudStack 4.21+, #10696).

``firstfitleastconsumed`` weighs the free fraction of the allocated capacity after this volume
(more free first); ``userdispersing`` the owner's volume count on the pool (fewer first);
``firstfit`` keeps the database order (pool id); ``random`` (and the ``userconcentratedpod_*``
variants, and any algorithm when the request names no owner, as CloudStack does) shuffles with
a secure generator, or with ``random.Random(seed)`` when the caller gives a seed (tests).

The algorithm's weigher is multiplied by its setting (cirrostack's own, zone-scoped):
``volume.allocation.capacity.multiplier`` for ``free``, ``volume.allocation.dispersion
.multiplier`` for ``dispersion``, 1.0 by default (CloudStack's order); 0 turns the ordering
off (the input order stays), a negative value reverses it (fullest first: stacking instead of
spreading). The other weigher is still computed with multiplier 0, so the explanation shows
both figures.
"""

from __future__ import annotations

import enum
import random

from cirrostack.allocators import candidates, pipeline, pool_filters, pool_settings

Candidate = candidates.Candidate
Ask = pool_filters.Ask
Weigher = pipeline.Weigher[Candidate, Ask]


class Algorithm(enum.StrEnum):
    RANDOM = "random"
    FIRSTFIT = "firstfit"
    USERDISPERSING = "userdispersing"
    USERCONCENTRATEDPOD_RANDOM = "userconcentratedpod_random"
    USERCONCENTRATEDPOD_FIRSTFIT = "userconcentratedpod_firstfit"
    FIRSTFITLEASTCONSUMED = "firstfitleastconsumed"


def free_fraction(pool: Candidate, ask: Ask) -> float:
    """The fraction of the allocated total still free once this volume is on the pool."""
    if pool.allocated_total <= 0:
        return 0.0
    return 1.0 - (pool.allocated + ask.asking(pool)) / pool.allocated_total


def dispersion(pool: Candidate, ask: Ask) -> float:
    """Fewer of the owner's volumes on the pool is better."""
    return -float(pool.owner_volumes)


def weighers(
    algorithm: Algorithm, multipliers: pool_settings.DecisionSettings | None = None
) -> tuple[Weigher, ...]:
    """The weighers for ``algorithm``: its own with the multiplier in force (``multipliers``;
    None: 1.0), the other with 0."""
    free = 1.0 if multipliers is None else multipliers.capacity_multiplier
    dispersed = 1.0 if multipliers is None else multipliers.dispersion_multiplier
    return (
        Weigher(
            "free", free_fraction, free if algorithm is Algorithm.FIRSTFITLEASTCONSUMED else 0.0
        ),
        Weigher(
            "dispersion",
            dispersion,
            dispersed if algorithm is Algorithm.USERDISPERSING else 0.0,
        ),
    )


def effective(algorithm: Algorithm, account_id: int | None) -> Algorithm:
    """CloudStack shuffles when the algorithm is random-like or the request has no owner."""
    if algorithm in (Algorithm.RANDOM, Algorithm.USERCONCENTRATEDPOD_RANDOM) or account_id is None:
        return Algorithm.RANDOM
    if algorithm is Algorithm.USERCONCENTRATEDPOD_FIRSTFIT:
        return Algorithm.FIRSTFIT
    return algorithm


def ordered(pools: list[Candidate], algorithm: Algorithm, seed: int | None) -> list[Candidate]:
    """The input order for the pipeline: shuffled for ``random``, the DB order otherwise."""
    if algorithm is not Algorithm.RANDOM:
        return pools
    shuffled = list(pools)
    generator = random.SystemRandom() if seed is None else random.Random(seed)
    generator.shuffle(shuffled)
    return shuffled
