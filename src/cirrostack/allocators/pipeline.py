"""Filter → weigh, generic over what is judged (pools today; hosts could follow).

Every item runs through every filter; one that fails any is rejected with all its reasons.
The survivors are weighed: each weigher's raw values are normalised over the survivors to
0..1 (Nova/Cinder: ``(v - min) / (max - min)``, all equal → 0) and multiplied by the weigher's
multiplier; the score is the sum. Survivors are answered best first; equal scores keep the
input order, which is how "first fit" and a shuffled "random" order come out of one sort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from cirrostack.allocators import verdicts

T = TypeVar("T")
C = TypeVar("C")


@dataclass(frozen=True)
class Weigher(Generic[T, C]):
    """A named raw value per item (higher is better before the multiplier)."""

    name: str
    value: Callable[[T, C], float]
    multiplier: float


@dataclass(frozen=True)
class Judged(Generic[T]):
    item: T
    reasons: tuple[verdicts.Reason, ...]
    factors: dict[str, float]
    score: float | None

    @property
    def accepted(self) -> bool:
        return not self.reasons


def judge(
    items: Sequence[T],
    context: C,
    filters: Sequence[Callable[[T, C], verdicts.Reason | None]],
    weighers: Sequence[Weigher[T, C]],
) -> tuple[list[Judged[T]], list[Judged[T]]]:
    """(accepted best first, rejected in input order) for ``items``."""
    passed: list[T] = []
    rejected: list[Judged[T]] = []
    for item in items:
        reasons = [reason for check in filters if (reason := check(item, context)) is not None]
        if reasons:
            rejected.append(Judged(item, tuple(reasons), {}, None))
        else:
            passed.append(item)
    return _weighed(passed, context, weighers), rejected


def _weighed(items: list[T], context: C, weighers: Sequence[Weigher[T, C]]) -> list[Judged[T]]:
    factors: list[dict[str, float]] = [{} for _ in items]
    scores = [0.0] * len(items)
    for weigher in weighers:
        values = [weigher.value(item, context) for item in items]
        for index, norm in enumerate(normalised(values)):
            factors[index][weigher.name] = norm
            scores[index] += weigher.multiplier * norm
    order = sorted(range(len(items)), key=lambda index: -scores[index])
    return [Judged(items[i], (), factors[i], scores[i]) for i in order]


def normalised(values: Sequence[float]) -> list[float]:
    """``values`` mapped to 0..1 by min and max; all equal (or none) → all 0."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [0.0] * len(values)
    span = high - low
    return [(value - low) / span for value in values]
