"""Cross-site requests with a victim's session cookies are refused (issue 6, finding 4).

The probe: with SameSite=Lax, a link on another site ran updateUser with the victim's cookies
and changed its password. Whatever the session key settings, a request that carries session
cookies (or asks to log in) and that the browser marks as coming from another site (Origin,
Referer, Sec-Fetch-Site) is refused with CloudStack's 401 envelope, and nothing changes.
Clients that send none of those headers (cs, cmk, cloudmonkey, libcloud) are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cs import CloudStack

from cirrostack.api import signing
from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance

CONTENT_TYPE = "application/json; charset=UTF-8"
VICTIM_PASSWORD = "victim password"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("cross-site") / "var")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def admin(cloud: Server) -> CloudStack:
    return CloudStack(endpoint=cloud.url, key=cloud.api_key, secret=cloud.secret_key)


@pytest.fixture(scope="module")
def victim(admin: CloudStack) -> dict[str, Any]:
    account = admin.createAccount(
        username="victim",
        password=VICTIM_PASSWORD,
        email="victim@example.org",
        firstname="Vic",
        lastname="Tim",
        accounttype=0,
    )["account"]
    return dict(account["user"][0])


def logged_in(cloud: Server, client: httpx.Client) -> str:
    answer = client.post(
        cloud.url,
        data={"command": "login", "username": "victim", "password": VICTIM_PASSWORD},
    )
    assert answer.status_code == 200
    return str(answer.json()["loginresponse"]["sessionkey"])


def first_name(admin: CloudStack, victim: dict[str, Any]) -> str:
    [user] = admin.listUsers(id=victim["id"])["user"]
    return str(user["firstname"])


def assert_refused(answer: httpx.Response) -> None:
    assert answer.status_code == 401
    assert answer.headers["content-type"] == CONTENT_TYPE
    body = answer.json()
    assert list(body) == ["errorresponse"]
    assert body["errorresponse"]["errorcode"] == 401
    assert "cross-site" in body["errorresponse"]["errortext"]


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": EVIL},
        {"origin": "null"},
        {"referer": EVIL + "/innocent-page"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "http://127.0.0.1:1"},
    ],
)
def test_a_cross_site_update_with_the_victims_session_is_refused(
    cloud: Server, admin: CloudStack, victim: dict[str, Any], headers: dict[str, str]
) -> None:
    with httpx.Client() as client:
        key = logged_in(cloud, client)
        params = {
            "command": "updateUser",
            "id": victim["id"],
            "firstname": "Pwned",
            "response": "json",
            "sessionkey": key,
        }
        assert_refused(client.get(cloud.url, params=params, headers=headers))
        assert_refused(client.post(cloud.url, data=params, headers=headers))
    assert first_name(admin, victim) == "Vic"


def test_a_cross_site_link_with_cookies_only_changes_nothing(
    cloud: Server, admin: CloudStack, victim: dict[str, Any]
) -> None:
    """The probe's exact request: a top-level GET from a link, cookies and no sessionkey."""
    with httpx.Client() as client:
        logged_in(cloud, client)
        params = {"command": "updateUser", "id": victim["id"], "firstname": "Pwned"}
        answer = client.get(
            cloud.url,
            params=params,
            headers={"sec-fetch-site": "cross-site", "referer": EVIL + "/"},
        )
        assert answer.status_code == 401
        # Without the browser's headers the cookies alone still do not authenticate.
        assert client.get(cloud.url, params=params).status_code == 401
    assert first_name(admin, victim) == "Vic"


def test_a_cross_site_login_is_refused(cloud: Server) -> None:
    answer = httpx.post(
        cloud.url,
        data={"command": "login", "username": "victim", "password": VICTIM_PASSWORD},
        headers={"origin": EVIL},
    )
    assert_refused(answer)
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},
        {"origin": "{base}"},
        {"referer": "{base}/client/"},
        {"origin": "https://cloud.example", "x-forwarded-host": "cloud.example"},
    ],
)
def test_same_origin_requests_with_the_session_run(
    cloud: Server, victim: dict[str, Any], headers: dict[str, str]
) -> None:
    with httpx.Client() as client:
        key = logged_in(cloud, client)
        sent = {name: value.format(base=cloud.base) for name, value in headers.items()}
        params = {"command": "listUsers", "response": "json", "sessionkey": key}
        answer = client.get(cloud.url, params=params, headers=sent)
        assert answer.status_code == 200, answer.text
        assert answer.json()["listusersresponse"]["user"][0]["id"] == victim["id"]


def test_signed_requests_from_anywhere_are_not_concerned(cloud: Server) -> None:
    """Without session cookies there is nothing to forge: the signature is the credential."""
    pairs = [("command", "listZones"), ("response", "json"), ("apiKey", cloud.api_key)]
    pairs.append(("signature", signing.sign(pairs, cloud.secret_key)))
    answer = httpx.get(cloud.url, params=pairs, headers={"origin": EVIL})
    assert answer.status_code == 200
