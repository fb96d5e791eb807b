"""Rule tags (CloudStack 4.19, #7489) in the JavaScript subset cirrostack evaluates: what
matches, JavaScript's values for && || !, rules outside the subset refused (never run), and
the timeout."""

from __future__ import annotations

import pytest

from cirrostack.allocators import tag_rules

#: (rule, offering tags, matches): the rules of CloudStack's documentation and the
#: semantics they rely on.
TABLE = [
    ("tags.length == 0 || tags[0] == 'A'", (), True),
    ("tags.length == 0 || tags[0] == 'A'", ("A",), True),
    ("tags.length == 0 || tags[0] == 'A'", ("B",), False),
    ("tags[0] == 'A' || tags[1] == 'B'", ("C", "B"), True),
    ("tags[0] === 'a'", ("A",), False),  # case-sensitive, as JavaScript
    ("tags.includes('ssd') && !tags.includes('slow');", ("ssd",), True),
    ("tags.includes('ssd') && !tags.includes('slow')", ("ssd", "slow"), False),
    ("tags.indexOf('x') >= 1", ("y", "x"), True),
    ("tags.indexOf('x') != -1", ("y",), False),
    ("!(tags.length > 2)", ("a", "b", "c"), False),
    ("tags[5] == undefined && tags[5] === null", ("a",), True),
    ('tags[0] == "it\\"s"', ('it"s',), True),
    ("true", ("any",), True),
    ("false || tags.length", ("a",), False),  # 1, not the boolean true: no match
    ("tags", ("a",), False),  # an array is truthy but not true
    ("'1' == 1", (), False),  # no type conversion (JavaScript would say true)
    ("'b' > 'a' && 2 >= 2 && 1 < 'x' == false", (), True),
]


@pytest.mark.parametrize(("rule", "tags", "matches"), TABLE)
def test_rule_table(rule: str, tags: tuple[str, ...], matches: bool) -> None:
    assert tag_rules.parse(rule).matches(tags, 2000) is matches


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("tags.map(function (t) { return t; })", "unsupported tags.map"),
        ("while (true) {}", "unsupported 'while'"),
        ("eval('1')", "unsupported 'eval'"),
        ("this.constructor", "unsupported 'this'"),
        ("tags[0] = 'a'", "unsupported character '='"),
        ("tags[0.5] == 'a'", "unsupported index"),
        ("tags.length == 0 ||", "ends too early"),
        ("(tags.length == 0", "ends too early"),
        ("tags.includes(tags[0])", "unsupported 'tags'"),
        ("1 2", "unsupported '2'"),
        ("   ", "empty"),
        ("x" * 256, "longer than 255"),
    ],
)
def test_rules_outside_the_subset_are_refused_not_run(rule: str, why: str) -> None:
    with pytest.raises(tag_rules.NotEvaluated, match=why.replace("(", r"\(").replace(".", r"\.")):
        tag_rules.parse(rule)


def test_a_rule_past_its_deadline_times_out() -> None:
    rule = tag_rules.parse("tags.length == 0 || tags[0] == 'A'")
    with pytest.raises(tag_rules.RuleTimeout):
        rule.matches(("A",), -1)  # a deadline already passed
    assert rule.matches(("A",), 1) is True


def test_truthiness_is_javascripts() -> None:
    assert [tag_rules.truthy(v) for v in (None, "", 0.0, False, (), "a", 1.0, True)] == [
        False, False, False, False, True, True, True, True,
    ]  # fmt: skip
