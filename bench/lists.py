"""List cost: listAccounts and listHosts beside a minimal endpoint over the same rows.

    .venv/bin/python bench/lists.py [--accounts 25000] [--hosts 10000] [--backend sqlite]

For each list: the statements one page of 500 runs, its time through the real dispatcher
(signed request, authentication, role rules, the serializers, the JSON text), and the time of
a minimal endpoint serving the same JSON from the same rows with hand-written SQL in the same
process (one joined query for the page, one IN-batch per related kind). Then every host page
by page. The ratio is cirrostack's time over the minimal one (goal: within 2x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import world as bench_world

PAGE = 500
REPEAT = 7


def _median_ms(run: Callable[[], object]) -> float:
    run()  # warm caches (statement compilation, the OS page cache)
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _cirrostack(world: bench_world.World, command: str, page: int) -> Callable[[], str]:
    def run() -> str:
        request = world.signed(command, page=str(page), pagesize=str(PAGE), listall="true")
        answer = world.dispatcher.handle(request)
        assert answer.status == 200, answer.body
        return json.dumps(answer.body)

    return run


def _statements(world: bench_world.World, run: Callable[[], object]) -> int:
    seen: list[object] = []

    def count(*_: Any) -> None:
        seen.append(None)

    sa.event.listen(world.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        sa.event.remove(world.engine, "before_cursor_execute", count)
    return len(seen)


_ACCOUNTS = sa.text(
    'SELECT a.id, a.uuid, a.account_name, a.type, a.state, a."default", a.network_domain,'
    " a.created, d.uuid, d.name, d.path, r.uuid, r.name, r.role_type"
    " FROM account a JOIN domain d ON d.id = a.domain_id JOIN roles r ON r.id = a.role_id"
    " WHERE a.removed IS NULL AND a.id != 1 ORDER BY a.id LIMIT :limit OFFSET :offset"
)
_USERS = sa.text(
    "SELECT account_id, uuid, username, firstname, lastname, email, state, created, timezone,"
    ' api_key, "default", source FROM "user" WHERE removed IS NULL'
    " AND account_id IN :ids ORDER BY id"
).bindparams(sa.bindparam("ids", expanding=True))


def _minimal_accounts(world: bench_world.World, page: int) -> Callable[[], str]:
    def run() -> str:
        with world.engine.connect() as connection:
            rows = connection.execute(_ACCOUNTS, {"limit": PAGE, "offset": (page - 1) * PAGE})
            found = rows.all()
            total = connection.execute(
                sa.text("SELECT count(*) FROM account WHERE removed IS NULL AND id != 1")
            ).scalar_one()
            users: dict[int, list[dict[str, Any]]] = {}
            for row in connection.execute(_USERS, {"ids": [row[0] for row in found]}):
                users.setdefault(row[0], []).append(_user(row))
        items = [_account(row, users.get(row[0], [])) for row in found]
        return json.dumps({"listaccountsresponse": {"count": total, "account": items}})

    return run


def _user(row: Any) -> dict[str, Any]:
    return {
        "id": row[1],
        "username": row[2],
        "firstname": row[3],
        "lastname": row[4],
        "email": row[5],
        "state": row[6],
        "created": str(row[7]),
        "apikey": row[9],
        "isdefault": bool(row[10]),
        "usersource": row[11].lower(),
    }


def _account(row: Any, users: list[dict[str, Any]]) -> dict[str, Any]:
    for user in users:
        user.update(account=row[2], accountid=row[1], domain=row[9], domainid=row[8])
    return {
        "id": row[1],
        "name": row[2],
        "accounttype": row[3],
        "roleid": row[11],
        "rolename": row[12],
        "roletype": row[13],
        "domain": row[9],
        "domainid": row[8],
        "domainpath": "ROOT" + row[10].rstrip("/"),
        "state": row[4],
        "isdefault": bool(row[5]),
        "created": str(row[7]),
        "user": users,
    }


_HOSTS = sa.text(
    "SELECT h.id, h.uuid, h.name, h.type, h.status, h.resource_state, h.private_ip_address,"
    " h.hypervisor_type, h.version, h.cpus, h.cpu_sockets, h.speed, h.ram, h.created,"
    " z.uuid, z.name, p.uuid, p.name, c.uuid, c.name, c.cluster_type"
    " FROM host h JOIN data_center z ON z.id = h.data_center_id"
    " LEFT JOIN host_pod_ref p ON p.id = h.pod_id LEFT JOIN cluster c ON c.id = h.cluster_id"
    " WHERE h.removed IS NULL ORDER BY h.id LIMIT :limit OFFSET :offset"
)


def _by_host(connection: sa.Connection, sql: str, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
    for row in connection.execute(statement, {"ids": ids}):
        found.setdefault(row[0], []).append(row[1:])
    return found


def _minimal_hosts(world: bench_world.World, page: int) -> Callable[[], str]:
    def run() -> str:
        with world.engine.connect() as connection:
            found = connection.execute(_HOSTS, {"limit": PAGE, "offset": (page - 1) * PAGE}).all()
            total = connection.execute(
                sa.text("SELECT count(*) FROM host WHERE removed IS NULL")
            ).scalar_one()
            ids = [row[0] for row in found]
            tags = _by_host(
                connection,
                "SELECT host_id, tag FROM host_tags WHERE host_id IN :ids ORDER BY id",
                ids,
            )
            used = _by_host(
                connection,
                "SELECT host_id, capacity_type, used_capacity, reserved_capacity"
                " FROM op_host_capacity WHERE host_id IN :ids AND capacity_type IN (0, 1, 90)",
                ids,
            )
            shown = _by_host(
                connection,
                "SELECT d.host_id, g.uuid, g.name FROM host_details d JOIN guest_os_category g"
                " ON g.id = CAST(d.value AS INTEGER) WHERE d.name = 'guest.os.category.id'"
                " AND d.host_id IN :ids",
                ids,
            )
            ratio = connection.execute(
                sa.text("SELECT value FROM cluster_details WHERE name = 'cpuOvercommitRatio'")
            ).scalar()
        items = [_host(row, tags, used, shown, float(ratio or 1)) for row in found]
        return json.dumps({"listhostsresponse": {"count": total, "host": items}})

    return run


def _host(
    row: Any,
    tags: dict[int, list[Any]],
    used: dict[int, list[Any]],
    shown: dict[int, list[Any]],
    ratio: float,
) -> dict[str, Any]:
    figures = {kind: (amount, reserved) for kind, amount, reserved in used.get(row[0], [])}
    offered = row[9] * row[11] * ratio
    cpu = sum(figures.get(1, (0, 0)))
    category = (shown.get(row[0]) or [(None, None)])[0]
    return {
        "id": row[1],
        "name": row[2],
        "type": row[3],
        "state": row[4],
        "resourcestate": row[5],
        "ipaddress": row[6],
        "hypervisor": row[7],
        "version": row[8],
        "cpunumber": row[9],
        "cpusockets": row[10],
        "cpuspeed": row[11],
        "memorytotal": row[12],
        "created": str(row[13]),
        "zoneid": row[14],
        "zonename": row[15],
        "podid": row[16],
        "podname": row[17],
        "clusterid": row[18],
        "clustername": row[19],
        "clustertype": row[20],
        "hosttags": ",".join(tag for (tag,) in tags.get(row[0], [])),
        "cpuallocated": f"{cpu / offered * 100 if offered else 0:.2f}%",
        "cpuwithoverprovisioning": f"{offered:.2f}",
        "memoryallocated": sum(figures.get(0, (0, 0))),
        "oscategoryid": category[0],
        "oscategoryname": category[1],
        "events": "AgentDisconnected; HostDown; ManagementServerDown; Ping; PingTimeout",
    }


def _every_page(run_page: Callable[[int], Callable[[], str]], total: int) -> float:
    start = time.perf_counter()
    for page in range(1, (total + PAGE - 1) // PAGE + 1):
        run_page(page)()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    arguments = parser.parse_args()
    with bench_world.database(arguments.backend) as url:
        world = bench_world.open_world(url)
        started = time.perf_counter()
        bench_world.seed_accounts(world, arguments.accounts)
        bench_world.seed_hosts(world, arguments.hosts)
        print(
            f"backend {arguments.backend}: {arguments.accounts} accounts, {arguments.hosts} hosts"
            f" seeded in {time.perf_counter() - started:.1f} s; pages of {PAGE}"
        )
        page = max(1, arguments.hosts // PAGE // 2)
        for command, minimal in (
            ("listAccounts", _minimal_accounts),
            ("listHosts", _minimal_hosts),
        ):
            ours = _cirrostack(world, command, page)
            statements = _statements(world, ours)
            ours_ms, minimal_ms = _median_ms(ours), _median_ms(minimal(world, page))
            print(
                f"{command:13} page {page}: {statements} statements, {ours_ms:7.1f} ms;"
                f" minimal {minimal_ms:6.1f} ms; ratio {ours_ms / minimal_ms:4.2f}x"
            )
        ours_all = _every_page(lambda page: _cirrostack(world, "listHosts", page), arguments.hosts)
        minimal_all = _every_page(lambda page: _minimal_hosts(world, page), arguments.hosts)
        print(
            f"all {arguments.hosts} hosts page by page: {ours_all:.2f} s; minimal"
            f" {minimal_all:.2f} s; ratio {ours_all / minimal_all:4.2f}x"
        )
        world.engine.dispose()


if __name__ == "__main__":
    main()
