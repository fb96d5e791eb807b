"""Render every machine and binding as Markdown, for docs/state-machines.md.

Run ``python -m cirrostack.states.document docs/state-machines.md`` after changing a table: it
rewrites the part of the file between the two markers below. A unit test fails while the file
and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cirrostack.states import bindings, machine, machines

BEGIN = "<!-- BEGIN GENERATED: python -m cirrostack.states.document -->"
END = "<!-- END GENERATED -->"


def render() -> str:
    """The generated section: one table per machine, then the bindings."""
    parts = [_machine(fsm) for fsm in machines.ALL]
    parts.append(_bindings())
    return "\n".join(parts)


def _machine(fsm: machine.Machine[Any, Any]) -> str:
    lines = [f"### {fsm.name}", ""]
    lines.append(
        f"- initial: {fsm.initial}; other entry states: {_names(fsm.entry - {fsm.initial})}"
    )
    lines.append(f"- transitional: {_names(fsm.transitional)}")
    lines.append(f"- stable: {_names(fsm.stable)}")
    for state, reason in fsm.unreachable.items():
        lines.append(f"- unreachable {state}: {reason}")
    silent = [e for e in fsm.events if not any(e == ev for (_, ev) in fsm.transitions)]
    lines.append(f"- events with no transition: {_names(silent)}")
    lines += ["", "| From | Event | To | Usage |", "|---|---|---|---|"]
    for (source, event), target in fsm.transitions.items():
        usage = "U" if (source, event) in fsm.usage else ""
        lines.append(f"| {source} | {event} | {target} | {usage} |")
    lines.append("")
    return "\n".join(lines)


def _bindings() -> str:
    lines = [
        "### Bindings (what the gate writes)",
        "",
        "| Binding | Table.column | Machine | Counter | Timestamp | Also compared | "
        "Also set | Event type | Resource type |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, binding in _named_bindings():
        table = binding.model.__table__.name
        lines.append(
            f"| `bindings.{name}` | {table}.{binding.state} | {binding.machine.name} | "
            f"{binding.counter or '—'} | {binding.updated or '—'} | "
            f"{', '.join(binding.guards) or '—'} | {_on_enter(binding)} | {binding.event_type} | "
            f"{binding.resource_type} |"
        )
    lines.append("")
    return "\n".join(lines)


def _on_enter(binding: bindings.Binding[Any, Any]) -> str:
    sets = [
        f"{column}={value} on {state}"
        for state, columns in binding.on_enter.items()
        for column, value in columns.items()
    ]
    return ", ".join(sets) or "—"


def _named_bindings() -> list[tuple[str, bindings.Binding[Any, Any]]]:
    by_identity = {id(value): key for key, value in vars(bindings).items() if key.isupper()}
    return [(by_identity[id(binding)], binding) for binding in bindings.ALL]


def _names(states: Any) -> str:
    names = sorted(str(s) for s in states)
    return ", ".join(names) if names else "—"


def rewrite(path: Path) -> bool:
    """Replace the generated section of ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{BEGIN}\n\n{render()}\n{END}{tail}"
    if updated == text:
        return False
    path.write_text(updated, encoding="utf-8")
    return True


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for argument in sys.argv[1:]:
        print(f"{argument}: {'rewritten' if rewrite(Path(argument)) else 'up to date'}")
