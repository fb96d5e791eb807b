"""The demo cloud's guest networking (every backend): a physical network with Guest traffic
and a Domain-wide shared network that a new user sees and is given by default."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from cirrostack import demo, demo_network
from cirrostack.db.models import accounts as account_models
from cirrostack.db.models import infrastructure
from cirrostack.infrastructure import agents
from cirrostack.network import nics
from tests.cloud import Cloud


def test_demo_zone_has_a_shared_network_for_everyone(cloud: Cloud, tmp_path: Path) -> None:
    with cloud.sessions() as session:
        demo.ensure(session, agents.Agents.in_process(workdir=tmp_path))
        session.commit()
    admin = cloud.admin.keys
    [physical] = cloud.ok(admin, "listPhysicalNetworks")["physicalnetwork"]
    assert physical["name"] == demo_network.PHYSICAL_NETWORK and physical["state"] == "Enabled"
    traffic = cloud.ok(admin, "listTrafficTypes", physicalnetworkid=physical["id"])
    assert {t["traffictype"] for t in traffic["traffictype"]} == {"Guest", "Management"}
    user = cloud.member("alice", cloud.domain("D"))
    [network] = cloud.ok(user.keys, "listNetworks")["network"]
    assert network["name"] == demo_network.NETWORK and network["type"] == "Shared"
    assert network["acltype"] == "Domain" and network["service"] == []
    assert network["networkofferingname"] == "QuickCloudNoServices"
    assert network["gateway"] == "10.1.1.1" and network["cidr"] == "10.1.1.0/24"
    with cloud.sessions() as session:
        zone = session.scalars(
            sa.select(infrastructure.DataCenter).where(infrastructure.DataCenter.name == demo.ZONE)
        ).one()
        account = session.scalars(
            sa.select(account_models.Account).where(account_models.Account.uuid == user.account_id)
        ).one()
        chosen = nics.default_network(session, zone.id, account.id)
        assert chosen is not None and chosen.uuid == network["id"]
