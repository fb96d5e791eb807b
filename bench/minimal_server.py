"""The minimal endpoint of bench/calls.py: listZones' JSON from the same rows, nothing else.

    .venv/bin/python bench/minimal_server.py DATABASE_URL PORT

A Starlette route under uvicorn, like ``cirrostack serve``: the same worker-thread hop, one
SELECT of the zones per request on a pooled connection, the same JSON. No authentication,
no role rules, no transaction management: the floor a real server is measured against.
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cirrostack.db import engine as db_engine

_ZONES = sa.text(
    "SELECT uuid, name, networktype, allocation_state, zone_token, dns1, internal_dns1,"
    " guest_network_cidr FROM data_center WHERE removed IS NULL ORDER BY id"
)


def main() -> None:
    engine = db_engine.make_engine(sys.argv[1])

    def zones() -> bytes:
        with engine.connect() as connection:
            items = [
                {
                    "id": row[0],
                    "name": row[1],
                    "networktype": row[2],
                    "allocationstate": row[3],
                    "zonetoken": row[4],
                    "dns1": row[5],
                    "internaldns1": row[6],
                    "guestcidraddress": row[7],
                    "dhcpprovider": "VirtualRouter",
                    "securitygroupsenabled": False,
                    "localstorageenabled": False,
                    "tags": [],
                }
                for row in connection.execute(_ZONES)
            ]
        body = {"listzonesresponse": {"count": len(items), "zone": items}}
        return json.dumps(body).encode()

    async def api(_: Request) -> Response:
        return Response(await run_in_threadpool(zones), media_type="application/json")

    app = Starlette(routes=[Route("/client/api", api, methods=["GET"])])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")


if __name__ == "__main__":
    main()
