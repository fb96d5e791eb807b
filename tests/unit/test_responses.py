"""Reply shapes (API reference 2.2): what every client parses, down to the empty list."""

from __future__ import annotations

import datetime
import json
import types

from cirrostack.api import responses


def test_single_object_under_its_name() -> None:
    reply = responses.Single("zone", {"id": "z1", "name": "Zone 1"})
    assert responses.content(reply) == {"zone": {"id": "z1", "name": "Zone 1"}}


def test_listing_has_count_and_items() -> None:
    reply = responses.Listing("zone", [{"id": "a"}, {"id": "b"}], count=7)
    assert responses.content(reply) == {"count": 7, "zone": [{"id": "a"}, {"id": "b"}]}


def test_empty_listing_is_an_empty_object() -> None:
    # Ansible tests `if zones:` and then indexes zones["zone"][0]: no count, no list key.
    assert responses.content(responses.Listing("zone", [], 0)) == {}


def test_page_past_the_end_has_count_only() -> None:
    assert responses.content(responses.Listing("zone", [], 12)) == {"count": 12}


def test_success_without_displaytext() -> None:
    assert responses.content(responses.Success()) == {"success": True}


def test_success_with_displaytext() -> None:
    content = responses.content(responses.Success("Volume deleted"))
    assert content == {"success": True, "displaytext": "Volume deleted"}


def test_success_is_a_json_boolean() -> None:
    assert json.dumps(responses.content(responses.Success())) == '{"success": true}'


def test_fields_go_directly_under_the_key() -> None:
    reply = responses.Fields({"jobid": "j1", "jobstatus": 0})
    assert responses.content(reply) == {"jobid": "j1", "jobstatus": 0}
    assert responses.content(responses.Fields()) == {}


def test_envelope_has_exactly_one_key() -> None:
    answer = responses.envelope("listzonesresponse", {"count": 1, "zone": [{"id": "z"}]})
    assert list(answer) == ["listzonesresponse"]
    assert answer["listzonesresponse"] == {"count": 1, "zone": [{"id": "z"}]}


def test_content_is_plain_json_even_from_read_only_mappings() -> None:
    item = types.MappingProxyType({"id": "a"})
    for reply in (
        responses.Single("zone", item),
        responses.Listing("zone", [item], 1),
        responses.Fields(item),
    ):
        json.dumps(responses.envelope("k", responses.content(reply)))


def test_content_does_not_share_the_reply_mappings() -> None:
    item = {"id": "a"}
    content = responses.content(responses.Single("zone", item))
    content["zone"]["id"] = "changed"
    assert item == {"id": "a"}


def test_date_format() -> None:
    value = datetime.datetime(2024, 5, 1, 12, 34, 56)
    assert responses.date(value) == "2024-05-01T12:34:56+0000"


def test_date_drops_microseconds_and_pads() -> None:
    value = datetime.datetime(2024, 1, 2, 3, 4, 5, 999_999)
    assert responses.date(value) == "2024-01-02T03:04:05+0000"


def test_date_none_is_none() -> None:
    assert responses.date(None) is None


def test_compact_drops_only_none() -> None:
    item = {"a": None, "b": False, "c": 0, "d": "", "e": [], "f": {}, "g": "x"}
    assert responses.compact(item) == {"b": False, "c": 0, "d": "", "e": [], "f": {}, "g": "x"}


def test_compact_keeps_order() -> None:
    assert list(responses.compact({"z": 1, "a": None, "m": 2})) == ["z", "m"]
