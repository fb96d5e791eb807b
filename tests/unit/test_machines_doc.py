"""docs/state-machines.md shows the tables the code holds."""

from __future__ import annotations

from pathlib import Path

from cirrostack.states import document

DOC = Path(__file__).resolve().parents[2] / "docs" / "state-machines.md"


def test_the_generated_section_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    generated = text.split(document.BEGIN, 1)[1].split(document.END, 1)[0]
    assert generated.strip() == document.render().strip(), (
        "run: python -m cirrostack.states.document docs/state-machines.md"
    )


def test_every_binding_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ("VM", "VOLUME", "HOST_STATUS", "HOST_RESOURCE_STATE", "TEMPLATE_SPOOL_REF"):
        assert f"`bindings.{name}`" in text
