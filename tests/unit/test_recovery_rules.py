"""The reaper's rules are data (states.recovery): each is a transition its machine allows and
ends in a stable state (or in one left to another owner for a stated reason: a network's
failed implementation goes to Shutdown, which the network collector finishes); every
transitional state of every binding has a rule or a stated reason not to; an undo hook
belongs to a rule."""

from __future__ import annotations

from typing import Any

import pytest

from cirrostack.states import bindings, recovery

_BY_BINDING = {rules.binding: rules for rules in recovery.RECOVERIES}


@pytest.mark.parametrize("rules", recovery.RECOVERIES, ids=lambda r: r.binding.resource_type)
def test_every_rule_is_an_allowed_transition_to_a_stable_state(rules: recovery.Recovery) -> None:
    machine: Any = rules.binding.machine
    for state, event in rules.rules.items():
        assert machine.allows(state, event), (state, event)
        ends = machine.next(state, event)
        assert ends in machine.stable or rules.left_alone.get(ends), (state, event, ends)
    assert set(rules.undo) <= set(rules.rules)
    assert not set(rules.rules) & set(rules.left_alone)


@pytest.mark.parametrize("binding", bindings.ALL, ids=lambda b: f"{b.resource_type}.{b.state}")
def test_every_transitional_state_has_a_rule_or_a_reason(binding: Any) -> None:
    if binding in recovery.UNOWNED:
        assert recovery.UNOWNED[binding]
        return
    rules = _BY_BINDING.get(binding)
    assert rules is not None, f"{binding.resource_type} has no recovery rules"
    for state in binding.machine.transitional:
        assert state in rules.rules or rules.left_alone.get(state), state


def test_bindings_have_one_set_of_rules() -> None:
    assert len(_BY_BINDING) == len(recovery.RECOVERIES)
