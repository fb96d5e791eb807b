"""The guest OS catalogue on a real database (SQLite, PostgreSQL, MariaDB): seed and search."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cirrostack import errors
from cirrostack.accounts import bootstrap
from cirrostack.compute import guest_os
from cirrostack.db import query
from cirrostack.db.models import guest_os as models
from tests.conftest import Database


def _counts(database: Database) -> tuple[int, int]:
    with database.sessions() as session:
        categories = session.scalar(sa.select(sa.func.count()).select_from(models.GuestOsCategory))
        types = session.scalar(sa.select(sa.func.count()).select_from(models.GuestOs))
        return int(categories or 0), int(types or 0)


def test_bootstrap_seeds_the_catalogue_once_and_keeps_what_operators_added(
    database: Database,
) -> None:
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        session.commit()
    assert _counts(database) == (len(guest_os.CATEGORIES), len(guest_os.OS_TYPES))
    with database.sessions() as session:
        other = session.scalars(
            sa.select(models.GuestOsCategory).where(models.GuestOsCategory.name == "Other")
        ).one()
        session.add(models.GuestOs(category_id=other.id, display_name="Mine", is_user_defined=True))
        session.delete(
            session.scalars(
                sa.select(models.GuestOs).where(models.GuestOs.display_name == "Ubuntu 18.04 LTS")
            ).one()
        )
        session.commit()
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        guest_os.ensure_catalogue(session)
        session.commit()
    assert _counts(database) == (len(guest_os.CATEGORIES), len(guest_os.OS_TYPES) + 1)


def test_search_filters_by_category_description_and_keyword(database: Database) -> None:
    with database.sessions() as session:
        guest_os.ensure_catalogue(session)
        session.commit()
        every = query.Page()
        found, total = guest_os.search_types(session, guest_os.OsTypeFilter(), every)
        assert total == len(guest_os.OS_TYPES) == len(found)
        assert [os.display_name for os, _ in found][:3] == [
            description for _, description in guest_os.OS_TYPES[:3]
        ]
        ubuntu = next(category for os, category in found if category.name == "Ubuntu")
        in_ubuntu, _ = guest_os.search_types(
            session, guest_os.OsTypeFilter(category_uuid=ubuntu.uuid), every
        )
        assert {os.display_name for os, _ in in_ubuntu} == {
            description for name, description in guest_os.OS_TYPES if name == "Ubuntu"
        }
        wanted = guest_os.OsTypeFilter(description="other LINUX", keyword="64")
        named, total = guest_os.search_types(session, wanted, every)
        assert [os.display_name for os, _ in named] == ["Other Linux (64-bit)"] and total == 1
        page, total = guest_os.search_types(session, guest_os.OsTypeFilter(), query.Page(5, 5))
        assert (len(page), total) == (5, len(guest_os.OS_TYPES))
        categories, total = guest_os.search_categories(
            session, guest_os.CategoryFilter(keyword="U"), every
        )
        assert [c.name for c in categories] == ["SUSE", "Unix", "Ubuntu"] and total == 3


def test_lookups_by_uuid_and_description(sqlite_database: Database) -> None:
    with sqlite_database.sessions() as session:
        guest_os.ensure_catalogue(session)
        linux = guest_os.by_description(session, "Other Linux (64-bit)")
        assert linux is not None and guest_os.by_uuid(session, linux.uuid) is linux
        with pytest.raises(errors.InvalidParameterValue, match="ostypeid nope"):
            guest_os.by_uuid(session, "nope")
