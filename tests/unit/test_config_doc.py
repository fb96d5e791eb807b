"""docs/configuration-and-events.md lists every key exactly as declared.

To refresh the table after changing ``config.keys``: ``python -m tests.unit.test_config_doc``.
"""

from __future__ import annotations

from pathlib import Path

from cirrostack.config import keys

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration-and-events.md"
START, END = "<!-- keys:start -->", "<!-- keys:end -->"


def table() -> str:
    lines = [
        "| Key | Type | Default | Scopes below global | Dynamic | Acted on |",
        "|---|---|---|---|---|---|",
    ]
    for key in keys.REGISTRY:
        scopes = ", ".join(key.scope_names()[1:]) or "—"
        default = key.default_text or '""'
        dynamic = "yes" if key.is_dynamic else "no"
        acted = "yes" if key.acted_on else "stored only"
        lines.append(
            f"| `{key.name}` | {key.type_name} | `{default}` | {scopes} | {dynamic} | {acted} |"
        )
    return "\n".join(lines)


def documented() -> str:
    text = DOC.read_text()
    return text[text.index(START) + len(START) : text.index(END)].strip()


def test_the_key_table_matches_the_declarations() -> None:
    assert documented() == table(), "run: python -m tests.unit.test_config_doc"


if __name__ == "__main__":
    text = DOC.read_text()
    head, tail = text[: text.index(START) + len(START)], text[text.index(END) :]
    DOC.write_text(f"{head}\n{table()}\n{tail}")
