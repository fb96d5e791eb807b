"""Backends are plugins (issue 7, item 3): resolved by name from entry points plus the built-in
registry; unknown or twice-declared names are start-up errors; no server module imports a
backend. Entry points here are real ones: a dist-info directory put on ``sys.path``."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cirrostack import plugins
from cirrostack.agent.backends import simulator
from cirrostack.cli import main as cli

SRC = Path(__file__).resolve().parents[2] / "src" / "cirrostack"


@pytest.fixture
def declare(tmp_path: Path) -> Iterator[object]:
    """Declare entry points of group ``cirrostack.backends`` in an installed distribution."""
    sys.path.insert(0, str(tmp_path))

    def add(distribution: str, **points: str) -> None:
        info = tmp_path / f"{distribution}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n"
        )
        lines = "".join(f"{name} = {target}\n" for name, target in points.items())
        (info / "entry_points.txt").write_text(f"[{plugins.GROUP}]\n{lines}")

    yield add
    sys.path.remove(str(tmp_path))


def test_the_simulator_is_found_by_name_and_serves_its_hypervisor() -> None:
    declared = plugins.discover()
    assert declared["simulator"] == "cirrostack.agent.backends.simulator:BACKEND"
    assert plugins.backend(declared, "simulator") is simulator.BACKEND
    assert plugins.all_backends(declared) == {"simulator": simulator.BACKEND}


def test_an_unknown_name_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(plugins.PluginError, match="unknown backend 'xen'; known: simulator"):
        plugins.backend(plugins.discover(), "xen")


def test_an_entry_point_repeating_the_built_in_target_is_the_same_backend(declare) -> None:  # type: ignore[no-untyped-def]
    declare("cirrostack_again", simulator="cirrostack.agent.backends.simulator:BACKEND")
    assert plugins.discover()["simulator"] == "cirrostack.agent.backends.simulator:BACKEND"


def test_a_name_declared_with_another_target_is_a_start_up_error(declare) -> None:  # type: ignore[no-untyped-def]
    declare("rogue", simulator="rogue.backend:BACKEND")
    with pytest.raises(plugins.PluginError, match="'simulator' is declared twice"):
        plugins.discover()


def test_a_new_backend_loads_from_its_entry_point_and_a_broken_one_is_refused(declare) -> None:  # type: ignore[no-untyped-def]
    declare("extra", copy="cirrostack.agent.backends.simulator:BACKEND", broken="nowhere:X")
    declared = plugins.discover()
    assert plugins.backend(declared, "copy") is simulator.BACKEND
    with pytest.raises(plugins.PluginError, match="does not load"):
        plugins.backend(declared, "broken")
    with pytest.raises(plugins.PluginError, match="both serve Simulator"):
        plugins.all_backends({"a": declared["simulator"], "b": declared["copy"]})


def test_the_agent_command_refuses_an_unknown_backend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["agent", "--backend", "xen", "--data-dir", str(tmp_path)])
    assert status == 2 and "unknown backend 'xen'" in capsys.readouterr().err


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_server_module_imports_a_backend() -> None:
    server_side = [
        *sorted((SRC / "infrastructure").rglob("*.py")),
        *sorted((SRC / "api").rglob("*.py")),
        *sorted((SRC / "transport").rglob("*.py")),
        SRC / "server.py",
    ]
    offenders = {
        str(path.relative_to(SRC)): sorted(
            name for name in _imports(path) if "agent.backends" in name
        )
        for path in server_side
    }
    assert {path: names for path, names in offenders.items() if names} == {}
