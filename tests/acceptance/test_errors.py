"""Error answers exactly as CloudStack clients see them, over real HTTP.

Every error is checked for the HTTP status, the JSON content type, the single top-level key and
``errorcode`` equal to the status (cs, libcloud, cloudmonkey and cmk all read one of these).
Requests are signed here with the server's canonical algorithm (``signing.sign``) so that each
test controls every parameter, including ``signatureVersion`` and ``expires``.

The access matrix uses two sibling domains: D1 holds plain users A and B and domain admins DA
and DA2; D2 holds plain user C. After every refused call, the target is checked unchanged.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cs import CloudStack

from cirrostack.api import signing
from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance

CONTENT_TYPE = "application/json; charset=UTF-8"
AUTH_TEXT = "unable to verify user credentials and/or request signature"
#: CloudStack's codes when a caller may not do something: the command is not available to its
#: role (401, under ``errorresponse``), or PermissionDeniedException (531, cserrorcode 4365).
NOT_AVAILABLE, PERMISSION_DENIED = 401, 531
#: A target out of the caller's reach is answered like an unknown id (431, cserrorcode 4350).
UNKNOWN = 431


@dataclass(frozen=True)
class Caller:
    """Someone holding an API key pair, sending signed requests."""

    url: str
    key: str
    secret: str

    def call(self, command: str, /, **params: str) -> httpx.Response:
        pairs = [("command", command), ("response", "json"), ("apiKey", self.key)]
        pairs += list(params.items())
        pairs.append(("signature", signing.sign(pairs, self.secret)))
        return httpx.get(self.url, params=pairs)


@dataclass(frozen=True)
class World:
    server: Server
    admin: Caller
    d1: dict[str, Any]
    d2: dict[str, Any]
    accounts: dict[str, dict[str, Any]]
    callers: dict[str, Caller]

    def user_id(self, name: str) -> str:
        return str(self.accounts[name]["user"][0]["id"])


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("errors") / "var")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def world(cloud: Server) -> World:
    api = CloudStack(endpoint=cloud.url, key=cloud.api_key, secret=cloud.secret_key)
    d1 = api.createDomain(name="d1")["domain"]
    d2 = api.createDomain(name="d2")["domain"]
    layout = {"a": (d1, 0), "b": (d1, 0), "da": (d1, 2), "da2": (d1, 2), "c": (d2, 0)}
    accounts, callers = {}, {}
    for name, (domain, account_type) in layout.items():
        account = api.createAccount(
            username=name,
            password=f"{name} password",
            email=f"{name}@example.org",
            firstname=name,
            lastname="Tester",
            accounttype=account_type,
            domainid=domain["id"],
        )["account"]
        pair = api.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        accounts[name] = account
        callers[name] = Caller(cloud.url, pair["apikey"], pair["secretkey"])
    admin = Caller(cloud.url, cloud.api_key, cloud.secret_key)
    return World(cloud, admin, d1, d2, accounts, callers)


def assert_error(response: httpx.Response, key: str, code: int) -> dict[str, Any]:
    """The common shape of every error answer; returns the object under ``key``."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    body = response.json()
    assert list(body) == [key]
    error = body[key]
    assert error["errorcode"] == code
    assert error["uuidList"] == []
    return dict(error)


def assert_auth_failure(response: httpx.Response) -> None:
    """CloudStack's plain 401: ``errorresponse``, no cserrorcode, no X-Description."""
    error = assert_error(response, "errorresponse", 401)
    assert error["errortext"] == AUTH_TEXT
    assert "cserrorcode" not in error
    assert "x-description" not in response.headers


def assert_param_error(response: httpx.Response, key: str, *named: str) -> str:
    """431 with cserrorcode 4350, naming ``named`` in errortext and the X-Description header."""
    error = assert_error(response, key, 431)
    assert error["cserrorcode"] == 4350
    assert response.headers["x-description"] == error["errortext"]
    for word in named:
        assert word in error["errortext"]
    return str(error["errortext"])


def expiry(delta: datetime.timedelta) -> str:
    return (datetime.datetime.now(datetime.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S%z")


# --- authentication ---------------------------------------------------------------------------


def test_wrong_signature_is_401(world: World) -> None:
    forged = Caller(world.server.url, world.admin.key, "not-the-secret")
    assert_auth_failure(forged.call("listAccounts"))


def test_unknown_api_key_is_401(world: World) -> None:
    assert_auth_failure(Caller(world.server.url, "no-such-key", "x").call("listAccounts"))


def test_tampered_parameter_is_401(world: World) -> None:
    pairs = [("command", "listAccounts"), ("response", "json"), ("apiKey", world.admin.key)]
    signature = signing.sign([*pairs, ("name", "admin")], world.admin.secret)
    answer = httpx.get(
        world.server.url, params=[*pairs, ("name", "other"), ("signature", signature)]
    )
    assert_auth_failure(answer)


def test_missing_signature_is_401(world: World) -> None:
    answer = httpx.get(
        world.server.url,
        params={"command": "listAccounts", "response": "json", "apiKey": world.admin.key},
    )
    assert_auth_failure(answer)


def test_expired_version_3_request_is_401(world: World) -> None:
    past = expiry(-datetime.timedelta(minutes=5))
    assert_auth_failure(world.admin.call("listAccounts", signatureVersion="3", expires=past))


def test_version_3_request_without_expires_is_401(world: World) -> None:
    assert_auth_failure(world.admin.call("listAccounts", signatureVersion="3"))


def test_unexpired_version_3_request_is_answered(world: World) -> None:
    future = expiry(datetime.timedelta(minutes=5))
    answer = world.admin.call("listAccounts", signatureVersion="3", expires=future, name="admin")
    assert answer.status_code == 200
    assert answer.json()["listaccountsresponse"]["count"] == 1


@pytest.mark.parametrize("command", ["listAccountz", "listaccounts", "ListAccounts"])
def test_unknown_command_is_401_under_errorresponse(world: World, command: str) -> None:
    error = assert_error(world.admin.call(command), "errorresponse", 401)
    assert command in error["errortext"]


# --- parameters -------------------------------------------------------------------------------


def test_missing_required_parameter_is_431_naming_it(world: World) -> None:
    text = assert_param_error(world.admin.call("createDomain"), "createdomainresponse", "name")
    assert text == "Unable to execute API command createdomain due to missing parameter name"


def test_missing_parameter_of_an_async_command_is_431_before_any_job(world: World) -> None:
    answer = world.admin.call("deleteAccount")
    assert_param_error(answer, "deleteaccountresponse", "missing parameter id")


@pytest.mark.parametrize("value", ["not-a-uuid", "12", "0000-1111"])
def test_invalid_uuid_is_431(world: World, value: str) -> None:
    answer = world.admin.call("listAccounts", id=value)
    assert_param_error(answer, "listaccountsresponse", "id", value)


def test_unknown_uuid_is_431(world: World) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_param_error(
        world.admin.call("listAccounts", id=unknown), "listaccountsresponse", unknown
    )


def test_invalid_integer_is_431(world: World) -> None:
    answer = world.admin.call("listAccounts", page="first", pagesize="2")
    assert_param_error(answer, "listaccountsresponse", "page", "first")


@pytest.mark.parametrize(
    ("paging", "named"),
    [
        ({"page": "1"}, '"pagesize" parameter is required'),
        ({"pagesize": "2"}, '"page" parameter is required'),
        ({"page": "1", "pagesize": "501"}, "500"),
    ],
    ids=["page-without-pagesize", "pagesize-without-page", "pagesize-501"],
)
def test_paging_misuse_is_431(world: World, paging: dict[str, str], named: str) -> None:
    assert_param_error(world.admin.call("listAccounts", **paging), "listaccountsresponse", named)


def test_pagesize_minus_one_lists_everything(world: World) -> None:
    answer = world.admin.call("listAccounts", pagesize="-1", listall="true")
    assert answer.status_code == 200
    listed = answer.json()["listaccountsresponse"]
    assert listed["count"] == len(listed["account"])
    assert {"admin", "a", "b", "c", "da", "da2"} <= {item["name"] for item in listed["account"]}


@pytest.mark.parametrize("control", ["\x01", "\n", "\x00"], ids=["soh", "newline", "nul"])
def test_control_character_in_a_value_is_431(world: World, control: str) -> None:
    answer = world.admin.call("listAccounts", name=f"bad{control}name")
    text = assert_param_error(answer, "listaccountsresponse", "name")
    assert "non-printable" in text


def test_empty_list_is_an_empty_object(world: World) -> None:
    answer = world.admin.call("listAccounts", name="nobody-by-this-name")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == CONTENT_TYPE
    assert answer.json() == {"listaccountsresponse": {}}


# --- a plain user against another user of the same domain --------------------------------------


def outcome(caller: Caller, command: str, **params: str) -> tuple[int, httpx.Response]:
    """The error code a call ends with: the HTTP status, or a failed job's result code."""
    answer = caller.call(command, **params)
    if answer.status_code != 200:
        return answer.status_code, answer
    result = job_of(caller, answer)
    assert result["jobstatus"] == 2, f"{command} succeeded: {answer.text} {result}"
    return int(result["jobresultcode"]), answer


def job_of(caller: Caller, answer: httpx.Response) -> dict[str, Any]:
    """The finished job an async command's answer names, polled as clients poll (a worker
    runs it after the answer: nothing says it has finished when the answer arrives)."""
    content = next(iter(answer.json().values()))
    assert "jobid" in content, answer.text
    deadline = time.monotonic() + 30
    while True:
        job = caller.call("queryAsyncJobResult", jobid=content["jobid"]).json()
        result = dict(job["queryasyncjobresultresponse"])
        if result["jobstatus"] != 0 or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def assert_refused(caller: Caller, expected: int, command: str, **params: str) -> None:
    """The call is refused with ``expected``, in CloudStack's shape for that code."""
    code, answer = outcome(caller, command, **params)
    assert code == expected, answer.text
    if answer.status_code == NOT_AVAILABLE:
        error = assert_error(answer, "errorresponse", 401)
        assert command in error["errortext"]
    elif answer.status_code == PERMISSION_DENIED:
        error = assert_error(answer, f"{command.lower()}response", 531)
        assert error["cserrorcode"] == 4365
    elif answer.status_code == UNKNOWN:
        error = assert_error(answer, f"{command.lower()}response", 431)
        assert error["cserrorcode"] == 4350


def assert_account_intact(world: World, name: str) -> None:
    """The admin still sees the account unchanged, and its owner's keys still work."""
    account = world.accounts[name]
    listed = world.admin.call("listAccounts", id=account["id"]).json()["listaccountsresponse"]
    [now] = listed["account"]
    assert (now["name"], now["state"], now["domainid"]) == (
        account["name"],
        "enabled",
        account["domainid"],
    )
    assert world.callers[name].call("listAccounts").status_code == 200


USER_ON_PEER = [
    ("updateAccount", NOT_AVAILABLE, lambda w: {"id": w.accounts["b"]["id"], "newname": "x"}),
    ("deleteAccount", NOT_AVAILABLE, lambda w: {"id": w.accounts["b"]["id"]}),
    ("disableAccount", NOT_AVAILABLE, lambda w: {"id": w.accounts["b"]["id"], "lock": "true"}),
    ("deleteUser", NOT_AVAILABLE, lambda w: {"id": w.user_id("b")}),
    (
        "createAccount",
        NOT_AVAILABLE,
        lambda w: {
            "username": "intruder",
            "password": "p",
            "email": "e@example.org",
            "firstname": "f",
            "lastname": "l",
            "accounttype": "0",
        },
    ),
    ("deleteDomain", NOT_AVAILABLE, lambda w: {"id": w.d1["id"]}),
    ("getUserKeys", UNKNOWN, lambda w: {"id": w.user_id("b")}),
    ("registerUserKeys", UNKNOWN, lambda w: {"id": w.user_id("b")}),
    ("updateUser", UNKNOWN, lambda w: {"id": w.user_id("b"), "password": "taken"}),
]


@pytest.mark.parametrize(
    ("command", "expected", "params"), USER_ON_PEER, ids=[case[0] for case in USER_ON_PEER]
)
def test_user_cannot_act_on_another_account(
    world: World, command: str, expected: int, params: Any
) -> None:
    assert_refused(world.callers["a"], expected, command, **params(world))
    assert_account_intact(world, "b")
    assert world.callers["b"].call("listAccounts").status_code == 200


def test_user_lists_only_its_own_account(world: World) -> None:
    for extra in ({}, {"listall": "true"}, {"domainid": world.d1["id"]}):
        listed = world.callers["a"].call("listAccounts", **extra).json()["listaccountsresponse"]
        assert [account["name"] for account in listed["account"]] == ["a"], extra


# --- a domain admin against a sibling domain and the root admin ---------------------------------


DOMAIN_ADMIN_ON_SIBLING = [
    ("listAccounts", lambda w: {"domainid": w.d2["id"]}),
    ("listUsers", lambda w: {"domainid": w.d2["id"]}),
    ("updateAccount", lambda w: {"id": w.accounts["c"]["id"], "newname": "renamed"}),
    ("enableAccount", lambda w: {"id": w.accounts["c"]["id"]}),
    ("disableAccount", lambda w: {"id": w.accounts["c"]["id"], "lock": "false"}),
    ("deleteAccount", lambda w: {"id": w.accounts["c"]["id"]}),
    (
        "createAccount",
        lambda w: {
            "username": "planted",
            "password": "p",
            "email": "e@example.org",
            "firstname": "f",
            "lastname": "l",
            "accounttype": "0",
            "domainid": w.d2["id"],
        },
    ),
    (
        "createUser",
        lambda w: {
            "account": "c",
            "domainid": w.d2["id"],
            "username": "planted",
            "password": "p",
            "email": "e@example.org",
            "firstname": "f",
            "lastname": "l",
        },
    ),
    ("updateDomain", lambda w: {"id": w.d2["id"], "name": "taken"}),
    ("deleteDomain", lambda w: {"id": w.d2["id"], "cleanup": "true"}),
    ("getUserKeys", lambda w: {"id": w.user_id("c")}),
    ("registerUserKeys", lambda w: {"id": w.user_id("c")}),
    ("updateUser", lambda w: {"id": w.user_id("c"), "password": "taken"}),
]


@pytest.mark.parametrize(
    ("command", "params"),
    DOMAIN_ADMIN_ON_SIBLING,
    ids=[case[0] for case in DOMAIN_ADMIN_ON_SIBLING],
)
def test_domain_admin_cannot_touch_a_sibling_domain(
    world: World, command: str, params: Any
) -> None:
    assert_refused(world.callers["da"], UNKNOWN, command, **params(world))
    assert_account_intact(world, "c")
    domains = world.admin.call("listDomains", id=world.d2["id"]).json()["listdomainsresponse"]
    assert domains["domain"][0]["name"] == "d2"


def test_domain_admin_does_not_see_sibling_accounts(world: World) -> None:
    caller = world.callers["da"]
    listed = caller.call("listAccounts", listall="true").json()["listaccountsresponse"]
    assert {account["name"] for account in listed["account"]} == {"a", "b", "da", "da2"}
    by_id = caller.call("listAccounts", id=world.accounts["c"]["id"])
    assert by_id.status_code == UNKNOWN
    domains = caller.call("listDomains", listall="true").json()["listdomainsresponse"]
    assert [domain["id"] for domain in domains["domain"]] == [world.d1["id"]]


def _root_admin_user_id(world: World) -> str:
    users = world.admin.call("listUsers", username="admin").json()["listusersresponse"]
    return str(users["user"][0]["id"])


@pytest.mark.parametrize("command", ["getUserKeys", "registerUserKeys"])
def test_domain_admin_cannot_read_or_reset_root_admin_keys(world: World, command: str) -> None:
    assert_refused(world.callers["da"], UNKNOWN, command, id=_root_admin_user_id(world))
    own = world.admin.call("listAccounts", name="admin").json()["listaccountsresponse"]
    assert own["count"] == 1


def test_domain_admin_cannot_read_a_peer_domain_admins_keys(world: World) -> None:
    assert_refused(world.callers["da"], PERMISSION_DENIED, "getUserKeys", id=world.user_id("da2"))
    assert_refused(
        world.callers["da"], PERMISSION_DENIED, "registerUserKeys", id=world.user_id("da2")
    )
    assert_account_intact(world, "da2")


def test_domain_admin_reads_keys_of_a_user_in_its_domain(world: World) -> None:
    answer = world.callers["da"].call("getUserKeys", id=world.user_id("a"))
    assert answer.status_code == 200
    keys = answer.json()["getuserkeysresponse"]["userkeys"]
    assert (keys["apikey"], keys["secretkey"]) == (
        world.callers["a"].key,
        world.callers["a"].secret,
    )


def test_domain_admin_cannot_create_a_root_admin_or_delete_its_own_domain(world: World) -> None:
    caller = world.callers["da"]
    assert_refused(
        caller,
        PERMISSION_DENIED,
        "createAccount",
        username="usurper",
        password="p",
        email="e@example.org",
        firstname="f",
        lastname="l",
        accounttype="1",
    )
    assert_refused(caller, PERMISSION_DENIED, "deleteDomain", id=world.d1["id"], cleanup="true")
    assert_account_intact(world, "a")
    listed = world.admin.call("listAccounts", name="usurper", listall="true").json()
    assert listed == {"listaccountsresponse": {}}


# --- domain scoping compares paths exactly ------------------------------------------------------


def _domain_with_admin(world: World, name: str, account_type: int) -> tuple[dict[str, Any], Caller]:
    """A new ROOT child ``name`` with one account (named after it) and that account's keys."""
    api = CloudStack(endpoint=world.server.url, key=world.admin.key, secret=world.admin.secret)
    domain = api.createDomain(name=name)["domain"]
    account = api.createAccount(
        username=f"{name}-owner",
        password="owner password",
        email="owner@example.org",
        firstname="Owner",
        lastname="Tester",
        accounttype=account_type,
        domainid=domain["id"],
    )["account"]
    pair = api.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return {**domain, "account": account}, Caller(
        world.server.url, pair["apikey"], pair["secretkey"]
    )


def _names(caller: Caller, command: str, key: str, field: str) -> set[str]:
    answer = caller.call(command, listall="true").json()[f"{command.lower()}response"]
    return {item[field] for item in answer.get(key, [])}


def test_like_wildcards_in_a_domain_name_do_not_widen_its_scope(world: World) -> None:
    _, caller = _domain_with_admin(world, "w%", 2)
    _domain_with_admin(world, "wx", 0)
    assert _names(caller, "listAccounts", "account", "name") == {"w%-owner"}
    assert _names(caller, "listUsers", "user", "username") == {"w%-owner"}
    assert _names(caller, "listDomains", "domain", "path") == {"ROOT/w%"}


def _case_twin(world: World, name: str) -> dict[str, Any] | None:
    """``name`` upper-cased beside ``name``; None if the server refuses such twins (as
    CloudStack on MySQL does), which settles the questions below."""
    answer = world.admin.call("createDomain", name=name.upper())
    if answer.status_code == 431:
        return None
    assert answer.status_code == 200, answer.text
    domain = answer.json()["createdomainresponse"]["domain"]
    account = world.admin.call(
        "createAccount",
        username=f"{name}-victim",
        password="victim password",
        email="victim@example.org",
        firstname="Victim",
        lastname="Tester",
        accounttype="0",
        domainid=domain["id"],
    ).json()["createaccountresponse"]["account"]
    return {**domain, "account": account}


def test_domain_admin_does_not_see_a_sibling_differing_only_in_case(world: World) -> None:
    _, caller = _domain_with_admin(world, "twin", 2)
    if _case_twin(world, "twin") is None:
        return
    assert _names(caller, "listAccounts", "account", "name") == {"twin-owner"}
    assert _names(caller, "listUsers", "user", "username") == {"twin-owner"}
    assert _names(caller, "listDomains", "domain", "path") == {"ROOT/twin"}


def test_renaming_a_domain_leaves_its_case_twin_alone(world: World) -> None:
    pair, caller = _domain_with_admin(world, "pair", 2)
    twin = _case_twin(world, "pair")
    if twin is None:
        return
    renamed = world.admin.call("updateDomain", id=pair["id"], name="pairmoved")
    assert renamed.status_code == 200, renamed.text
    listed = world.admin.call("listDomains", id=twin["id"]).json()["listdomainsresponse"]
    assert listed["domain"][0]["path"] == "ROOT/PAIR"
    victim = twin["account"]["user"][0]["id"]
    assert_refused(caller, PERMISSION_DENIED, "getUserKeys", id=victim)


def test_deleting_a_domain_leaves_its_case_twin_alone(world: World) -> None:
    gone, _ = _domain_with_admin(world, "gone", 0)
    twin = _case_twin(world, "gone")
    if twin is None:
        return
    answer = world.admin.call("deleteDomain", id=gone["id"], cleanup="true")
    assert job_of(world.admin, answer)["jobstatus"] == 1
    assert world.admin.call("listDomains", id=twin["id"]).status_code == 200
    kept = world.admin.call("listAccounts", id=twin["account"]["id"]).json()
    assert kept["listaccountsresponse"]["count"] == 1
