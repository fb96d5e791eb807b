"""The command registry: one declaration per command, found by its exact name."""

from __future__ import annotations

import datetime

import pytest

from cirrostack import server
from cirrostack.api import params, registry, responses


def handler(call: registry.Call) -> responses.Reply:
    return responses.Success()


def command(name: str, **options: object) -> registry.Command:
    return registry.Command(name, handler, f"{name} description", **options)  # type: ignore[arg-type]


def test_duplicate_name_is_refused() -> None:
    with pytest.raises(registry.DuplicateCommand, match="listZones"):
        registry.Registry([command("listZones"), command("listZones")])


def test_duplicate_name_across_families_is_refused() -> None:
    with pytest.raises(registry.DuplicateCommand):
        registry.Registry.of((command("a"), command("b")), (command("c"), command("a")))


def test_names_differing_only_in_case_are_two_commands() -> None:
    commands = registry.Registry([command("listZones"), command("listzones")])
    assert len(commands) == 2


def test_lookup_is_case_sensitive() -> None:
    commands = registry.Registry([command("listVirtualMachines")])
    assert commands.get("listVirtualMachines") is not None
    assert commands.get("listvirtualmachines") is None
    assert commands.get("ListVirtualMachines") is None
    assert commands.get("") is None


def test_iteration_is_sorted_by_name() -> None:
    names = ["updateZone", "createZone", "listZones", "deleteZone", "Zeta"]
    commands = registry.Registry.of([command(name) for name in names])
    assert [each.name for each in commands] == sorted(names)
    assert len(commands) == len(names)


def test_empty_registry() -> None:
    commands = registry.Registry([])
    assert len(commands) == 0
    assert list(commands) == []


def test_key_defaults_to_lowercased_name_and_response() -> None:
    assert command("listVirtualMachines").key == "listvirtualmachinesresponse"


def test_key_override() -> None:
    restore = command("restoreVirtualMachine", response_key="restorevmresponse")
    assert restore.key == "restorevmresponse"


def test_object_spec_field_names() -> None:
    spec = registry.ObjectSpec("zone", (registry.Field("id"), registry.Field("name")))
    assert spec.field_names() == frozenset({"id", "name"})


def test_call_get_and_who() -> None:
    login = command("login", public=True)
    call = registry.Call(
        session=None,  # type: ignore[arg-type]
        caller=None,
        args={"name": "x"},
        command=login,
        now=datetime.datetime(2024, 1, 1),
    )
    assert call.get("name") == "x"
    assert call.get("missing") is None
    assert call.get("missing", 5) == 5
    with pytest.raises(RuntimeError, match="login"):
        _ = call.who


# --- the real registry -----------------------------------------------------------------------

REAL = list(server.build_registry())


def test_real_registry_builds() -> None:
    assert len(REAL) == len({each.name for each in REAL}) > 0


@pytest.mark.parametrize("each", REAL, ids=lambda each: each.name)
def test_declared_parameters_do_not_collide_when_lowercased(each: registry.Command) -> None:
    # Names arrive lower-cased (params.collect): two declarations with one spelling would fight.
    lowered = [param.name.lower() for param in each.params]
    assert len(lowered) == len(set(lowered))


@pytest.mark.parametrize("each", REAL, ids=lambda each: each.name)
def test_parameter_names_are_plain(each: registry.Command) -> None:
    for param in each.params:
        assert param.name.isascii()
        assert param.name.isalnum(), param.name
        assert param.length > 0


@pytest.mark.parametrize("each", REAL, ids=lambda each: each.name)
def test_response_key_is_one_lowercase_word(each: registry.Command) -> None:
    assert each.key.endswith("response")
    assert each.key.isascii()
    assert each.key.isalnum()


@pytest.mark.parametrize("each", [c for c in REAL if c.is_async], ids=lambda each: each.name)
def test_async_commands_name_their_instance_type(each: registry.Command) -> None:
    assert each.instance_type


def test_only_login_is_public() -> None:
    assert [each.name for each in REAL if each.public] == ["login"]
    assert [each.name for each in REAL if each.post_only] == ["login"]


def test_every_list_command_pages() -> None:
    paged = {"page", "pagesize"}
    for each in REAL:
        if each.name.startswith("list") and each.name not in ("listCapabilities", "listApis"):
            assert paged <= {param.name for param in each.params}, each.name


def test_every_parameter_type_is_known() -> None:
    for each in REAL:
        for param in each.params:
            assert isinstance(param.type, params.ParamType)
