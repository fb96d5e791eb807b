"""The ``cs`` client (library and CLI), unchanged, against a real server over HTTP.

``cs`` signs with ``signatureVersion=3`` and an ``expires``, insists on the JSON content type
and on exactly one top-level key, polls ``queryAsyncJobResult`` for async commands and pages
with ``page``/``pagesize`` for ``fetch_list``. Every test here goes through that code: if the
server's envelopes, signatures or job results drift from CloudStack's, these calls fail the way
they would for an operator.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server, client_env, start_server, stop_server

pytestmark = pytest.mark.acceptance

#: A password with characters ``cs`` and libcloud quote differently from Java.
PASSWORD = "s3cret pass~[]"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module: the tests create differently named objects."""
    running = start_server(tmp_path_factory.mktemp("cs") / "var")
    yield running
    stop_server(running)


@pytest.fixture
def admin(cloud: Server) -> CloudStack:
    return client(cloud, cloud.api_key, cloud.secret_key)


def client(server: Server, key: str, secret: str, **options: Any) -> CloudStack:
    """A ``cs`` client that waits for async jobs, as Ansible and the CLI use it."""
    return CloudStack(endpoint=server.url, key=key, secret=secret, fetch_result=True, **options)


def new_account(api: CloudStack, name: str, domain_id: str, account_type: int) -> dict[str, Any]:
    answer = api.createAccount(
        username=name,
        password=PASSWORD,
        email=f"{name}@example.org",
        firstname=name.title(),
        lastname="Tester",
        domainid=domain_id,
        accounttype=account_type,
    )
    return dict(answer["account"])


def keys_for(api: CloudStack, user_id: str) -> tuple[str, str]:
    pair = api.registerUserKeys(id=user_id)["userkeys"]
    return pair["apikey"], pair["secretkey"]


def http_status(error: CloudStackApiException) -> int:
    return int(error.response.status_code)


def test_admin_lists_its_own_account(admin: CloudStack) -> None:
    answer = admin.listAccounts()
    assert answer["count"] == 1
    [account] = answer["account"]
    assert (account["name"], account["accounttype"], account["domain"]) == ("admin", 1, "ROOT")
    assert account["user"][0]["username"] == "admin"
    assert "secretkey" not in account["user"][0]


def test_post_method_works_for_reads_and_writes(cloud: Server) -> None:
    api = client(cloud, cloud.api_key, cloud.secret_key, method="post")
    domain = api.createDomain(name="posted")["domain"]
    assert domain["path"] == "ROOT/posted"
    account = new_account(api, "poster", domain["id"], 0)
    listed = api.listAccounts(domainid=domain["id"])
    assert [item["id"] for item in listed["account"]] == [account["id"]]


def test_domain_accounts_and_users_lifecycle(admin: CloudStack, cloud: Server) -> None:
    domain = admin.createDomain(name="lifecycle")["domain"]
    assert (domain["name"], domain["path"], domain["level"]) == ("lifecycle", "ROOT/lifecycle", 1)
    plain = new_account(admin, "plainuser", domain["id"], 0)
    domain_admin = new_account(admin, "domadmin", domain["id"], 2)
    assert (plain["accounttype"], plain["roletype"]) == (0, "User")
    assert (domain_admin["accounttype"], domain_admin["roletype"]) == (2, "DomainAdmin")
    assert plain["domainid"] == domain["id"]
    assert plain["state"] == "enabled"

    second = admin.createUser(
        account="plainuser",
        domainid=domain["id"],
        username="second",
        password=PASSWORD,
        email="second@example.org",
        firstname="Second",
        lastname="User",
    )["user"]
    assert (second["account"], second["accountid"]) == ("plainuser", plain["id"])
    users = admin.listUsers(account="plainuser", domainid=domain["id"])
    assert {user["username"] for user in users["user"]} == {"plainuser", "second"}

    key, secret = keys_for(admin, second["id"])
    assert admin.getUserKeys(id=second["id"])["userkeys"] == {"apikey": key, "secretkey": secret}

    as_user = client(cloud, key, secret)
    own = as_user.listAccounts(listall=True)
    assert [account["id"] for account in own["account"]] == [plain["id"]]
    assert own["count"] == 1
    assert as_user.getUserKeys(id=second["id"])["userkeys"]["secretkey"] == secret

    as_domain_admin = client(cloud, *keys_for(admin, domain_admin["user"][0]["id"]))
    seen = as_domain_admin.listAccounts(listall=True)
    assert {account["name"] for account in seen["account"]} == {"plainuser", "domadmin"}


def test_disable_enable_delete_account_through_polled_jobs(
    admin: CloudStack, cloud: Server
) -> None:
    domain = admin.createDomain(name="states")["domain"]
    account = new_account(admin, "flipper", domain["id"], 0)
    as_user = client(cloud, *keys_for(admin, account["user"][0]["id"]))
    assert as_user.listAccounts()["count"] == 1

    disabled = admin.disableAccount(id=account["id"], lock=False)
    assert disabled["account"]["state"] == "disabled"
    with pytest.raises(CloudStackApiException) as refused:
        as_user.listAccounts()
    assert http_status(refused.value) == 401
    assert refused.value.error["errorcode"] == 401

    enabled = admin.enableAccount(id=account["id"])
    assert enabled["account"]["state"] == "enabled"
    assert as_user.listAccounts()["account"][0]["state"] == "enabled"

    assert admin.deleteAccount(id=account["id"]) == {"success": True}
    with pytest.raises(CloudStackApiException) as gone:
        as_user.listAccounts()
    assert http_status(gone.value) == 401
    assert admin.listAccounts(domainid=domain["id"]) == {}


def test_registering_new_keys_retires_the_old_pair_at_once(
    admin: CloudStack, cloud: Server
) -> None:
    domain = admin.createDomain(name="rotation")["domain"]
    account = new_account(admin, "rotator", domain["id"], 0)
    user_id = account["user"][0]["id"]
    old = client(cloud, *keys_for(admin, user_id))
    pair = old.registerUserKeys(id=user_id)["userkeys"]
    new_key, new_secret = pair["apikey"], pair["secretkey"]
    with pytest.raises(CloudStackApiException) as retired:
        old.listAccounts()
    assert http_status(retired.value) == 401
    assert client(cloud, new_key, new_secret).listAccounts()["count"] == 1
    listed = admin.listUsers(id=user_id)["user"]
    assert [user.get("apikey") for user in listed] == [new_key]
    assert all("secretkey" not in user for user in listed)


def test_deleted_user_keys_stop_working(admin: CloudStack, cloud: Server) -> None:
    domain = admin.createDomain(name="userdelete")["domain"]
    new_account(admin, "keeper", domain["id"], 0)
    extra = admin.createUser(
        account="keeper",
        domainid=domain["id"],
        username="leaver",
        password=PASSWORD,
        email="leaver@example.org",
        firstname="Leaving",
        lastname="User",
    )["user"]
    as_leaver = client(cloud, *keys_for(admin, extra["id"]))
    assert as_leaver.listAccounts()["count"] == 1
    assert admin.deleteUser(id=extra["id"]) == {"success": True}
    with pytest.raises(CloudStackApiException) as gone:
        as_leaver.listAccounts()
    assert http_status(gone.value) == 401
    remaining = admin.listUsers(account="keeper", domainid=domain["id"])["user"]
    assert [user["username"] for user in remaining] == ["keeper"]


def test_async_command_without_polling_returns_a_job_id(admin: CloudStack) -> None:
    domain = admin.createDomain(name="unpolled")["domain"]
    answer = admin.deleteDomain(id=domain["id"], fetch_result=False)
    assert set(answer) == {"jobid"}
    deadline = time.monotonic() + 30
    job = admin.queryAsyncJobResult(jobid=answer["jobid"], fetch_result=False)
    while job["jobstatus"] == 0 and time.monotonic() < deadline:
        assert "jobresult" not in job  # a pending job has no result yet
        time.sleep(0.1)
        job = admin.queryAsyncJobResult(jobid=answer["jobid"], fetch_result=False)
    assert (job["jobstatus"], job["jobresultcode"], job["jobresulttype"]) == (1, 0, "object")
    assert job["jobresult"] == {"success": True}
    assert (job["jobid"], job["jobinstancetype"]) == (answer["jobid"], "Domain")


def test_failed_job_raises_with_the_error_in_the_job_result(admin: CloudStack) -> None:
    # The default admin account is within reach (the job is queued) but may not be deleted:
    # the job fails, and cs raises with the job's error.
    [account] = admin.listAccounts(name="admin")["account"]
    with pytest.raises(CloudStackApiException) as failed:
        admin.deleteAccount(id=account["id"])
    assert failed.value.args[0] == "Job failure"
    assert failed.value.error["errorcode"] == 431
    assert "default account" in failed.value.error["errortext"]
    # An id that names nothing is refused before any job, as CloudStack does.
    with pytest.raises(CloudStackApiException) as unknown:
        admin.disableAccount(id="7c1c3d5e-0000-4000-8000-000000000000", lock=True)
    assert unknown.value.response.status_code == 431


def test_fetch_list_pages_through_every_account(admin: CloudStack) -> None:
    domain = admin.createDomain(name="paging")["domain"]
    created = {new_account(admin, f"pager{n}", domain["id"], 0)["id"] for n in range(7)}

    fetched = admin.listAccounts(domainid=domain["id"], fetch_list=True, pagesize=2)
    assert len(fetched) == 7
    assert {account["id"] for account in fetched} == created

    pages = [admin.listAccounts(domainid=domain["id"], page=n, pagesize=2) for n in (1, 2, 3, 4)]
    assert [page["count"] for page in pages] == [7, 7, 7, 7]
    assert [len(page["account"]) for page in pages] == [2, 2, 2, 1]
    assert {account["id"] for page in pages for account in page["account"]} == created
    assert admin.listAccounts(domainid=domain["id"], page=5, pagesize=2) == {"count": 7}


def _api_shape_problems(api: dict[str, Any]) -> list[str]:
    """What cmk's and cloudmonkey's cache builders would trip over in one listApis entry."""
    problems = []
    expected = {"name": str, "description": str, "isasync": bool, "params": list, "response": list}
    for field, kind in expected.items():
        if not isinstance(api.get(field), kind):
            problems.append(f"{api.get('name')}.{field} is {api.get(field)!r}")
    param_types = {
        "name": str,
        "type": str,
        "description": str,
        "required": bool,
        "length": int,
        "related": str,
    }
    for param in api.get("params") or []:
        for field, kind in param_types.items():
            value = param.get(field)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                problems.append(f"{api.get('name')}({param.get('name')}).{field} is {value!r}")
    for item in api.get("response") or []:
        if not all(isinstance(item.get(field), str) for field in ("name", "type", "description")):
            problems.append(f"{api.get('name')} response item {item!r}")
    return problems


def test_listapis_shape_feeds_cmk_and_cloudmonkey_caches(admin: CloudStack) -> None:
    answer = admin.listApis()
    assert answer["count"] == len(answer["api"])
    problems = [problem for api in answer["api"] for problem in _api_shape_problems(api)]
    assert problems == []
    by_name = {api["name"]: api for api in answer["api"]}
    asynchronous = {name for name, api in by_name.items() if api["isasync"]}
    assert {"deleteAccount", "disableAccount", "deleteDomain"} <= asynchronous
    assert not {"createAccount", "listAccounts", "enableAccount", "login"} & asynchronous
    required = {param["name"] for param in by_name["createAccount"]["params"] if param["required"]}
    assert required == {"username", "password", "email", "firstname", "lastname"}
    one = admin.listApis(name="createDomain")
    assert one["count"] == 1
    assert one["api"][0] == by_name["createDomain"]


def test_listapis_for_a_user_lists_only_what_it_may_call(admin: CloudStack, cloud: Server) -> None:
    domain = admin.createDomain(name="apiview")["domain"]
    account = new_account(admin, "apiviewer", domain["id"], 0)
    as_user = client(cloud, *keys_for(admin, account["user"][0]["id"]))
    names = {api["name"] for api in as_user.listApis()["api"]}
    assert {"listAccounts", "getUserKeys", "queryAsyncJobResult"} <= names
    assert not {"createAccount", "deleteAccount", "createDomain", "deleteDomain"} & names


# --- the CLI ---------------------------------------------------------------------------------


def cs_cli() -> str:
    found = shutil.which("cs", path=str(Path(sys.executable).parent))
    assert found, "the cs CLI is installed with the test extras"
    return found


def run_cli(
    server: Server, *arguments: str, keys: tuple[str, str] | None = None
) -> tuple[int, Any]:
    """Run ``cs`` with the server's endpoint; returns its exit status and its JSON output."""
    env = client_env(server)
    if keys is not None:
        env.update(CLOUDSTACK_KEY=keys[0], CLOUDSTACK_SECRET=keys[1])
    result = subprocess.run(
        [cs_cli(), *arguments], env=env, capture_output=True, text=True, timeout=60
    )
    output = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, output


def test_cli_lists_accounts_and_apis(cloud: Server) -> None:
    status, accounts = run_cli(cloud, "listAccounts", "name=admin")
    assert status == 0
    assert [account["name"] for account in accounts["account"]] == ["admin"]
    status, apis = run_cli(cloud, "--post", "listApis", "name=listAccounts")
    assert status == 0
    assert apis["count"] == 1
    assert apis["api"][0]["name"] == "listAccounts"


def test_cli_account_lifecycle_with_async_jobs(cloud: Server) -> None:
    status, domain = run_cli(cloud, "createDomain", "name=clidomain")
    assert status == 0
    domain_id = domain["domain"]["id"]
    status, created = run_cli(
        cloud,
        "createAccount",
        "username=cliuser",
        f"password={PASSWORD}",
        "email=cli@example.org",
        "firstname=Cli",
        "lastname=User",
        "accounttype=0",
        f"domainid={domain_id}",
    )
    assert status == 0
    account = created["account"]
    status, keys = run_cli(cloud, "registerUserKeys", f"id={account['user'][0]['id']}")
    assert status == 0
    user_keys = (keys["userkeys"]["apikey"], keys["userkeys"]["secretkey"])

    status, own = run_cli(cloud, "listAccounts", "listall=true", keys=user_keys)
    assert (status, [item["name"] for item in own["account"]]) == (0, ["cliuser"])

    status, disabled = run_cli(cloud, "disableAccount", f"id={account['id']}", "lock=false")
    assert (status, disabled["account"]["state"]) == (0, "disabled")
    status, refused = run_cli(cloud, "listAccounts", keys=user_keys)
    assert status == 1
    assert refused["errorresponse"]["errorcode"] == 401

    status, enabled = run_cli(cloud, "enableAccount", f"id={account['id']}")
    assert (status, enabled["account"]["state"]) == (0, "enabled")
    assert run_cli(cloud, "listAccounts", keys=user_keys)[0] == 0

    assert run_cli(cloud, "deleteAccount", f"id={account['id']}") == (0, {"success": True})
    status, refused = run_cli(cloud, "listAccounts", keys=user_keys)
    assert (status, refused["errorresponse"]["errorcode"]) == (1, 401)


def test_cli_reports_a_parameter_error(cloud: Server) -> None:
    status, answer = run_cli(cloud, "createDomain")
    assert status == 1
    error = answer["createdomainresponse"]
    assert error["errorcode"] == 431
    assert "missing parameter name" in error["errortext"]
