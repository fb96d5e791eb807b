"""A flood of forged signatures and wrong passwords does not starve a legitimate user (SQLite).

The attack of issue 6 (finding 3): with only a known API key, threads send requests with many
parameters and wrong signatures (each costs the server up to 12 canonical forms of HMAC), and
other threads try wrong passwords (PBKDF2 each). While signature checks and password hashing
ran under SQLite's only write lock, another user's calls waited behind them and failed with
530 once the busy timeout ran out. Now the checks run with no transaction open and reads take
no write lock: every call of the legitimate user succeeds, whatever the latency, and the
attackers only ever get 401 and 531.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from cs import CloudStack

from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance

ATTACKERS = 8
GUESSERS = 4
#: Parameters per forged request (the server checks every client variant over all of them).
PARAMETERS = 8_000
LEGITIMATE_CALLS = 24


@pytest.fixture
def flooded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("flood") / "var")
    yield running
    stop_server(running)


def _legitimate_user(admin: CloudStack) -> CloudStack:
    created = admin.createAccount(
        username="alice",
        password="alice's password",
        email="alice@example.org",
        firstname="Alice",
        lastname="User",
        accounttype=0,
    )
    user_id = created["account"]["user"][0]["id"]
    keys = admin.registerUserKeys(id=user_id)["userkeys"]
    return keys


def _forge(server: Server, stop: threading.Event, seen: Counter[int]) -> None:
    """Send admin's API key with a wrong signature and many parameters, until ``stop``."""
    form = {"command": "listUsers", "response": "json", "apiKey": server.api_key}
    form.update({f"p{index}": f"value-{index}" for index in range(PARAMETERS)})
    form["signature"] = "d3Jvbmcgc2lnbmF0dXJl"
    with httpx.Client(timeout=300) as client:
        while not stop.is_set():
            seen[client.post(server.url, data=form).status_code] += 1


def _guess(server: Server, stop: threading.Event, seen: Counter[int]) -> None:
    """Try wrong passwords for admin, until ``stop``."""
    with httpx.Client(timeout=300) as client:
        attempt = 0
        while not stop.is_set():
            attempt += 1
            answer = client.post(
                server.url,
                data={
                    "command": "login",
                    "response": "json",
                    "username": "admin",
                    "password": f"guess-{attempt}",
                },
            )
            seen[answer.status_code] += 1


def test_a_flood_of_forged_signatures_and_logins_does_not_starve_another_user(
    flooded: Server,
) -> None:
    admin = CloudStack(endpoint=flooded.url, key=flooded.api_key, secret=flooded.secret_key)
    keys = _legitimate_user(admin)
    alice = CloudStack(
        endpoint=flooded.url, key=keys["apikey"], secret=keys["secretkey"], timeout=300
    )
    stop = threading.Event()
    seen: Counter[int] = Counter()
    threads = [
        threading.Thread(target=work, args=(flooded, stop, seen), daemon=True)
        for work in [_forge] * ATTACKERS + [_guess] * GUESSERS
    ]
    for thread in threads:
        thread.start()
    outcomes: list[str] = []
    try:
        for index in range(LEGITIMATE_CALLS):
            try:
                if index % 4 == 3:
                    alice.updateUser(id=alice.listUsers()["user"][0]["id"], firstname=f"A{index}")
                else:
                    alice.listCapabilities()
                outcomes.append("ok")
            except Exception as exc:  # the client raises on any error answer
                outcomes.append(f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=300)
    assert outcomes == ["ok"] * LEGITIMATE_CALLS
    assert seen and set(seen) <= {401, 531}, seen
