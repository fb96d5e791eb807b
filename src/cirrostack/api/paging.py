"""page/pagesize as CloudStack enforces them: both or neither, pagesize at most 500 or -1."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import errors, params, registry
from cirrostack.config import keys, settings
from cirrostack.db import query

#: ``default.page.size``'s default: the page a list answers without page/pagesize.
DEFAULT_PAGE_SIZE = keys.DEFAULT_PAGE_SIZE.default

PARAMS = (
    params.Param("page", params.ParamType.INTEGER, "the page of the listing (from 1)"),
    params.Param("pagesize", params.ParamType.INTEGER, "the number of items per page, -1 for all"),
    params.Param("keyword", params.ParamType.STRING, "List by keyword"),
)


def page(call: registry.Call) -> query.Page:
    """The Page a list command answers, with ``default.page.size`` from the configuration."""
    return page_of(call.args, max_size(call.session))


def max_size(session: Session) -> int:
    """``default.page.size``: a list's page without page/pagesize, and the largest pagesize."""
    return settings.Settings(session).get(keys.DEFAULT_PAGE_SIZE)


def page_of(args: dict[str, Any], largest: int = DEFAULT_PAGE_SIZE) -> query.Page:
    """The Page the parsed ``page``/``pagesize`` ask for; raises ApiError 431 on misuse."""
    page, size = args.get("page"), args.get("pagesize")
    if size == -1:
        return query.Page()
    if page is None and size is None:
        return query.Page(0, largest)
    if page is None:
        raise errors.param_error('"page" parameter is required when "pagesize" is specified')
    if size is None:
        raise errors.param_error('"pagesize" parameter is required when "page" is specified')
    if size > largest:
        raise errors.param_error(f"Page size can't exceed max allowed page size value: {largest}")
    if size < 1 or page < 1:
        raise errors.param_error("page must be at least 1 and pagesize at least 1 (or -1)")
    return query.Page((page - 1) * size, size)
