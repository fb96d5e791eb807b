"""The guest OS catalogue: categories and OS types templates and VMs declare.

Seeded by ``ensure_catalogue`` (called by ``accounts.bootstrap.ensure_cloud``): the categories
CloudStack ships, in its order, and a set of OS types chosen for this project (a subset of what
CloudStack knows, named as CloudStack names them so that clients looking one up by description,
such as Ansible's ``os_type: Other Linux (64-bit)``, find it). Idempotent: an entry already
present (by category name, or by description within its category) is left alone, so a second
call adds nothing and rows added by operators are kept.

listOsTypes and listOsCategories read these rows (``search_types``, ``search_categories``);
templates and VMs name an OS type by ``by_uuid`` (``ostypeid``) or ``by_description``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack import errors
from cirrostack.db import query
from cirrostack.db.models import guest_os as models

#: Category names in CloudStack's order ("Novel" is CloudStack's spelling).
CATEGORIES = (
    "CentOS",
    "Debian",
    "Oracle",
    "RedHat",
    "SUSE",
    "Windows",
    "Other",
    "Novel",
    "Unix",
    "Ubuntu",
)

#: (category, description) of every seeded OS type.
OS_TYPES: tuple[tuple[str, str], ...] = (
    ("CentOS", "CentOS 5.3 (64-bit)"),
    ("CentOS", "CentOS 5.5 (64-bit)"),
    ("CentOS", "CentOS 5.6 (32-bit)"),
    ("CentOS", "CentOS 5.6 (64-bit)"),
    ("CentOS", "CentOS 6.10 (64-bit)"),
    ("CentOS", "CentOS 7"),
    ("CentOS", "CentOS 8"),
    ("CentOS", "Rocky Linux 8"),
    ("CentOS", "Rocky Linux 9"),
    ("CentOS", "AlmaLinux 9"),
    ("Debian", "Debian GNU/Linux 10 (64-bit)"),
    ("Debian", "Debian GNU/Linux 11 (64-bit)"),
    ("Debian", "Debian GNU/Linux 12 (64-bit)"),
    ("Oracle", "Oracle Linux 7"),
    ("Oracle", "Oracle Linux 8"),
    ("Oracle", "Oracle Linux 9"),
    ("RedHat", "Red Hat Enterprise Linux 7"),
    ("RedHat", "Red Hat Enterprise Linux 8"),
    ("RedHat", "Red Hat Enterprise Linux 9"),
    ("SUSE", "SUSE Linux Enterprise Server 12 SP5 (64-bit)"),
    ("SUSE", "SUSE Linux Enterprise Server 15 SP5 (64-bit)"),
    ("SUSE", "openSUSE Leap 15 (64-bit)"),
    ("Windows", "Windows 10 (64-bit)"),
    ("Windows", "Windows 11 (64-bit)"),
    ("Windows", "Windows Server 2016 (64-bit)"),
    ("Windows", "Windows Server 2019 (64-bit)"),
    ("Windows", "Windows Server 2022 (64-bit)"),
    ("Other", "Other (32-bit)"),
    ("Other", "Other (64-bit)"),
    ("Other", "Other Linux (32-bit)"),
    ("Other", "Other Linux (64-bit)"),
    ("Other", "Other PV (64-bit)"),
    ("Other", "Other PV Virtio-SCSI (64-bit)"),
    ("Novel", "Novell Netware 6.5"),
    ("Unix", "FreeBSD 13 (64-bit)"),
    ("Unix", "FreeBSD 14 (64-bit)"),
    ("Unix", "OpenBSD 7 (64-bit)"),
    ("Unix", "Sun Solaris 11 (64-bit)"),
    ("Ubuntu", "Ubuntu 18.04 LTS"),
    ("Ubuntu", "Ubuntu 20.04 LTS"),
    ("Ubuntu", "Ubuntu 22.04 LTS"),
    ("Ubuntu", "Ubuntu 24.04 LTS"),
)


@dataclass(frozen=True)
class OsTypeFilter:
    """What listOsTypes asked for."""

    uuid: str | None = None
    category_uuid: str | None = None
    description: str | None = None
    keyword: str | None = None
    for_display: bool | None = None


@dataclass(frozen=True)
class CategoryFilter:
    """What listOsCategories asked for."""

    uuid: str | None = None
    name: str | None = None
    keyword: str | None = None


def by_uuid(session: Session, uuid: str, *, parameter: str = "ostypeid") -> models.GuestOs:
    """The live OS type with ``uuid``; InvalidParameterValue naming ``parameter`` if none."""
    found = session.scalars(
        sa.select(models.GuestOs).where(
            models.GuestOs.uuid == uuid, models.GuestOs.removed.is_(None)
        )
    ).first()
    if found is None:
        raise errors.InvalidParameterValue(f"Unable to find OS type by {parameter} {uuid}")
    return found


def by_description(session: Session, description: str) -> models.GuestOs | None:
    """The live OS type described exactly so (``Other Linux (64-bit)``), the oldest first."""
    return session.scalars(
        sa.select(models.GuestOs)
        .where(models.GuestOs.display_name == description, models.GuestOs.removed.is_(None))
        .order_by(models.GuestOs.id)
    ).first()


def ensure_catalogue(session: Session) -> None:
    """Add whatever seeded category or OS type is missing; changes nothing else."""
    categories = {
        category.name: category for category in session.scalars(sa.select(models.GuestOsCategory))
    }
    for name in CATEGORIES:
        if name not in categories:
            categories[name] = models.GuestOsCategory(name=name)
            session.add(categories[name])
    session.flush()
    present = {
        (category_id, name)
        for category_id, name in session.execute(
            sa.select(models.GuestOs.category_id, models.GuestOs.display_name).where(
                models.GuestOs.is_user_defined.is_(False)
            )
        )
    }
    for category, description in OS_TYPES:
        category_id = categories[category].id
        if (category_id, description) not in present:
            session.add(models.GuestOs(category_id=category_id, display_name=description))
    session.flush()


def search_types(
    session: Session, wanted: OsTypeFilter, page: query.Page
) -> tuple[list[tuple[models.GuestOs, models.GuestOsCategory]], int]:
    """listOsTypes: live OS types with their categories, in id order."""
    statement = (
        sa.select(models.GuestOs)
        .join(models.GuestOsCategory, models.GuestOsCategory.id == models.GuestOs.category_id)
        .where(models.GuestOs.removed.is_(None))
    )
    statement = statement.where(
        *query.equal_to_given(
            (models.GuestOs.uuid, wanted.uuid),
            (models.GuestOsCategory.uuid, wanted.category_uuid),
            (models.GuestOs.display, wanted.for_display),
        )
    )
    for text in (wanted.description, wanted.keyword):
        if text:
            statement = statement.where(query.matches_keyword(models.GuestOs.display_name, text))
    found, total = query.paged(session, statement.order_by(models.GuestOs.id), page)
    categories = {row.id: row for row in session.scalars(sa.select(models.GuestOsCategory))}
    return [(os, categories[os.category_id]) for os in found], total


def search_categories(
    session: Session, wanted: CategoryFilter, page: query.Page
) -> tuple[Sequence[models.GuestOsCategory], int]:
    """listOsCategories, in id order; ``name`` and ``keyword`` match a part of the name."""
    statement = sa.select(models.GuestOsCategory)
    if wanted.uuid is not None:
        statement = statement.where(models.GuestOsCategory.uuid == wanted.uuid)
    for text in (wanted.name, wanted.keyword):
        if text:
            statement = statement.where(query.matches_keyword(models.GuestOsCategory.name, text))
    return query.paged(session, statement.order_by(models.GuestOsCategory.id), page)
