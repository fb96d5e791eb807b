"""What a placement decision answers: a verdict for every candidate pool, and its summary.

A verdict is accepted (with a score; higher is better) or rejected with typed reasons: the
reason ``code`` names the dimension (``tags``, ``state``, ``allocated capacity``, ...) so an
operator reading "no suitable pool" knows what to change (field lessons 1A-1 and 1A-3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    """Why a pool was rejected: ``code`` is the dimension, ``text`` the detail."""

    code: str
    text: str


@dataclass(frozen=True)
class Verdict:
    """One pool's judgement in one decision; ``score`` is None when rejected."""

    pool_id: int
    pool_uuid: str
    pool_name: str
    allocator: str
    accepted: bool
    score: float | None
    reasons: tuple[Reason, ...] = ()
    factors: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The accepted pools, best first (in allocator order), and the rejected ones.

    ``algorithm`` is the ordering in effect and ``multipliers`` each weigher's multiplier
    (a score is the sum of multiplier x normalised factor), so an explanation shows both.
    """

    accepted: tuple[Verdict, ...]
    rejected: tuple[Verdict, ...]
    algorithm: str = ""
    multipliers: Mapping[str, float] = field(default_factory=dict)

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return self.accepted + self.rejected

    def summary(self) -> str:
        """One line for an error or a log (``summarise`` over pools)."""
        return summarise(len(self.accepted), [verdict.reasons for verdict in self.rejected])


def summarise(accepted: int, rejected: Sequence[Sequence[Reason]], noun: str = "pool") -> str:
    """Counts of the first reason of each rejection, the detail shown where one candidate
    alone was rejected for that reason; shared by the pool and host allocators."""
    head = (
        f"{accepted} suitable {noun}{'s' if accepted != 1 else ''}"
        if accepted
        else f"no suitable {noun}"
    )
    if not rejected:
        return head if accepted else f"{head}: no candidate {noun} in scope"
    firsts = [reasons[0] for reasons in rejected if reasons]
    counts = Counter(reason.code for reason in firsts)
    parts = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count == 1:
            text = next(reason.text for reason in firsts if reason.code == code)
            parts.append(f"1 {code} ({text})")
        else:
            parts.append(f"{count} {code}")
    return f"{head}: {len(rejected)} rejected: {', '.join(parts)}"
