"""CloudStack's whole catalogue through the real dispatcher (issue 6, finding 12).

Every key is listed, and settable at global scope with its type checked, on every backend; the
keys clients set at a narrower scope (Ansible's configuration tests, zone set-up scripts) are
set there, and refused at a scope they lack. Settings that answer in listCapabilities and
the offering size limit follow the configuration, without a restart.
"""

from __future__ import annotations

from typing import Any

from cirrostack.config import catalogue, definitions
from cirrostack.db.models import storage
from tests import rows
from tests.cloud import Cloud, content
from tests.conftest import Database


def another_value(key: definitions.ConfigKey[Any]) -> str:
    """A valid text for ``key`` other than its default."""
    if key.choices:
        return next(choice for choice in key.choices if choice != key.default_text)
    if key.kind is bool:
        return "false" if key.default else "true"
    if key.kind is int:
        if key.maximum is not None and key.default + 1 > key.maximum:
            return str(key.default - 1)
        return str(key.default + 1)
    if key.kind is float:
        if key.maximum is not None:
            low = key.minimum if key.minimum is not None else 0.0
            return str((low + key.maximum) / 2)
        return str(key.default + 0.5)
    return "cirrostack-test"


def refused(cloud: Cloud, **named: str) -> str:
    answer = cloud.call(cloud.admin.keys, "updateConfiguration", **named)
    assert answer.status == 431, (named, answer.body)
    return str(content(answer)["errortext"])


def sample(database: Database) -> list[definitions.ConfigKey[Any]]:
    """Every key on SQLite; one per (type, scopes, choices) elsewhere: the row written and read
    back is the same for every key of a kind, and the suite's time is shared."""
    if database.backend == "sqlite":
        return list(catalogue.REGISTRY)
    kinds: dict[tuple[str, tuple[str, ...], bool], definitions.ConfigKey[Any]] = {}
    for key in catalogue.REGISTRY:
        kinds.setdefault((key.type_name, key.scope_names(), bool(key.choices)), key)
    return list(kinds.values())


def test_every_catalogue_key_is_listed_and_settable(database: Database) -> None:
    cloud = Cloud(database.sessions)
    listed = cloud.ok(cloud.admin.keys, "listConfigurations", page="1", pagesize="500")
    names = {item["name"]: item for item in listed["configuration"]}
    assert set(names) == {key.name for key in catalogue.REGISTRY}
    for key in catalogue.REGISTRY:
        item = names[key.name]
        assert (item["type"], item["isdynamic"]) == (key.type_name, key.is_dynamic), key.name
        assert item["description"] == key.listed_description
    for key in sample(database):
        text = another_value(key)
        answer = cloud.ok(cloud.admin.keys, "updateConfiguration", name=key.name, value=text)
        assert answer["configuration"]["value"] == text, key.name
        again = cloud.ok(cloud.admin.keys, "listConfigurations", name=key.name)
        assert {item["name"]: item.get("value") for item in again["configuration"]}[
            key.name
        ] == text


def test_every_catalogue_key_refuses_a_value_of_another_type(sqlite_cloud: Cloud) -> None:
    # The type check is the key's, not the backend's: SQLite is enough.
    for key in catalogue.REGISTRY:
        if key.kind is not str or key.choices:
            text = refused(sqlite_cloud, name=key.name, value="not-a-value")
            assert key.name in text and key.expected in text


def test_keys_clients_set_at_a_scope_are_set_there_and_refused_elsewhere(cloud: Cloud) -> None:
    with cloud.sessions() as session:
        zone, _pod, cluster = rows.zone_pod_cluster(session)
        session.commit()
        zone_id, cluster_id = zone.uuid, cluster.uuid
    account_id = cloud.admin.account_id
    set_at = [
        ("use.external.dns", "zoneid", zone_id, "true"),
        ("enable.dynamic.scale.vm", "zoneid", zone_id, "true"),
        ("allow.public.user.templates", "accountid", account_id, "false"),
        ("cpu.overprovisioning.factor", "clusterid", cluster_id, "2.0"),
    ]
    for name, param, ident, text in set_at:
        answer = cloud.ok(
            cloud.admin.keys, "updateConfiguration", name=name, value=text, **{param: ident}
        )
        assert (answer["configuration"]["value"], answer["configuration"]["id"]) == (text, ident)
        again = cloud.ok(cloud.admin.keys, "listConfigurations", name=name, **{param: ident})
        assert [item["value"] for item in again["configuration"] if item["name"] == name] == [text]
    assert "cannot be set for a cluster" in refused(
        cloud, name="use.external.dns", value="true", clusterid=cluster_id
    )
    assert "cannot be set for a zone" in refused(
        cloud, name="allow.public.user.templates", value="true", zoneid=zone_id
    )
    # A stored-only key of global scope only is refused at a zone too.
    assert "cannot be set for a zone" in refused(
        cloud, name="hypervisor.list", value="KVM", zoneid=zone_id
    )


def capabilities(cloud: Cloud) -> dict[str, Any]:
    answer: dict[str, Any] = cloud.ok(cloud.admin.keys, "listCapabilities")["capability"]
    return answer


def test_list_capabilities_follows_the_configuration(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud
    before = capabilities(cloud)
    assert (before["customdiskofferingminsize"], before["customdiskofferingmaxsize"]) == (1, 1024)
    assert (before["allowuserexpungerecovervm"], before["allowuserviewdestroyedvm"]) == (
        False,
        False,
    )
    assert before["userpublictemplateenabled"] is True
    assert (before["allowusercreateprojects"], before["projectinviterequired"]) == (True, False)
    for name, text in (
        ("custom.diskoffering.size.min", "5"),
        ("custom.diskoffering.size.max", "4096"),
        ("allow.user.view.destroyed.vm", "true"),
        ("allow.user.create.projects", "false"),
        ("project.invite.required", "true"),
    ):
        cloud.ok(cloud.admin.keys, "updateConfiguration", name=name, value=text)
    cloud.ok(
        cloud.admin.keys,
        "updateConfiguration",
        name="allow.user.expunge.recover.vm",
        value="true",
        accountid=cloud.admin.account_id,
    )
    after = capabilities(cloud)
    assert (after["customdiskofferingminsize"], after["customdiskofferingmaxsize"]) == (5, 4096)
    assert (after["allowuserexpungerecovervm"], after["allowuserviewdestroyedvm"]) == (True, True)
    assert (after["allowusercreateprojects"], after["projectinviterequired"]) == (False, True)
    cloud.ok(
        cloud.admin.keys,
        "updateConfiguration",
        name="allow.public.user.templates",
        value="false",
        accountid=cloud.admin.account_id,
    )
    assert capabilities(cloud)["userpublictemplateenabled"] is False


def test_the_disk_size_limit_is_storage_max_volume_size(sqlite_cloud: Cloud) -> None:
    cloud = sqlite_cloud

    def create(size: int) -> Any:
        return cloud.call(
            cloud.admin.keys,
            "createDiskOffering",
            name=f"disk-{size}",
            displaytext="disk",
            disksize=str(size),
        )

    # CloudStack checks disk offerings against storage.max.volume.size (2000 GB by default).
    assert create(2000).status == 200
    assert create(2001).status == 431
    cloud.ok(cloud.admin.keys, "updateConfiguration", name="storage.max.volume.size", value="100")
    refusal = create(101)
    assert refusal.status == 431
    assert "100 GB" in content(refusal)["errortext"]
    assert create(100).status == 200


#: The ``globalConfig`` of CloudStack's own simulator zone set-up (setup/dev/advanced.cfg),
#: which Marvin's deployDataCenter sends as updateConfiguration calls before building zones.
ZONE_SETUP = (
    ("network.gc.wait", "60"),
    ("storage.cleanup.interval", "60"),
    ("vm.op.wait.interval", "5"),
    ("default.page.size", "500"),
    ("network.gc.interval", "60"),
    ("instance.name", "QA"),
    ("workers", "10"),
    ("account.cleanup.interval", "60"),
    ("guest.domain.suffix", "sandbox.simulator"),
    ("expunge.delay", "60"),
    ("vm.allocation.algorithm", "random"),
    ("expunge.interval", "60"),
    ("expunge.workers", "3"),
    ("check.pod.cidrs", "true"),
    ("secstorage.allowed.internal.sites", "10.147.28.0/24"),
    ("direct.agent.load.size", "1000"),
    ("enable.dynamic.scale.vm", "true"),
    ("ping.interval", "10"),
    ("ping.timeout", "1.5"),
    ("outofbandmanagement.sync.interval", "2000"),
)


def test_cloudstacks_zone_set_up_settings_replay(cloud: Cloud) -> None:
    for name, value in ZONE_SETUP:
        answer = cloud.ok(cloud.admin.keys, "updateConfiguration", name=name, value=value)
        assert answer["configuration"]["value"] == value, name
    listed = cloud.ok(cloud.admin.keys, "listConfigurations", page="1", pagesize="500")
    values = {item["name"]: item.get("value") for item in listed["configuration"]}
    assert {name: values[name] for name, _ in ZONE_SETUP} == dict(ZONE_SETUP)


def test_the_stored_only_keys_are_found_by_their_note(sqlite_cloud: Cloud) -> None:
    # What docs/configuration-and-events.md tells operators to run.
    found = sqlite_cloud.ok(
        sqlite_cloud.admin.keys,
        "listConfigurations",
        keyword="does not act on it",
        page="1",
        pagesize="500",
    )
    names = {item["name"] for item in found["configuration"]}
    assert names == {key.name for key in catalogue.REGISTRY if not key.acted_on}


def scope_objects(cloud: Cloud) -> dict[str, tuple[str, str]]:
    """One object per scope below global: scope name → (API parameter, uuid)."""
    with cloud.sessions() as session:
        zone, _pod, cluster = rows.zone_pod_cluster(session)
        pool = rows.nfs_pool(session, zone, cluster)
        store = storage.ImageStore(
            name="store", protocol="nfs", image_provider_name="NFS", data_center_id=zone.id
        )
        session.add(store)
        session.commit()
        found = {
            "zone": ("zoneid", zone.uuid),
            "cluster": ("clusterid", cluster.uuid),
            "storagepool": ("storageid", pool.uuid),
            "imagestore": ("imagestoreuuid", store.uuid),
        }
    found["account"] = ("accountid", cloud.admin.account_id)
    found["domain"] = ("domainid", cloud.admin.domain_id)
    return found


def test_every_catalogue_key_is_settable_at_its_scopes_and_refused_at_others(
    sqlite_cloud: Cloud,
) -> None:
    cloud = sqlite_cloud
    objects = scope_objects(cloud)
    for key in catalogue.REGISTRY:
        text = another_value(key)
        lacking = [scope for scope in objects if not key.supports(definitions.Scope(scope))]
        for scope in [*key.scope_names()[1:], *lacking[:1]]:
            param, ident = objects[scope]
            named = {"name": key.name, "value": text, param: ident}
            if scope in lacking:
                assert f"cannot be set for a {scope}" in refused(cloud, **named)
            else:
                answer = cloud.ok(cloud.admin.keys, "updateConfiguration", **named)
                assert answer["configuration"]["value"] == text, (key.name, scope)
