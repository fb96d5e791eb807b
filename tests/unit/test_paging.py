"""page/pagesize: both or neither, pagesize at most 500 or -1 for everything (API reference 4)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cirrostack.api import errors, paging, params
from cirrostack.db import query


def page_of_text(**raw: str) -> query.Page:
    """page_of after the real parameter parsing, as a list command gets it."""
    plain, maps = params.collect(list(raw.items()))
    return paging.page_of(params.parse_all("listThings", paging.PARAMS, plain, maps))


def refusal(args: dict[str, Any]) -> errors.ApiError:
    with pytest.raises(errors.ApiError) as caught:
        paging.page_of(args)
    assert caught.value.code == errors.ErrorCode.PARAM_ERROR
    return caught.value


def test_neither_gives_the_default_page() -> None:
    assert paging.page_of({}) == query.Page(0, 500)
    assert paging.DEFAULT_PAGE_SIZE == 500


def test_both_give_a_slice() -> None:
    assert paging.page_of({"page": 1, "pagesize": 20}) == query.Page(0, 20)
    assert paging.page_of({"page": 3, "pagesize": 20}) == query.Page(40, 20)


def test_page_without_pagesize_is_431() -> None:
    error = refusal({"page": 1})
    assert error.text == '"pagesize" parameter is required when "page" is specified'


def test_pagesize_without_page_is_431() -> None:
    error = refusal({"pagesize": 10})
    assert error.text == '"page" parameter is required when "pagesize" is specified'


def test_pagesize_minus_one_means_everything() -> None:
    assert paging.page_of({"pagesize": -1}) == query.Page()
    assert paging.page_of({"pagesize": -1, "page": 4}) == query.Page()
    assert query.Page().limit is None


def test_pagesize_500_is_the_largest() -> None:
    assert paging.page_of({"page": 1, "pagesize": 500}) == query.Page(0, 500)
    error = refusal({"page": 1, "pagesize": 501})
    assert error.text == "Page size can't exceed max allowed page size value: 500"


@pytest.mark.parametrize(
    "args",
    [
        {"page": 1, "pagesize": 0},
        {"page": 0, "pagesize": 10},
        {"page": -1, "pagesize": 10},
        {"page": 1, "pagesize": -2},
        {"page": 0, "pagesize": 0},
    ],
)
def test_zero_and_negative_values_are_431(args: dict[str, Any]) -> None:
    refusal(args)


def test_through_parsing() -> None:
    assert page_of_text(page="2", pagesize="50") == query.Page(50, 50)
    assert page_of_text(pagesize="-1") == query.Page()
    assert page_of_text(page="", pagesize="") == query.Page(0, 500)
    assert page_of_text(keyword="abc") == query.Page(0, 500)


@pytest.mark.parametrize(
    "raw",
    [
        {"page": "one", "pagesize": "10"},
        {"page": "1", "pagesize": "10.5"},
        {"page": "1", "pagesize": "2147483648"},
        {"page": "1"},
        {"pagesize": "501"},
    ],
)
def test_bad_text_is_431(raw: dict[str, str]) -> None:
    with pytest.raises(errors.ApiError) as caught:
        page_of_text(**raw)
    assert caught.value.code == 431


def test_paging_parameters_are_integers() -> None:
    kinds = {param.name: param.type for param in paging.PARAMS}
    assert kinds == {
        "page": params.ParamType.INTEGER,
        "pagesize": params.ParamType.INTEGER,
        "keyword": params.ParamType.STRING,
    }


@given(st.integers(1, 2**31 - 1), st.integers(1, 500))
def test_any_valid_pair_gives_offset_and_limit(page: int, size: int) -> None:
    assert paging.page_of({"page": page, "pagesize": size}) == query.Page((page - 1) * size, size)
