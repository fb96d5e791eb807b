"""listRoles, createRole, updateRole, deleteRole and the role permission commands."""

from __future__ import annotations

from cirrostack import errors
from cirrostack.accounts import role_admin, roles
from cirrostack.api import paging, registry, responses
from cirrostack.api.commands.common import P, T
from cirrostack.api.views import roles as views
from cirrostack.db import query
from cirrostack.db.models import accounts as models


def _acted_on(call: registry.Call, role: models.Role) -> models.Role:
    call.acted_on = ("Role", role.id, role.name)
    return role


def _role(call: registry.Call, name: str = "id", *, lock: bool = False) -> models.Role:
    role = role_admin.by_uuid(call.session, call.who, call.get(name), lock=lock)
    return _acted_on(call, role)


def list_roles(call: registry.Call) -> responses.Reply:
    kind = call.get("type")
    found, total = role_admin.search(
        call.session,
        call.who,
        uuid=call.get("id"),
        name=call.get("name"),
        role_type=None if kind is None else role_admin.role_type_of(kind),
        keyword=call.get("keyword"),
        page=paging.page(call),
    )
    return responses.Listing("role", [views.role_item(role) for role in found], total)


def create_role(call: registry.Call) -> responses.Reply:
    kind, source = call.get("type"), call.get("roleid")
    if (kind is None) == (source is None):
        raise errors.InvalidParameterValue("Exactly one of role type and role ID must be passed")
    clone_of = None if source is None else role_admin.by_uuid(call.session, call.who, source)
    role = role_admin.create(
        call.session,
        call.get("name"),
        role_admin.role_type_of(kind) if kind is not None else roles.RoleType.USER,
        call.get("description"),
        clone_of=clone_of,
    )
    return responses.Single("role", views.role_item(_acted_on(call, role)))


def update_role(call: registry.Call) -> responses.Reply:
    kind = call.get("type")
    role = role_admin.update(
        call.session,
        _role(call, lock=True),
        call.get("name"),
        None if kind is None else role_admin.role_type_of(kind),
        call.get("description"),
    )
    return responses.Single("role", views.role_item(role))


def delete_role(call: registry.Call) -> responses.Reply:
    role_admin.delete(call.session, _role(call, lock=True), call.now)
    return responses.Success()


def list_role_permissions(call: registry.Call) -> responses.Reply:
    if call.get("roleid") is None:
        found = role_admin.search(
            call.session,
            call.who,
            uuid=None,
            name=None,
            role_type=None,
            keyword=None,
            page=query.Page(),
        )[0]
    else:
        found = [role_admin.by_uuid(call.session, call.who, call.get("roleid"))]
    items = [
        views.permission_item(role, entry)
        for role in found
        for entry in role_admin.rules_of(call.session, role)
    ]
    page = paging.page(call)
    end = None if page.limit is None else page.offset + page.limit
    return responses.Listing("rolepermission", items[page.offset : end], len(items))


def create_role_permission(call: registry.Call) -> responses.Reply:
    role = _role(call, "roleid", lock=True)
    entry = role_admin.add_rule(
        call.session,
        role,
        call.get("rule"),
        role_admin.permission_of(call.get("permission")),
        call.get("description"),
    )
    return responses.Single("rolepermission", views.permission_item(role, entry))


def update_role_permission(call: registry.Call) -> responses.Reply:
    role = _role(call, "roleid", lock=True)
    order, rule_id, permission = call.get("ruleorder"), call.get("ruleid"), call.get("permission")
    if order is not None:
        if rule_id is not None or permission is not None:
            raise errors.InvalidParameterValue(
                "Parameters permission and ruleid must be mutually exclusive with ruleorder"
            )
        entries = [role_admin.rule_by_uuid(call.session, call.who, uuid) for uuid in order]
        role_admin.reorder(call.session, role, entries)
    elif rule_id is not None and permission is not None:
        entry = role_admin.rule_by_uuid(call.session, call.who, rule_id)
        role_admin.set_permission(call.session, role, entry, role_admin.permission_of(permission))
    else:
        raise errors.InvalidParameterValue("Either ruleorder, or ruleid with permission, is needed")
    return responses.Success()


def delete_role_permission(call: registry.Call) -> responses.Reply:
    entry = role_admin.rule_by_uuid(call.session, call.who, call.get("id"))
    _acted_on(call, call.session.get_one(models.Role, entry.role_id))
    role_admin.remove_rule(call.session, entry)
    return responses.Success()


_ROLE_TYPE = P("type", T.STRING, "The type of the role: Admin, ResourceAdmin, DomainAdmin, User")
_DESCRIPTION = P("description", T.STRING, "The description of the role")
_ROLE_ID = P("roleid", T.UUID, "ID of the role", required=True, related=("listRoles",))

COMMANDS = (
    registry.Command(
        "listRoles",
        list_roles,
        "Lists dynamic roles in CloudStack",
        (
            P("id", T.UUID, "List role by role ID.", related=("listRoles",)),
            P("name", T.STRING, "List role by role name."),
            P("type", T.STRING, "List role by role type: Admin, ResourceAdmin, DomainAdmin, User"),
            *paging.PARAMS,
        ),
        views.ROLE,
        authorized=registry.DOMAIN_ADMINS | {roles.RoleType.RESOURCE_ADMIN},
        since="4.9.0",
    ),
    registry.Command(
        "createRole",
        create_role,
        "Creates a role",
        (
            P("name", T.STRING, "Creates a role with this unique name", required=True),
            P(
                "roleid",
                T.UUID,
                "ID of the role to be cloned from. Either roleid or type must be passed in",
                related=("listRoles",),
            ),
            _ROLE_TYPE,
            _DESCRIPTION,
        ),
        views.ROLE,
        authorized=registry.ADMINS,
        since="4.9.0",
        event="ROLE.CREATE",
    ),
    registry.Command(
        "updateRole",
        update_role,
        "Updates a role",
        (
            P("id", T.UUID, "ID of the role", required=True, related=("listRoles",)),
            P("name", T.STRING, "creates a role with this unique name"),
            _ROLE_TYPE,
            _DESCRIPTION,
        ),
        views.ROLE,
        authorized=registry.ADMINS,
        since="4.9.0",
        event="ROLE.UPDATE",
    ),
    registry.Command(
        "deleteRole",
        delete_role,
        "Deletes a role",
        (P("id", T.UUID, "ID of the role", required=True, related=("listRoles",)),),
        authorized=registry.ADMINS,
        since="4.9.0",
        event="ROLE.DELETE",
    ),
    registry.Command(
        "listRolePermissions",
        list_role_permissions,
        "Lists role permissions",
        (P("roleid", T.UUID, "ID of the role", related=("listRoles",)), *paging.PARAMS),
        views.ROLEPERMISSION,
        authorized=registry.ADMINS,
        since="4.9.0",
    ),
    registry.Command(
        "createRolePermission",
        create_role_permission,
        "Adds an API permission to a role",
        (
            _ROLE_ID,
            P("rule", T.STRING, "The API name or wildcard rule such as list*", required=True),
            P("permission", T.STRING, "The rule permission, allow or deny", required=True),
            P("description", T.STRING, "The description of the role permission"),
        ),
        views.ROLEPERMISSION,
        authorized=registry.ADMINS,
        since="4.9.0",
        event="ROLE.PERMISSION.CREATE",
    ),
    registry.Command(
        "updateRolePermission",
        update_role_permission,
        "Updates a role permission order, or one rule's permission",
        (
            _ROLE_ID,
            P(
                "ruleorder",
                T.LIST,
                "The role permission uuids in their new order",
                item_type=T.UUID,
                length=65535,
            ),
            P("ruleid", T.UUID, "Role permission rule id", related=("listRolePermissions",)),
            P("permission", T.STRING, "Rule permission, can be: allow or deny"),
        ),
        authorized=registry.ADMINS,
        since="4.9.0",
        event="ROLE.PERMISSION.UPDATE",
    ),
    registry.Command(
        "deleteRolePermission",
        delete_role_permission,
        "Deletes a role permission",
        (
            P(
                "id",
                T.UUID,
                "ID of the role permission",
                required=True,
                related=("listRolePermissions",),
            ),
        ),
        authorized=registry.ADMINS,
        since="4.9.0",
        event="ROLE.PERMISSION.DELETE",
    ),
)
