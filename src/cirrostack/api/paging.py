"""page/pagesize as CloudStack enforces them: both or neither, pagesize at most 500 or -1."""

from __future__ import annotations

from typing import Any

from cirrostack.api import errors, params
from cirrostack.db import query

#: CloudStack's ``default.page.size``: the page a list answers without page/pagesize.
DEFAULT_PAGE_SIZE = 500

PARAMS = (
    params.Param("page", params.ParamType.INTEGER, "the page of the listing (from 1)"),
    params.Param("pagesize", params.ParamType.INTEGER, "the number of items per page, -1 for all"),
    params.Param("keyword", params.ParamType.STRING, "List by keyword"),
)


def page_of(args: dict[str, Any]) -> query.Page:
    """The Page the parsed ``page``/``pagesize`` ask for; raises ApiError 431 on misuse."""
    page, size = args.get("page"), args.get("pagesize")
    if size == -1:
        return query.Page()
    if page is None and size is None:
        return query.Page(0, DEFAULT_PAGE_SIZE)
    if page is None:
        raise errors.param_error('"page" parameter is required when "pagesize" is specified')
    if size is None:
        raise errors.param_error('"pagesize" parameter is required when "page" is specified')
    if size > DEFAULT_PAGE_SIZE:
        raise errors.param_error(
            f"Page size can't exceed max allowed page size value: {DEFAULT_PAGE_SIZE}"
        )
    if size < 1 or page < 1:
        raise errors.param_error("page must be at least 1 and pagesize at least 1 (or -1)")
    return query.Page((page - 1) * size, size)
