"""Image stores and template registration with ``cs`` against a real server process.

What a user of ``cs`` sees today: the store listed without its secret, a template registered
from an allowed internal site answered as CloudStack does (isready false, "Download in
progress"), a metadata-service URL refused with a 431, and deleteTemplate then
deleteImageStore. (The download itself is not wired yet: docs/templates.md.)
"""

from __future__ import annotations

import pytest
from cs import CloudStack, CloudStackApiException

from tests.acceptance.conftest import Server, simulator_cluster

pytestmark = pytest.mark.acceptance


def test_register_list_delete_with_cs(server: Server) -> None:
    api = CloudStack(
        endpoint=server.url, key=server.api_key, secret=server.secret_key, fetch_result=True
    )
    zone, _pod, _cluster = simulator_cluster(api)
    store = api.addImageStore(provider="NFS", name="sec", url="nfs://10.0.0.9/sec", zoneid=zone)
    secret = "do-not-leak-this-secret"
    api.addImageStoreS3(accesskey="AK", secretkey=secret, endpoint="127.0.0.1:9", bucket="b")
    listed = api.listImageStores(fetch_list=True)
    assert {s["providername"] for s in listed} == {"NFS", "S3"} and secret not in str(listed)
    api.updateConfiguration(name="secstorage.allowed.internal.sites", value="127.0.0.0/8")
    os_type = api.listOsTypes(fetch_list=True)[0]["id"]
    fields = {"zoneid": zone, "format": "QCOW2", "hypervisor": "Simulator", "ostypeid": os_type}
    with pytest.raises(CloudStackApiException) as refused:
        api.registerTemplate(name="meta", url="http://169.254.169.254/x.qcow2", **fields)
    assert refused.value.error["errorcode"] == 431
    registered = api.registerTemplate(name="tiny", url="http://127.0.0.1:1/tiny.qcow2", **fields)
    template = registered["template"][0]
    assert (template["isready"], template["status"]) == (False, "Download in progress")
    seen = api.listTemplates(templatefilter="self", fetch_list=True)
    assert [(t["id"], t["zoneid"]) for t in seen] == [(template["id"], zone)]
    api.deleteTemplate(id=template["id"])
    assert api.listTemplates(templatefilter="all", fetch_list=True) == []
    api.deleteImageStore(id=store["imagestore"]["id"])
