"""VLAN ids, ranges and broadcast URIs as CloudStack writes them.

A guest VLAN range is ``100-200,300-310``; a network's VLAN is given as ``100``,
``vlan://100`` or ``untagged`` and recorded as the broadcast URI ``vlan://100`` (or
``vlan://untagged``), which NICs copy as their broadcast and isolation URIs.
"""

from __future__ import annotations

from cirrostack import errors

MAX_VLAN = 4094
UNTAGGED = "untagged"


def _tag(text: str, parameter: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise errors.InvalidParameterValue(f"Invalid {parameter} {text}: not a VLAN id") from None
    if not 0 <= value <= MAX_VLAN:
        raise errors.InvalidParameterValue(
            f"Invalid {parameter} {text}: a VLAN id is between 0 and {MAX_VLAN}"
        )
    return value


def checked_ranges(text: str) -> str:
    """A physical network's ``vlan`` (``100-200,300``), normalised; refuses bad parts."""
    parts: list[str] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        start, _, end = part.partition("-")
        low = _tag(start, "vlan")
        high = _tag(end, "vlan") if end else low
        if high < low:
            raise errors.InvalidParameterValue(f"Invalid vlan range {part}: start above end")
        parts.append(f"{low}-{high}" if end else str(low))
    if not parts:
        raise errors.InvalidParameterValue(f"Invalid vlan range {text}")
    return ",".join(parts)


def broadcast_uri(text: str) -> str:
    """``vlan://<id>`` or ``vlan://untagged`` for a VLAN given as ``100``, ``vlan://100``,
    ``untagged`` or ``vlan://untagged``."""
    value = text.strip()
    if value.lower().startswith("vlan://"):
        value = value[len("vlan://") :]
    if value.lower() == UNTAGGED:
        return f"vlan://{UNTAGGED}"
    return f"vlan://{_tag(value, 'vlan')}"


def vlan_of(uri: str | None) -> str | None:
    """What listNetworks shows as ``vlan``: the id of ``vlan://<id>`` (None without a URI)."""
    if uri is None:
        return None
    return uri.split("://", 1)[-1]
