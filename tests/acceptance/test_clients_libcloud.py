"""apache-libcloud's CloudStack driver, unchanged, against a real server over HTTP.

libcloud differs from ``cs`` exactly where servers tend to break: it lower-cases parameter
names before sorting them for the signature, leaves ``[``, ``]`` and ``~`` unencoded, sends
camelCase names (``domainId``) and Python booleans (``True``), never sends ``expires``, and
requires the top-level key to be ``<command lower>response``. Its entry points used here are
the driver's own: ``connection.request`` (raw), ``_sync_request`` and ``_async_request`` (which
polls ``queryAsyncJobResult`` and returns ``jobresult``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from libcloud.common.types import ProviderError
from libcloud.compute.base import NodeDriver
from libcloud.compute.providers import get_driver
from libcloud.compute.types import InvalidCredsError, Provider

from tests.acceptance.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("libcloud") / "var")
    yield running
    stop_server(running)


def driver_for(server: Server, key: str | None = None, secret: str | None = None) -> Any:
    """The driver as documented: full URL; ``secure=False`` because the URL is plain HTTP
    (libcloud keeps its HTTPS default even for an ``http://`` URL)."""
    cls = get_driver(Provider.CLOUDSTACK)
    return cls(key or server.api_key, secret or server.secret_key, url=server.url, secure=False)


@pytest.fixture
def driver(cloud: Server) -> Any:
    return driver_for(cloud)


def new_account(driver: Any, name: str, domain_id: str) -> dict[str, Any]:
    """createAccount with libcloud's habits: camelCase names, a password it leaves unquoted."""
    answer = driver._sync_request(
        "createAccount",
        params={
            "userName": name,
            "passWord": "pa ss~[0]*",
            "email": f"{name}@example.org",
            "firstName": name.title(),
            "lastName": "Cloud",
            "accountType": 0,
            "domainId": domain_id,
        },
    )
    return dict(answer["account"])


def test_driver_is_the_cloudstack_driver(driver: Any) -> None:
    assert isinstance(driver, NodeDriver)
    assert driver.type == Provider.CLOUDSTACK


def test_raw_request_answers_under_command_response(driver: Any) -> None:
    response = driver.connection.request(
        driver.path, params={"command": "listAccounts", "name": "admin"}
    )
    assert response.status == 200
    assert list(response.object) == ["listaccountsresponse"]
    [account] = response.object["listaccountsresponse"]["account"]
    assert account["name"] == "admin"


def test_host_path_port_construction_reaches_the_same_api(cloud: Server) -> None:
    parsed = urlparse(cloud.url)
    cls = get_driver(Provider.CLOUDSTACK)
    driver = cls(
        cloud.api_key,
        cloud.secret_key,
        host=parsed.hostname,
        path=parsed.path,
        port=parsed.port,
        secure=False,
    )
    assert driver._sync_request("listAccounts")["count"] == 1


def test_libcloud_signature_with_unencoded_brackets_and_tilde_verifies(driver: Any) -> None:
    name = "lib cloud [a] ~b *c"
    domain = driver._sync_request("createDomain", params={"name": name})["domain"]
    assert domain["name"] == name
    account = new_account(driver, "libuser", domain["id"])
    assert (account["name"], account["domainid"]) == ("libuser", domain["id"])


def test_lower_cased_key_order_verifies_where_it_differs_from_java(driver: Any) -> None:
    # Java sorts "isRecursive" before "isdefault" ('R' < 'd'); libcloud signs them the other
    # way round, after lower-casing. Real CloudStack would refuse this; clients must not care.
    answer = driver._sync_request(
        "listAccounts", params={"isRecursive": "True", "isdefault": "true", "name": "admin"}
    )
    assert answer["count"] == 1


def test_python_booleans_and_camel_case_names_are_understood(driver: Any) -> None:
    domain = driver._sync_request("createDomain", params={"name": "libscope"})["domain"]
    account = new_account(driver, "scoped", domain["id"])
    own_domain_only = driver._sync_request("listAccounts", params={"listAll": "False"})
    assert account["id"] not in {item["id"] for item in own_domain_only["account"]}
    everything = driver._sync_request("listAccounts", params={"listAll": True})
    assert account["id"] in {item["id"] for item in everything["account"]}
    by_domain = driver._sync_request("listAccounts", params={"domainId": domain["id"]})
    assert [item["id"] for item in by_domain["account"]] == [account["id"]]


def test_list_apis(driver: Any) -> None:
    answer = driver._sync_request("listApis")
    names = {api["name"] for api in answer["api"]}
    assert {"listAccounts", "deleteAccount", "queryAsyncJobResult"} <= names
    assert answer["count"] == len(answer["api"])


def test_async_requests_poll_to_the_job_result(driver: Any) -> None:
    domain = driver._sync_request("createDomain", params={"name": "libasync"})["domain"]
    account = new_account(driver, "asyncuser", domain["id"])
    disabled = driver._async_request("disableAccount", params={"id": account["id"], "lock": False})
    assert disabled["account"]["state"] == "disabled"
    assert driver._async_request("deleteAccount", params={"id": account["id"]}) == {"success": True}
    assert driver._sync_request("listAccounts", params={"domainId": domain["id"]}) == {}


def test_failed_job_raises_its_error_text(driver: Any) -> None:
    # The default admin account is within reach, so the job is queued, and then refused.
    [admin] = driver._sync_request("listAccounts", params={"name": "admin"})["account"]
    with pytest.raises(Exception, match="default account") as failed:
        driver._async_request("deleteAccount", params={"id": admin["id"]})
    assert type(failed.value) is Exception  # libcloud raises a bare Exception(errortext)
    # An id that names nothing is refused before any job (a ProviderError with the 431).
    with pytest.raises(ProviderError) as unknown:
        driver._async_request("deleteAccount", params={"id": admin["id"][:-4] + "0000"})
    assert unknown.value.http_code == 431


def test_wrong_secret_raises_invalid_creds(cloud: Server) -> None:
    with pytest.raises(InvalidCredsError):
        driver_for(cloud, secret="not-the-secret")._sync_request("listAccounts")


def test_unknown_key_raises_invalid_creds(cloud: Server) -> None:
    with pytest.raises(InvalidCredsError):
        driver_for(cloud, key="no-such-key")._sync_request("listAccounts")


def test_parameter_error_raises_provider_error_with_text_and_code(driver: Any) -> None:
    with pytest.raises(ProviderError) as refused:
        driver._sync_request("createDomain")
    assert refused.value.http_code == 431
    assert "missing parameter name" in refused.value.value
