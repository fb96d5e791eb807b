"""The ``networkoffering`` response object (CloudStack 4.18 field names).

libcloud reads ``name, displaytext, guestiptype, id, serviceofferingid, forvpc`` as keys (a
missing one is a KeyError), so those are always present, ``serviceofferingid`` too (empty:
no router offering). ``service`` lists each service with its providers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cirrostack.api import responses
from cirrostack.api.registry import Field, ObjectSpec
from cirrostack.api.views import networks as network_views
from cirrostack.db.models import network as models
from cirrostack.network import offerings

_S, _B, _I, _D, _L = "string", "boolean", "integer", "date", "list"

NETWORK_OFFERING = ObjectSpec(
    "networkoffering",
    (
        Field("id", _S, "the id of the network offering"),
        Field("name", _S, "the name of the network offering"),
        Field("displaytext", _S, "an alternate display text of the network offering."),
        Field("guestiptype", _S, "guest type of the network offering, can be Shared or Isolated"),
        Field("traffictype", _S, "the traffic type for the network offering"),
        Field("state", _S, "state of the network offering. Can be Disabled/Enabled/Inactive"),
        Field("isdefault", _B, "true if network offering is default, false otherwise"),
        Field("availability", _S, "availability of the network offering"),
        Field("specifyvlan", _B, "true if network offering supports vlans, false otherwise"),
        Field("specifyipranges", _B, "true if network offering supports specifying ip ranges"),
        Field("conservemode", _B, "true if network offering is ip conserve mode enabled"),
        Field("forvpc", _B, "true if network offering can be used by VPC networks only"),
        Field("serviceofferingid", _S, "the ID of the service offering used by virtual router"),
        Field("networkrate", _I, "data transfer rate in megabits per second allowed."),
        Field("egressdefaultpolicy", _B, "true if guest network default egress policy is allow"),
        Field("ispersistent", _B, "true if network offering supports persistent networks"),
        Field("maxconnections", _I, "maximum number of concurrents connections to be handled"),
        Field("supportsstrechedl2subnet", _B, "true if network offering supports stretched L2"),
        Field("supportspublicaccess", _B, "true if network offering supports public access"),
        Field("internetprotocol", _S, "the internet protocol of the network offering"),
        Field("tags", _S, "the tags for the network offering"),
        Field("service", _L, "the list of supported services"),
        Field("created", _D, "the date this network offering was created"),
    ),
)


def network_offering_items(
    session: Session, found: Sequence[models.NetworkOffering]
) -> list[dict[str, Any]]:
    """Offerings with their service maps, in one more query."""
    services = offerings.services_of_each(session, [offering.id for offering in found])
    return [_item(offering, services.get(offering.id, [])) for offering in found]


def _item(
    offering: models.NetworkOffering, services: Sequence[tuple[str, str | None]]
) -> dict[str, Any]:
    item = responses.compact(
        {
            "id": offering.uuid,
            "name": offering.name,
            "displaytext": offering.display_text,
            "guestiptype": offering.guest_type,
            "traffictype": offering.traffic_type,
            "state": offering.state,
            "isdefault": offering.default,
            "availability": offering.availability,
            "specifyvlan": offering.specify_vlan,
            "specifyipranges": offering.specify_ip_ranges,
            "conservemode": offering.conserve_mode,
            "forvpc": offering.for_vpc,
            "networkrate": offering.nw_rate,
            "egressdefaultpolicy": offering.egress_default_policy,
            "ispersistent": offering.is_persistent,
            "maxconnections": offering.concurrent_connections,
            "supportsstrechedl2subnet": offering.supports_streched_l2,
            "supportspublicaccess": offering.supports_public_access,
            "internetprotocol": "IPv4",
            "tags": offering.tags,
            "service": network_views.service_items(services),
            "created": responses.date(offering.created),
        }
    )
    item.setdefault("serviceofferingid", None)
    return item
