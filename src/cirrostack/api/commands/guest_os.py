"""listOsTypes and listOsCategories: the guest OS catalogue, readable by every role."""

from __future__ import annotations

from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import guest_os as views
from cirrostack.compute import guest_os


def list_os_types(call: registry.Call) -> responses.Reply:
    wanted = guest_os.OsTypeFilter(
        uuid=call.get("id"),
        category_uuid=call.get("oscategoryid"),
        description=call.get("description"),
        keyword=call.get("keyword"),
        for_display=call.get("fordisplay"),
    )
    found, total = guest_os.search_types(call.session, wanted, paging.page(call))
    items = [views.os_type_item(os, category) for os, category in found]
    return responses.Listing("ostype", items, total)


def list_os_categories(call: registry.Call) -> responses.Reply:
    wanted = guest_os.CategoryFilter(
        uuid=call.get("id"), name=call.get("name"), keyword=call.get("keyword")
    )
    found, total = guest_os.search_categories(call.session, wanted, paging.page(call))
    items = [views.os_category_item(category) for category in found]
    return responses.Listing("oscategory", items, total)


COMMANDS = (
    registry.Command(
        "listOsTypes",
        list_os_types,
        "Lists all supported OS types for this cloud.",
        (
            P("id", T.UUID, "list by Os type Id", related=("listOsTypes",)),
            P(
                "oscategoryid",
                T.UUID,
                "list by Os Category id",
                related=("listOsCategories",),
            ),
            P("description", T.STRING, "list os by description (a part of it, any case)"),
            P("fordisplay", T.BOOLEAN, "list resources by display flag"),
            *paging.PARAMS,
        ),
        views.OS_TYPE,
    ),
    registry.Command(
        "listOsCategories",
        list_os_categories,
        "Lists all supported OS categories for this cloud.",
        (
            P("id", T.UUID, "list Os category by id", related=("listOsCategories",)),
            P("name", T.STRING, "list os category by name (a part of it, any case)"),
            *paging.PARAMS,
        ),
        views.OS_CATEGORY,
    ),
)
