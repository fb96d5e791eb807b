"""Parameter parsing: CloudStack's rules (API reference 1.3) on raw request pairs.

Every refusal is an ``ApiError`` whose code is the HTTP status the client sees (431, or 430 for
a malformed map name) and whose text names the parameter, so a client can tell what to fix.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cirrostack.api import errors, params

P = params.Param
T = params.ParamType

UUID = "0f5a3e9c-1b2d-4c3e-8f4a-5b6c7d8e9f01"
RANGES = {
    T.SHORT: (-(2**15), 2**15 - 1),
    T.INTEGER: (-(2**31), 2**31 - 1),
    T.LONG: (-(2**63), 2**63 - 1),
}


def parse(declared: list[params.Param], pairs: list[tuple[str, str]]) -> dict[str, object]:
    plain, maps = params.collect(pairs)
    return params.parse_all("listThings", declared, plain, maps)


def refusal(declared: list[params.Param], pairs: list[tuple[str, str]]) -> errors.ApiError:
    with pytest.raises(errors.ApiError) as caught:
        parse(declared, pairs)
    return caught.value


# --- names -----------------------------------------------------------------------------------


def test_names_are_case_insensitive() -> None:
    declared = [P("zoneid", T.UUID), P("diskOfferingId", T.UUID)]
    # libcloud sends camelCase names; CloudStack lower-cases them before matching.
    values = parse(declared, [("zoneId", UUID), ("DISKOFFERINGID", UUID)])
    assert values == {"zoneid": UUID, "diskOfferingId": UUID}


def test_collect_lowercases_plain_names() -> None:
    plain, maps = params.collect([("ZoneId", "z"), ("name", "n")])
    assert plain == {"zoneid": "z", "name": "n"}
    assert maps == {}


def test_first_value_wins_for_duplicates() -> None:
    # The signature covers the first value; a value appended later must never be used.
    assert parse([P("name")], [("name", "signed"), ("name", "appended")]) == {"name": "signed"}


def test_first_value_wins_across_name_cases() -> None:
    assert parse([P("name")], [("Name", "first"), ("NAME", "second")]) == {"name": "first"}


def test_unknown_parameters_are_ignored() -> None:
    # Ansible passes parameters a command does not declare; CloudStack only logs them.
    assert parse([P("name")], [("name", "a"), ("id", "whatever"), ("bogus", "x")]) == {"name": "a"}


def test_blank_value_counts_as_absent() -> None:
    assert parse([P("name"), P("count", T.INTEGER)], [("name", ""), ("count", "")]) == {}


def test_missing_required_parameter_is_431_naming_it() -> None:
    error = refusal([P("name", required=True)], [])
    assert error.code == errors.ErrorCode.PARAM_ERROR
    assert error.text == "Unable to execute API command listthings due to missing parameter name"


def test_blank_required_parameter_is_missing() -> None:
    error = refusal([P("name", required=True)], [("name", "")])
    assert error.code == 431
    assert error.text.endswith("missing parameter name")


# --- integers --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [T.SHORT, T.INTEGER, T.LONG])
def test_integer_bounds_are_inclusive(kind: params.ParamType) -> None:
    low, high = RANGES[kind]
    param = P("size", kind)
    assert params.parse_value("cmd", param, str(low)) == low
    assert params.parse_value("cmd", param, str(high)) == high


@pytest.mark.parametrize("kind", [T.SHORT, T.INTEGER, T.LONG])
@pytest.mark.parametrize("side", ["below", "above"])
def test_integer_out_of_range_is_431_naming_value_and_parameter(
    kind: params.ParamType, side: str
) -> None:
    low, high = RANGES[kind]
    text = str(low - 1 if side == "below" else high + 1)
    error = refusal([P("size", kind)], [("size", text)])
    assert error.code == errors.ErrorCode.PARAM_ERROR
    assert error.cs_code == errors.CsErrorCode.INVALID_PARAMETER_VALUE
    assert error.text == (
        f"Unable to execute API command listthings due to invalid value {text} for parameter size"
    )


@pytest.mark.parametrize(
    "text",
    [
        *("12abc", " 1", "1 ", "1.0", "1e3", "0x10", "--1", "+", "-", "one", "1_000", "1,2"),
        "\u0661\u0662x",  # Arabic-Indic digits followed by a letter
    ],
)
@pytest.mark.parametrize("kind", [T.SHORT, T.INTEGER, T.LONG])
def test_non_integer_text_is_431(kind: params.ParamType, text: str) -> None:
    error = refusal([P("size", kind)], [("size", text)])
    assert error.code == 431
    assert "parameter size" in error.text


@pytest.mark.parametrize("kind", [T.SHORT, T.INTEGER, T.LONG])
def test_empty_integer_text_is_431_when_parsed_directly(kind: params.ParamType) -> None:
    # Through parse_all a blank value is absent; the converter itself never takes "".
    with pytest.raises(errors.ApiError) as caught:
        params.parse_value("cmd", P("size", kind), "")
    assert caught.value.code == 431


@pytest.mark.parametrize(("text", "value"), [("+5", 5), ("-0", 0), ("007", 7), ("-12", -12)])
def test_integer_signs_and_leading_zeros_as_java_parses_them(text: str, value: int) -> None:
    assert params.parse_value("cmd", P("size", T.LONG), text) == value


def test_huge_digit_string_is_431_not_a_crash() -> None:
    error = refusal([P("size", T.LONG)], [("size", "9" * 200)])
    assert error.code == 431


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_every_long_round_trips(number: int) -> None:
    assert params.parse_value("cmd", P("n", T.LONG), str(number)) == number


@given(st.integers().filter(lambda n: not -(2**31) <= n <= 2**31 - 1))
def test_every_int_outside_the_range_is_refused(number: int) -> None:
    with pytest.raises(errors.ApiError) as caught:
        params.parse_value("cmd", P("n", T.INTEGER), str(number))
    assert caught.value.code == 431


# --- booleans --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["true", "True", "TRUE", "tRuE"])
def test_boolean_true_in_any_case(text: str) -> None:
    assert parse([P("flag", T.BOOLEAN)], [("flag", text)]) == {"flag": True}


@pytest.mark.parametrize("text", ["false", "False", "1", "yes", "on", "t", " true", "true ", "x"])
def test_boolean_anything_else_is_false(text: str) -> None:
    # Java's Boolean.valueOf: never an error, just false.
    assert parse([P("flag", T.BOOLEAN)], [("flag", text)]) == {"flag": False}


# --- UUIDs -----------------------------------------------------------------------------------


def test_uuid_is_lowercased() -> None:
    assert parse([P("id", T.UUID)], [("id", UUID.upper())]) == {"id": UUID}


@pytest.mark.parametrize(
    "text",
    [
        UUID[:-1],
        UUID + "0",
        UUID.replace("-", ""),
        "{" + UUID + "}",
        UUID.replace("f", "g"),
        " " + UUID,
        "1",
        "-1x",
        "../../etc/passwd",
        "' OR 1=1 --",
    ],
)
def test_malformed_uuid_is_431_naming_parameter_and_value(text: str) -> None:
    error = refusal([P("zoneid", T.UUID)], [("zoneid", text)])
    assert error.code == errors.ErrorCode.PARAM_ERROR
    assert error.text.startswith(f"Invalid parameter zoneid value={text} ")


# --- strings, length, dates --------------------------------------------------------------------


def test_string_passes_through_unchanged() -> None:
    text = "  spaces, üñíçødé and 'quotes' %_ \\ "
    assert parse([P("name")], [("name", text)]) == {"name": text}


def test_length_limit_is_inclusive() -> None:
    assert parse([P("name")], [("name", "x" * 255)]) == {"name": "x" * 255}
    error = refusal([P("name")], [("name", "x" * 256)])
    assert error.code == 431
    assert error.text == "Value of parameter name is longer than 255 characters"


def test_declared_length_is_used() -> None:
    declared = [P("userdata", length=32768)]
    assert parse(declared, [("userdata", "u" * 32768)]) == {"userdata": "u" * 32768}
    assert refusal(declared, [("userdata", "u" * 32769)]).code == 431


def test_length_counts_characters_not_bytes() -> None:
    assert parse([P("name", length=3)], [("name", "äöü")]) == {"name": "äöü"}


def test_length_applies_to_every_scalar_type() -> None:
    error = refusal([P("size", T.LONG, length=5)], [("size", "0000001")])
    assert error.text == "Value of parameter size is longer than 5 characters"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-05-01", datetime.datetime(2024, 5, 1)),
        ("2024-05-01 12:34:56", datetime.datetime(2024, 5, 1, 12, 34, 56)),
    ],
)
def test_date_formats(text: str, value: datetime.datetime) -> None:
    assert parse([P("startdate", T.DATE)], [("startdate", text)]) == {"startdate": value}


@pytest.mark.parametrize("text", ["2024-13-01", "2024-05-01T12:34:56", "yesterday", "01/05/2024"])
def test_bad_date_is_431_naming_parameter(text: str) -> None:
    error = refusal([P("startdate", T.DATE)], [("startdate", text)])
    assert error.code == 431
    assert "parameter startdate" in error.text


# --- lists -----------------------------------------------------------------------------------


def test_list_skips_blank_items_and_strips_spaces() -> None:
    declared = [P("names", T.LIST)]
    assert parse(declared, [("names", "a,,b, ,c ,")]) == {"names": ["a", "b", "c"]}


def test_list_of_only_separators_is_empty() -> None:
    assert parse([P("names", T.LIST)], [("names", ",, ,")]) == {"names": []}


def test_list_of_uuids_is_translated_element_wise() -> None:
    other = "a" * 8 + "-" + "b" * 4 + "-" + "c" * 4 + "-" + "d" * 4 + "-" + "e" * 12
    declared = [P("ids", T.LIST, item_type=T.UUID)]
    assert parse(declared, [("ids", f"{UUID.upper()},{other}")]) == {"ids": [UUID, other]}


def test_list_with_one_bad_uuid_is_431_naming_parameter() -> None:
    error = refusal([P("ids", T.LIST, item_type=T.UUID)], [("ids", f"{UUID},nope")])
    assert error.code == 431
    assert error.text.startswith("Invalid parameter ids value=nope ")


def test_list_of_integers_checks_each_item() -> None:
    declared = [P("sizes", T.LIST, item_type=T.SHORT)]
    assert parse(declared, [("sizes", "1, 2,3")]) == {"sizes": [1, 2, 3]}
    assert refusal(declared, [("sizes", "1,40000")]).code == 431


# --- maps ------------------------------------------------------------------------------------


def test_map_several_fields_under_one_index() -> None:
    # What `cs` produces from a dict: details[0].cpuNumber=2&details[0].memory=1024.
    declared = [P("details", T.MAP)]
    values = parse(declared, [("details[0].cpuNumber", "2"), ("details[0].memory", "1024")])
    assert values == {"details": {0: {"cpuNumber": "2", "memory": "1024"}}}


def test_map_several_indices_and_name_case() -> None:
    declared = [P("tags", T.MAP)]
    pairs = [
        ("Tags[0].key", "env"),
        ("tags[0].value", "prod"),
        ("TAGS[1].key", "team"),
        ("tags[1].value", "ops"),
    ]
    assert parse(declared, pairs) == {
        "tags": {0: {"key": "env", "value": "prod"}, 1: {"key": "team", "value": "ops"}}
    }


def test_map_field_keeps_its_case_and_first_value_wins() -> None:
    plain, maps = params.collect(
        [("details[0].cpuNumber", "2"), ("details[0].cpuNumber", "64"), ("details[0].x", "y")]
    )
    assert plain == {}
    assert maps == {"details": {0: {"cpuNumber": "2", "x": "y"}}}


def test_map_given_as_plain_value_is_431() -> None:
    error = refusal([P("details", T.MAP)], [("details", "cpuNumber=2")])
    assert error.code == 431
    assert "Parameter details must be a map" in error.text


def test_map_value_length_limit() -> None:
    declared = [P("details", T.MAP, length=10)]
    assert parse(declared, [("details[0].k", "v" * 10)]) == {"details": {0: {"k": "v" * 10}}}
    error = refusal(declared, [("details[0].k", "v" * 11)])
    assert error.code == 431
    assert "parameter details" in error.text


def test_unknown_map_parameter_is_ignored() -> None:
    assert parse([P("name")], [("name", "a"), ("extra[0].k", "v")]) == {"name": "a"}


@pytest.mark.parametrize(
    "name",
    # Only names CloudStack's BaseCmd.unpackParams refuses too.
    ["x[", "x[a].b", "x[0]", "x[].k", "x[0]k", "x[0.k", "x[[0]].k", "x[0]].k", "x[ 1].k"],
)
def test_malformed_map_name_is_430(name: str) -> None:
    with pytest.raises(errors.ApiError) as caught:
        params.collect([(name, "v")])
    assert caught.value.code == errors.ErrorCode.MALFORMED_PARAMETER_ERROR
    assert name in caught.value.text


def test_map_name_with_two_brackets_is_430() -> None:
    with pytest.raises(errors.ApiError) as caught:
        params.collect([("tags[0].key[1]", "v")])
    assert caught.value.code == errors.ErrorCode.MALFORMED_PARAMETER_ERROR


def test_map_index_beyond_java_int_is_430() -> None:
    with pytest.raises(errors.ApiError) as caught:
        params.collect([("tags[99999999999999999999].key", "v")])
    assert caught.value.code == errors.ErrorCode.MALFORMED_PARAMETER_ERROR


# --- control characters ----------------------------------------------------------------------

CONTROL = ["\x00", "\n", "\r", "\t", "\x1b", "\x1f", "\x7f"]


@pytest.mark.parametrize("char", CONTROL)
def test_control_character_in_plain_value_is_431_naming_parameter(char: str) -> None:
    error = refusal([P("name")], [("name", f"a{char}b")])
    assert error.code == 431
    assert error.text == (
        "Received value containing illegal ASCII non-printable characters for parameter name"
    )


@pytest.mark.parametrize("char", CONTROL)
def test_control_character_in_map_value_is_431_naming_map(char: str) -> None:
    error = refusal([P("details", T.MAP)], [("details[0].k", f"v{char}")])
    assert error.code == 431
    assert error.text.endswith("for parameter details")


@pytest.mark.parametrize("char", ["\x00", "\n", "\x7f"])
def test_control_character_in_undeclared_parameter_is_refused_too(char: str) -> None:
    # CloudStack checks every parameter it received, not only the declared ones.
    assert refusal([P("name")], [("name", "ok"), ("other", char)]).code == 431
    assert refusal([P("name")], [("name", "ok"), ("other[0].k", char)]).code == 431


@pytest.mark.parametrize("char", ["\x00", "\n"])
def test_control_character_refused_before_type_conversion(char: str) -> None:
    # "12\n" would otherwise pass the integer pattern (``$`` matches before a final newline).
    error = refusal([P("size", T.LONG)], [("size", f"12{char}")])
    assert "non-printable" in error.text


def test_printable_unicode_is_not_a_control_character() -> None:
    text = "名前 ñ é 😀 \u00a0 \u200b"
    assert parse([P("name")], [("name", text)]) == {"name": text}


# --- every type names its parameter -----------------------------------------------------------

BAD_VALUE = {
    T.UUID: "not-a-uuid",
    T.LONG: "12abc",
    T.INTEGER: "12abc",
    T.SHORT: "12abc",
    T.DATE: "12abc",
    T.STRING: "s" * 300,
    T.LIST: None,
    T.MAP: "plain",
    T.BOOLEAN: None,
}


@pytest.mark.parametrize("kind", [kind for kind, bad in BAD_VALUE.items() if bad is not None])
def test_every_refusing_type_names_the_parameter(kind: params.ParamType) -> None:
    bad = BAD_VALUE[kind]
    assert bad is not None
    error = refusal([P("theparam", kind)], [("theparam", bad)])
    assert error.code == 431
    assert "theparam" in error.text


def test_every_type_has_a_case_here() -> None:
    assert set(BAD_VALUE) == set(T)
