"""The filters a candidate pool must pass, in CloudStack's order (storage reference 4.2).

Each filter is a pure function of a ``candidates.Candidate`` and the decision's ``Ask``: None
when the pool passes, else a ``verdicts.Reason``. ``ORDER`` is the order they run in; the
pipeline runs all of them, so a verdict lists every reason a pool is unsuitable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cirrostack.allocators import candidates, requests, tag_rules, verdicts
from cirrostack.config import keys

Candidate = candidates.Candidate
Reason = verdicts.Reason

#: Pool types whose allocated size may exceed their capacity by the overprovisioning factor
#: (storage reference 4.3; SharedMountPoint since 4.19.1, #8481).
OVERPROVISIONABLE = frozenset(
    {
        "Filesystem",
        "NetworkFilesystem",
        "SharedMountPoint",
        "RBD",
        "VMFS",
        "PreSetup",
        "EXT",
        "PowerFlex",
        "Linstor",
        "DatastoreCluster",
        "StorPool",
        "FiberChannel",
    }
)

#: The pool types each hypervisor's agent can use; a hypervisor missing here is not checked.
POOL_TYPES: dict[str, frozenset[str]] = {
    "kvm": frozenset(
        {
            "Filesystem",
            "NetworkFilesystem",
            "SharedMountPoint",
            "RBD",
            "CLVM",
            "Gluster",
            "Iscsi",
            "PowerFlex",
            "StorPool",
            "Linstor",
            "FiberChannel",
        }
    ),
    "simulator": frozenset(
        {"Filesystem", "NetworkFilesystem", "SharedMountPoint", "RBD", "CLVM", "Iscsi"}
    ),
}


@dataclass(frozen=True)
class Ask:
    """What one decision asks of every pool, prepared once."""

    request: requests.VolumeRequest
    #: The volume's bytes, and the template's bytes asked where its copy is not yet.
    size: int
    template_size: int
    tags: frozenset[str]
    #: The offering's tags as given (a rule tag compares them case-sensitively, as JS does).
    offering_tags: tuple[str, ...] = ()
    #: ``storage.tag.rule.execution.timeout``: the bound on one rule's evaluation.
    rule_timeout_ms: int = keys.STORAGE_TAG_RULE_EXECUTION_TIMEOUT.default

    @classmethod
    def of(
        cls,
        request: requests.VolumeRequest,
        template_size: int,
        rule_timeout_ms: int = keys.STORAGE_TAG_RULE_EXECUTION_TIMEOUT.default,
    ) -> Ask:
        given = tuple(tag.strip() for tag in request.tags if tag.strip())
        tags = frozenset(tag.casefold() for tag in given)
        return cls(request, max(request.size, 0), template_size, tags, given, rule_timeout_ms)

    def asking(self, pool: Candidate) -> int:
        return self.size + (0 if pool.template_here else self.template_size)


Filter = Callable[[Candidate, Ask], Reason | None]


def avoid(pool: Candidate, ask: Ask) -> Reason | None:
    if pool.id in ask.request.avoid:
        return Reason("avoid", "in the avoid set")
    return None


def state(pool: Candidate, ask: Ask) -> Reason | None:
    """Up pools only (not Disabled, Maintenance, ...), in Enabled clusters, pods and zones."""
    if pool.status != "Up":
        return Reason("state", f"pool is {pool.status}")
    for what, value in (("zone", pool.zone_state), ("pod", pool.pod_state)):
        if value is not None and value != "Enabled":
            return Reason("state", f"{what} is {value}")
    if pool.cluster_state is not None and pool.cluster_state != "Enabled":
        return Reason("state", f"cluster {pool.cluster_name} is {pool.cluster_state}")
    return None


def scope(pool: Candidate, ask: Ask) -> Reason | None:
    """Local pools only for local-storage offerings; cluster pools in the request's place."""
    request = ask.request
    if pool.scope == "HOST":
        if not request.use_local_storage:
            return Reason("scope", "local pool; the offering uses shared storage")
        if request.host_id is not None and request.host_id not in pool.host_ids:
            return Reason("scope", "local to another host")
    elif request.use_local_storage:
        return Reason("scope", f"{pool.scope.lower()} pool; the offering uses local storage")
    if pool.scope == "ZONE":
        return None
    if request.cluster_id is not None and pool.cluster_id != request.cluster_id:
        return Reason("scope", f"in cluster {pool.cluster_name}, not the requested one")
    if request.pod_id is not None and pool.pod_id != request.pod_id:
        return Reason("scope", "in another pod")
    return None


def hypervisor(pool: Candidate, ask: Ask) -> Reason | None:
    """A cluster or local pool serves its cluster's hypervisor; a zone pool its own, or Any."""
    wanted = ask.request.hypervisor
    if wanted is None:
        return None
    if pool.scope == "ZONE":
        have = pool.hypervisor
        if have is None or have.casefold() in ("any", wanted.casefold()):
            return None
        return Reason("hypervisor", f"zone pool for {have}, not {wanted}")
    have = pool.cluster_hypervisor
    if have is None or have.casefold() == wanted.casefold():
        return None
    return Reason("hypervisor", f"cluster runs {have}, not {wanted}")


def pool_format(pool: Candidate, ask: Ask) -> Reason | None:
    """The hypervisor's agent must be able to use the pool's type."""
    wanted = ask.request.hypervisor or pool.cluster_hypervisor or pool.hypervisor
    usable = POOL_TYPES.get((wanted or "").casefold())
    if usable is None or pool.pool_type in usable:
        return None
    return Reason("format", f"{wanted} cannot use {pool.pool_type} pools")


def tags(pool: Candidate, ask: Ask) -> Reason | None:
    """CloudStack's rule (#4194): every offering tag must be on the pool (compared without
    case, as MySQL's collation does); an untagged offering matches every pool without a rule
    tag. A pool with a rule tag matches when its rule (``tag_rules``) answers true for the
    offering's tags; a rule outside the subset cirrostack evaluates, or one that runs past
    ``storage.tag.rule.execution.timeout``, matches nothing and says so ("tag rule")."""
    if pool.rule_tags:
        return _rules(pool.rule_tags, ask)
    missing = ask.tags - pool.tags
    if missing:
        have = sorted(pool.tags)
        return Reason("tags", f"pool tags {have} lack {sorted(missing)}")
    return None


def _rules(rules: tuple[str, ...], ask: Ask) -> Reason | None:
    for text in rules:
        try:
            matched = tag_rules.parse(text).matches(ask.offering_tags, ask.rule_timeout_ms)
        except tag_rules.NotEvaluated as exc:
            return Reason("tag rule", f"rule tag {text!r} not evaluated: {exc} {_SUBSET}")
        except tag_rules.RuleTimeout:
            return Reason(
                "tag rule",
                f"rule tag {text!r} ran past {ask.rule_timeout_ms} ms "
                "(storage.tag.rule.execution.timeout)",
            )
        if not matched:
            return Reason("tags", f"rule tag {text!r} is not true for {list(ask.offering_tags)}")
    return None


_SUBSET = "(cirrostack evaluates a subset of JavaScript: docs/allocators.md)"


def iops(pool: Candidate, ask: Ask) -> Reason | None:
    """Where the pool declares IOPS, the volumes' minimum IOPS must fit."""
    wanted = ask.request.min_iops or 0
    if pool.capacity_iops is None or wanted <= 0:
        return None
    if pool.iops_used + wanted > pool.capacity_iops:
        return Reason("iops", f"{pool.iops_used} + {wanted} IOPS > capacity {pool.capacity_iops}")
    return None


def used_space(pool: Candidate, ask: Ask) -> Reason | None:
    """Physical use from the agents' stats below ``pool.storage.capacity.disablethreshold``."""
    if pool.capacity_bytes <= 0:
        return Reason("used capacity", "pool reports no capacity")
    fraction = pool.used_bytes / pool.capacity_bytes
    threshold = pool.settings.used_threshold
    if fraction >= threshold:
        return Reason("used capacity", f"{_pct(fraction)} used >= {_pct(threshold)}")
    return None


def allocated_space(pool: Candidate, ask: Ask) -> Reason | None:
    """Allocated + asking within the allocated row's total (capacity * factor) and its
    threshold: the same limit ``claims.claim`` enforces in SQL."""
    if pool.capacity_type is None or pool.allocated_total <= 0:
        return Reason("allocated capacity", "pool has no allocated capacity row")
    after = pool.allocated + ask.asking(pool)
    threshold = pool.settings.allocated_threshold
    fraction = after / pool.allocated_total
    if after > pool.allocated_total or fraction > threshold:
        return Reason("allocated capacity", f"{_pct(fraction)} > {_pct(threshold)}")
    return None


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.0f}%"


#: CloudStack's order: avoid set, state (its SQL), scope, hypervisor, format, tags, IOPS,
#: space (used, then allocated).
ORDER: tuple[Filter, ...] = (
    avoid,
    state,
    scope,
    hypervisor,
    pool_format,
    tags,
    iops,
    used_space,
    allocated_space,
)
