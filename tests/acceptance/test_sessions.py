"""Username/password sessions the way cloudmonkey and cmk use them, over real HTTP.

cloudmonkey 5.3.3 POSTs ``login`` with its parameters in the query string, reads the session key
from the JSON and sends it back as ``sessionkey=`` beside the cookies of its requests.Session.
cmk POSTs a form and takes the key from the ``sessionkey`` Set-Cookie instead. Both expect 531
for bad credentials and 401 for a session that no longer holds. The server is a black box here:
the only way in is HTTP.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance

CONTENT_TYPE = "application/json; charset=UTF-8"
SUB_PASSWORD = "sub-domain pass"
LOCATIONS, SAME_SITE = "api.sessionkey.check.locations", "api.sessionkey.cookie.samesite"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("sessions") / "var")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def admin(cloud: Server) -> CloudStack:
    return CloudStack(
        endpoint=cloud.url, key=cloud.api_key, secret=cloud.secret_key, fetch_result=True
    )


@pytest.fixture(scope="module")
def sub(admin: CloudStack) -> dict[str, Any]:
    """Domain ``/sub`` with user ``subuser``; ROOT also has a ``subuser``, with another password."""
    domain = admin.createDomain(name="sub")["domain"]
    for domain_id, password in ((domain["id"], SUB_PASSWORD), (None, "root twin password")):
        admin.createAccount(
            username="subuser",
            password=password,
            email="sub@example.org",
            firstname="Sub",
            lastname="User",
            accounttype=0,
            domainid=domain_id,
        )
    return dict(domain)


def cloudmonkey_login(server: Server, client: httpx.Client, **fields: str) -> httpx.Response:
    """cloudmonkey 5.3.3: a POST whose parameters travel in the query string."""
    params = {"command": "login", "response": "json", **fields}
    return client.post(server.url, params=params)


def cmk_login(server: Server, client: httpx.Client, **fields: str) -> httpx.Response:
    """cmk: a POST form."""
    return client.post(server.url, data={"command": "login", "response": "json", **fields})


def admin_login(server: Server, client: httpx.Client) -> httpx.Response:
    return cloudmonkey_login(server, client, username="admin", password=server.password, domain="/")


def list_accounts(server: Server, client: httpx.Client, session_key: str) -> httpx.Response:
    return client.get(
        server.url,
        params={"command": "listAccounts", "response": "json", "sessionkey": session_key},
    )


def assert_error(response: httpx.Response, key: str, code: int) -> dict[str, Any]:
    assert response.status_code == code
    assert response.headers["content-type"] == CONTENT_TYPE
    body = response.json()
    assert list(body) == [key]
    assert body[key]["errorcode"] == code
    return dict(body[key])


def test_cloudmonkey_login_then_session_key_parameter_with_cookies(cloud: Server) -> None:
    with httpx.Client() as client:
        answer = admin_login(cloud, client)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == CONTENT_TYPE
        login = answer.json()["loginresponse"]
        assert {"JSESSIONID", "sessionkey"} <= set(client.cookies)
        assert (login["username"], login["account"], login["type"]) == ("admin", "admin", "1")
        assert isinstance(login["timeout"], int)
        assert login["sessionkey"] == client.cookies["sessionkey"]
        listed = list_accounts(cloud, client, login["sessionkey"])
        assert listed.status_code == 200
        assert [item["name"] for item in listed.json()["listaccountsresponse"]["account"]] == [
            "admin"
        ]


def test_session_works_for_post_forms_as_cmk_sends_them(cloud: Server) -> None:
    with httpx.Client() as client:
        key = admin_login(cloud, client).json()["loginresponse"]["sessionkey"]
        form = {"command": "createDomain", "name": "bysession", "response": "json"}
        answer = client.post(cloud.url, data={**form, "sessionkey": key})
        assert answer.status_code == 200
        assert answer.json()["createdomainresponse"]["domain"]["path"] == "ROOT/bysession"


def test_login_without_domain_means_root(cloud: Server) -> None:
    with httpx.Client() as client:
        answer = cmk_login(cloud, client, username="admin", password=cloud.password)
        assert answer.status_code == 200
        assert answer.json()["loginresponse"]["username"] == "admin"


def test_cmk_takes_the_session_key_from_the_set_cookie(cloud: Server) -> None:
    with httpx.Client() as client:
        answer = cmk_login(cloud, client, username="admin", password=cloud.password, domain="/")
        assert answer.status_code == 200
        cookies = httpx.Cookies()
        cookies.extract_cookies(answer)
        session_key = cookies["sessionkey"]
        assert session_key == answer.json()["loginresponse"]["sessionkey"]
        assert list_accounts(cloud, client, session_key).status_code == 200


def test_cookies_alone_are_refused_by_default(cloud: Server) -> None:
    """CSRF (issue 6, finding 4): a link elsewhere carries the cookies but not the parameter;
    api.sessionkey.check.locations is CookieAndParameter by default, as in CloudStack."""
    with httpx.Client() as client:
        assert admin_login(cloud, client).status_code == 200
        answer = client.get(cloud.url, params={"command": "listAccounts", "response": "json"})
        assert_error(answer, "errorresponse", 401)


@contextlib.contextmanager
def session_key_locations(admin: CloudStack, value: str) -> Iterator[None]:
    admin.updateConfiguration(name=LOCATIONS, value=value)
    try:
        yield
    finally:
        admin.updateConfiguration(name=LOCATIONS, value="CookieAndParameter")


@pytest.mark.parametrize(
    ("where", "cookie_alone", "parameter_alone"),
    [
        ("CookieAndParameter", 401, 401),
        ("ParameterOnly", 401, 200),
        ("CookieOrParameter", 200, 200),
    ],
)
def test_where_the_session_key_may_come_from(
    cloud: Server, admin: CloudStack, where: str, cookie_alone: int, parameter_alone: int
) -> None:
    with session_key_locations(admin, where), httpx.Client() as client:
        key = admin_login(cloud, client).json()["loginresponse"]["sessionkey"]
        both = list_accounts(cloud, client, key)
        assert both.status_code == 200
        plain = {"command": "listAccounts", "response": "json"}
        assert client.get(cloud.url, params=plain).status_code == cookie_alone
        client.cookies.delete("sessionkey")
        assert list_accounts(cloud, client, key).status_code == parameter_alone


def test_the_session_key_locations_setting_takes_only_cloudstacks_options(
    admin: CloudStack,
) -> None:
    with pytest.raises(CloudStackApiException) as refused:
        admin.updateConfiguration(name=LOCATIONS, value="CookieOnly")
    assert refused.value.error["errorcode"] == 431


@pytest.mark.parametrize(
    ("same_site", "attribute"),
    [("Lax", "samesite=lax"), ("Strict", "samesite=strict"), ("NoneAndSecure", "samesite=none")],
)
def test_the_sessionkey_cookie_takes_the_configured_same_site(
    cloud: Server, admin: CloudStack, same_site: str, attribute: str
) -> None:
    admin.updateConfiguration(name=SAME_SITE, value=same_site)
    try:
        with httpx.Client() as client:
            answer = admin_login(cloud, client)
    finally:
        admin.updateConfiguration(name=SAME_SITE, value="Lax")
    [cookie] = [c for c in answer.headers.get_list("set-cookie") if c.startswith("sessionkey=")]
    assert attribute in cookie.lower().replace(" ", "")
    assert ("secure" in cookie.lower().split("; ")) == (same_site == "NoneAndSecure")


def test_same_site_null_sends_no_attribute(cloud: Server, admin: CloudStack) -> None:
    admin.updateConfiguration(name=SAME_SITE, value="Null")
    try:
        with httpx.Client() as client:
            answer = admin_login(cloud, client)
    finally:
        admin.updateConfiguration(name=SAME_SITE, value="Lax")
    [cookie] = [c for c in answer.headers.get_list("set-cookie") if c.startswith("sessionkey=")]
    assert "samesite" not in cookie.lower()


def test_wrong_session_key_is_refused(cloud: Server) -> None:
    with httpx.Client() as client:
        assert admin_login(cloud, client).status_code == 200
        client.cookies.delete("sessionkey")
        error = assert_error(list_accounts(cloud, client, "not-the-key"), "errorresponse", 401)
        assert "cserrorcode" not in error


def test_session_key_parameter_must_match_the_cookie(cloud: Server) -> None:
    with httpx.Client() as client:
        assert admin_login(cloud, client).status_code == 200
        with httpx.Client() as other:
            other_key = admin_login(cloud, other).json()["loginresponse"]["sessionkey"]
        assert_error(list_accounts(cloud, client, other_key), "errorresponse", 401)


def test_session_key_with_another_sessions_jsessionid_is_refused(cloud: Server) -> None:
    with httpx.Client() as first, httpx.Client() as second:
        key = admin_login(cloud, first).json()["loginresponse"]["sessionkey"]
        assert admin_login(cloud, second).status_code == 200
        cookies = {"JSESSIONID": second.cookies["JSESSIONID"], "sessionkey": key}
        with httpx.Client(cookies=cookies) as mixed:
            assert_error(list_accounts(cloud, mixed, key), "errorresponse", 401)


def test_session_callers_get_only_their_roles_commands(cloud: Server, sub: dict[str, Any]) -> None:
    with httpx.Client() as client:
        answer = cmk_login(cloud, client, username="subuser", password=SUB_PASSWORD, domain="/sub")
        key = answer.json()["loginresponse"]["sessionkey"]
        for command in ("createDomain", "noSuchCommand"):
            refused = client.post(
                cloud.url,
                data={"command": command, "name": "x", "response": "json", "sessionkey": key},
            )
            error = assert_error(refused, "errorresponse", 401)
            assert command in error["errortext"]


def test_login_by_get_is_405(cloud: Server) -> None:
    answer = httpx.get(
        cloud.url,
        params={"command": "login", "username": "admin", "password": cloud.password},
    )
    assert_error(answer, "loginresponse", 405)
    assert "set-cookie" not in answer.headers


def test_wrong_password_is_531_under_loginresponse(cloud: Server) -> None:
    with httpx.Client() as client:
        answer = cloudmonkey_login(cloud, client, username="admin", password="wrong", domain="/")
        error = assert_error(answer, "loginresponse", 531)
        assert "Failed to authenticate user admin" in error["errortext"]
        assert answer.headers["x-description"] == error["errortext"]
        assert not client.cookies


def test_unknown_user_fails_exactly_like_a_wrong_password(cloud: Server) -> None:
    with httpx.Client() as client:
        wrong = assert_error(
            cmk_login(cloud, client, username="admin", password="wrong"), "loginresponse", 531
        )
        unknown = assert_error(
            cmk_login(cloud, client, username="nobody", password="wrong"), "loginresponse", 531
        )
    assert unknown["errortext"] == wrong["errortext"].replace("admin", "nobody")


def test_logout_ends_the_session(cloud: Server) -> None:
    with httpx.Client() as client:
        key = admin_login(cloud, client).json()["loginresponse"]["sessionkey"]
        old_cookies = dict(client.cookies)
        answer = client.get(
            cloud.url, params={"command": "logout", "response": "json", "sessionkey": key}
        )
        assert answer.status_code == 200
        assert answer.json() == {"logoutresponse": {"description": "success"}}
        assert "JSESSIONID" not in client.cookies
    with httpx.Client(cookies=old_cookies) as replay:
        assert_error(list_accounts(cloud, replay, key), "errorresponse", 401)


@pytest.mark.parametrize("path", ["/sub", "sub", "/sub/"])
def test_login_into_a_sub_domain_by_path(cloud: Server, sub: dict[str, Any], path: str) -> None:
    with httpx.Client() as client:
        answer = cmk_login(cloud, client, username="subuser", password=SUB_PASSWORD, domain=path)
        assert answer.status_code == 200
        login = answer.json()["loginresponse"]
        assert (login["domainid"], login["type"]) == (sub["id"], "0")
        listed = list_accounts(cloud, client, login["sessionkey"])
        [account] = listed.json()["listaccountsresponse"]["account"]
        assert (account["name"], account["domainid"]) == ("subuser", sub["id"])


def test_login_into_a_sub_domain_by_domain_id(cloud: Server, sub: dict[str, Any]) -> None:
    with httpx.Client() as client:
        answer = cmk_login(
            cloud,
            client,
            username="subuser",
            password=SUB_PASSWORD,
            domain="/",
            domainId=sub["id"],
        )
        assert answer.status_code == 200
        assert answer.json()["loginresponse"]["domainid"] == sub["id"]


def test_same_username_in_another_domain_is_another_user(
    cloud: Server, sub: dict[str, Any]
) -> None:
    with httpx.Client() as client:
        at_root = cmk_login(cloud, client, username="subuser", password=SUB_PASSWORD, domain="/")
        assert_error(at_root, "loginresponse", 531)
        unknown_domain = cmk_login(
            cloud, client, username="subuser", password=SUB_PASSWORD, domain="/nowhere"
        )
        assert_error(unknown_domain, "loginresponse", 531)


def test_disabling_the_account_ends_its_sessions(cloud: Server, admin: CloudStack) -> None:
    domain = admin.createDomain(name="sessiondisable")["domain"]
    account = admin.createAccount(
        username="shortlived",
        password=SUB_PASSWORD,
        email="s@example.org",
        firstname="Short",
        lastname="Lived",
        accounttype=0,
        domainid=domain["id"],
    )["account"]
    with httpx.Client() as client:
        answer = cmk_login(
            cloud, client, username="shortlived", password=SUB_PASSWORD, domain="sessiondisable"
        )
        key = answer.json()["loginresponse"]["sessionkey"]
        assert list_accounts(cloud, client, key).status_code == 200
        admin.disableAccount(id=account["id"], lock=False)
        assert_error(list_accounts(cloud, client, key), "errorresponse", 401)
        admin.enableAccount(id=account["id"])
        assert_error(list_accounts(cloud, client, key), "errorresponse", 401)


def test_session_key_without_the_jsessionid_cookie_is_refused(cloud: Server) -> None:
    login = httpx.post(
        cloud.url,
        data={
            "command": "login",
            "username": "admin",
            "password": cloud.password,
            "response": "json",
        },
    )
    key = login.json()["loginresponse"]["sessionkey"]
    answer = httpx.get(
        cloud.url, params={"command": "listAccounts", "sessionkey": key, "response": "json"}
    )
    assert answer.status_code == 401
