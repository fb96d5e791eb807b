"""The job settings read at every claim and heartbeat (``jobs.lease``) answer exactly what
``Settings.get`` answers, on every backend: the stored value, the default when the row is
missing or unset, a value changed in the same transaction, and BadStoredValue for a corrupt
one. ``lease`` reads them with one prebuilt statement (issue 7, item 8); these tests fail if
that read ever drifts from the general lookup."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cirrostack.accounts import bootstrap
from cirrostack.config import errors, keys, settings
from cirrostack.db.models import configuration
from cirrostack.jobs import lease
from tests.conftest import Database

Row = configuration.Configuration


def both(session: Session) -> tuple[datetime.timedelta, datetime.timedelta]:
    """(lease, silence) as ``jobs.lease`` reads them, checked against ``Settings.get``."""
    general = settings.Settings(session)
    got = lease.configured(session), lease.silence(session)
    assert got == (
        datetime.timedelta(seconds=general.get(keys.JOB_LEASE_SECONDS)),
        datetime.timedelta(minutes=general.get(keys.JOB_CANCEL_THRESHOLD_MINUTES)),
    )
    return got


def set_value(session: Session, name: str, value: str | None) -> None:
    session.execute(sa.update(Row).where(Row.name == name).values(value=value))


def test_the_stored_value_the_default_and_a_change_in_the_same_transaction(
    database: Database,
) -> None:
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        session.commit()
        assert both(session) == (datetime.timedelta(seconds=60), datetime.timedelta(minutes=60))
        set_value(session, keys.JOB_LEASE_SECONDS.name, "17")
        session.commit()
        assert both(session)[0] == datetime.timedelta(seconds=17)
        set_value(session, keys.JOB_LEASE_SECONDS.name, None)  # unset: the default
        session.commit()
        assert both(session)[0] == datetime.timedelta(seconds=60)
        session.execute(sa.delete(Row).where(Row.name == keys.JOB_CANCEL_THRESHOLD_MINUTES.name))
        session.commit()  # no row at all: the default
        assert both(session)[1] == datetime.timedelta(minutes=60)
        # A row changed through the ORM and not yet flushed counts, as in the general lookup.
        row = session.get_one(Row, keys.JOB_LEASE_SECONDS.name)
        row.value = "23"
        assert lease.configured(session) == datetime.timedelta(seconds=23)
        session.rollback()


def test_a_corrupt_value_is_refused_as_the_general_lookup_refuses_it(database: Database) -> None:
    with database.sessions() as session:
        bootstrap.ensure_cloud(session)
        set_value(session, keys.JOB_LEASE_SECONDS.name, "soon")
        session.commit()
        with pytest.raises(errors.BadStoredValue) as ours:
            lease.configured(session)
        with pytest.raises(errors.BadStoredValue) as theirs:
            settings.Settings(session).get(keys.JOB_LEASE_SECONDS)
        assert str(ours.value) == str(theirs.value)
        session.rollback()
