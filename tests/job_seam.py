"""The job seam (``jobs.context.Job``) as a test drives a job step directly: a checkpoint
commits the session, nothing fences, activity and progress are not recorded."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session


class TestJob:
    __test__ = False  # not a pytest class

    def __init__(self, session: Session) -> None:
        self.session = session

    def checkpoint(self) -> None:
        self.session.commit()

    def fence(self) -> sa.ColumnElement[bool]:
        return sa.true()

    def activity(self) -> None:
        return None

    def progress(self, percent: int) -> None:
        return None

    def cancelled(self) -> bool:
        return False
