"""db.periodic: rounds run again after the interval read before each, a failed round does
not end the service, and stop ends it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from cirrostack.db import periodic


def test_rounds_repeat_survive_a_failure_and_stop() -> None:
    sessions = sessionmaker(sa.create_engine("sqlite://"))
    rounds: list[int] = []
    enough = threading.Event()

    def round_() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise RuntimeError("a failed round")
        if len(rounds) >= 4:
            enough.set()

    service = periodic.Periodic("test service", sessions, lambda session: 0.01, 60.0, round_)
    service.start()
    with pytest.raises(RuntimeError, match="already running"):
        service.start()
    assert enough.wait(10)
    service.stop()
    done = len(rounds)
    assert done >= 4
    enough.clear()
    assert not enough.wait(0.1) and len(rounds) == done
