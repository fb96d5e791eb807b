"""One contract, every transport (issue 7, item 4): each protocol exchange the server relies on
(startup, ready, ping, a long command with progress, cancel, the inactivity timeout, failure
answers, a refused version, a bad secret) behaves the same in-process and over HTTP to a real
``cirrostack agent`` process.

Each transport is a fixture giving a ``Rig``: the transport, the endpoint of one agent, and how
to see what that agent holds (its copy destinations on disk or in memory).
"""

from __future__ import annotations

import signal
import ssl
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cirrostack.agent.backends import simulator
from cirrostack.protocol import answers, codec, commands, compute, messages
from cirrostack.protocol import storage as storage_protocol
from cirrostack.transport import base, endpoint, http, inprocess
from cirrostack.transport import errors as transport_errors
from tests import agent_processes

GUID = "g-contract"
TO = endpoint.Endpoint(1, GUID, "sim-contract")
#: Inactivity timeout of the rigs: short, the simulator's copy steps (10 ms) are far shorter.
INACTIVITY = 1.0


@dataclass
class Rig:
    transport: base.Transport
    to: endpoint.Endpoint
    #: Bytes stored under a copy destination, None when there is none.
    stored: Callable[[str], int | None]
    #: The same agent reached without (or with a wrong) secret; None where there is no secret.
    intruder: base.Transport | None = None


def _in_process(tmp_path: Path) -> Iterator[Rig]:
    fleet = simulator.Fleet(tmp_path)
    fleet.boot(simulator.Spec(GUID, TO.name, "10.0.0.5"))

    def stored(name: str) -> int | None:
        return _size(tmp_path / GUID / name)

    yield Rig(inprocess.InProcessTransport(fleet, lambda: INACTIVITY), TO, stored)


def _size(path: Path) -> int | None:
    """The file's size, None when there is none (it may go while we look)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


class _Remotes:
    def __init__(self, remote: http.Remote) -> None:
        self.remote = remote

    def remote_for(self, guid: str) -> http.Remote | None:
        return self.remote if guid == GUID else None


@pytest.fixture(scope="module")
def agent_process(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, str]]]:
    """A real ``cirrostack agent`` process on a free port, and what its agent.json says."""
    data_dir = tmp_path_factory.mktemp("agent") / "dir"
    process = agent_processes.start(data_dir)
    try:
        yield data_dir, agent_processes.identity(data_dir)
    finally:
        agent_processes.stop(process)


def _http(agent_process: tuple[Path, dict[str, str]]) -> Iterator[Rig]:
    data_dir, written = agent_process

    def stored(name: str) -> int | None:
        return _size(data_dir / "work" / name)

    def over(secret: str) -> http.HttpTransport:
        return http.HttpTransport(_Remotes(http.Remote(written["url"], secret)), lambda: INACTIVITY)

    yield Rig(over(written["secret"]), TO, stored, intruder=over("not-the-secret"))


@pytest.fixture(params=["in-process", "http"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    if request.param == "in-process":
        yield from _in_process(tmp_path)
    else:
        yield from _http(request.getfixturevalue("agent_process"))


def _startup() -> commands.StartupRoutingCommand:
    return commands.StartupRoutingCommand(
        host_id=TO.host_id, host_uuid="u-1", guid=GUID, name=TO.name, private_ip_address="10.0.0.5"
    )


def test_startup_ready_and_ping(rig: Rig) -> None:
    report = base.exchange(rig.transport, rig.to, _startup(), answers.StartupRoutingAnswer)
    assert report.guid == GUID and report.hypervisor_type == "Simulator" and report.cpus == 4
    ready = commands.ReadyCommand(host_id=1, host_uuid="u-1", host_name=TO.name)
    base.exchange(rig.transport, rig.to, ready, answers.ReadyAnswer)
    ping = base.exchange(rig.transport, rig.to, commands.PingCommand(host_id=1), answers.PingAnswer)
    assert ping.guid == GUID


def test_a_long_command_streams_progress_before_its_answer(rig: Rig) -> None:
    base.exchange(rig.transport, rig.to, _startup(), answers.StartupRoutingAnswer)
    seen: list[messages.Progress] = []
    copy = commands.SimulatedCopyCommand(source="tpl", destination="vol-1", size=1000)
    answer = base.exchange(rig.transport, rig.to, copy, answers.SimulatedCopyAnswer, seen.append)
    assert answer == answers.SimulatedCopyAnswer(destination="vol-1", size=1000)
    assert [p.done for p in seen] == list(range(100, 1001, 100))
    assert {(p.command_id, p.total, p.phase) for p in seen} == {(copy.id, 1000, "copying")}
    assert rig.stored("vol-1") == 1000


def test_a_cancelled_command_stops_and_removes_what_it_started(rig: Rig) -> None:
    base.exchange(rig.transport, rig.to, _startup(), answers.StartupRoutingAnswer)
    copy = commands.SimulatedCopyCommand(
        source=simulator.STALL_SOURCE, destination="vol-2", size=1000
    )
    started = threading.Event()
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            base.exchange(
                rig.transport, rig.to, copy, answers.SimulatedCopyAnswer, lambda _: started.set()
            )
        except BaseException as exc:
            outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    assert started.wait(5)
    assert rig.stored("vol-2") == 100  # the first step is written
    assert rig.transport.cancel(rig.to, copy.id) is True
    sender.join(5)
    assert len(outcome) == 1 and isinstance(outcome[0], transport_errors.CommandCancelled)
    assert rig.stored("vol-2") is None
    assert rig.transport.cancel(rig.to, copy.id) is False  # it is gone


def test_silence_past_the_inactivity_timeout_cancels_and_fails(rig: Rig) -> None:
    base.exchange(rig.transport, rig.to, _startup(), answers.StartupRoutingAnswer)
    copy = commands.SimulatedCopyCommand(
        source=simulator.STALL_SOURCE, destination="vol-3", size=1000
    )
    began = time.monotonic()
    with pytest.raises(transport_errors.AgentTimedOut, match="no progress on SimulatedCopyCommand"):
        base.exchange(rig.transport, rig.to, copy, answers.SimulatedCopyAnswer)
    assert time.monotonic() - began >= INACTIVITY
    deadline = time.monotonic() + 5
    while rig.stored("vol-3") is not None and time.monotonic() < deadline:
        time.sleep(0.02)  # the cancel the timeout sent reaches the stalled step
    assert rig.stored("vol-3") is None


def test_progress_keeps_a_command_alive_past_the_inactivity_timeout(rig: Rig) -> None:
    # 10 steps of 0.3 s: 3 s in all, three times the inactivity timeout, never 1 s silent.
    slow = commands.SimulatedCopyCommand(source="tpl", destination="vol-4", size=10, wait=0)
    knobs = simulator.Knobs(copy_step_ms=300)
    startup = commands.StartupRoutingCommand(
        host_id=1, host_uuid="u-1", guid=GUID, name=TO.name, settings=knobs.to_details()
    )
    base.exchange(rig.transport, rig.to, startup, answers.StartupRoutingAnswer)
    answer = base.exchange(rig.transport, rig.to, slow, answers.SimulatedCopyAnswer)
    assert answer.size == 10


def test_failure_answers_are_typed_agent_failures(rig: Rig) -> None:
    base.exchange(rig.transport, rig.to, _startup(), answers.StartupRoutingAnswer)
    failing = commands.SimulatedCopyCommand(
        source=simulator.FAIL_SOURCE, destination="vol-5", size=100
    )
    with pytest.raises(transport_errors.AgentFailed, match="simulated copy failure of vol-5"):
        base.exchange(rig.transport, rig.to, failing, answers.SimulatedCopyAnswer)
    assert rig.stored("vol-5") is None
    bad_name = commands.SimulatedCopyCommand(source="tpl", destination="../etc", size=1)
    with pytest.raises(transport_errors.AgentFailed, match="cannot copy to"):
        base.exchange(rig.transport, rig.to, bad_name, answers.SimulatedCopyAnswer)
    with pytest.raises(transport_errors.BadAnswer, match="not ReadyAnswer"):
        base.exchange(rig.transport, rig.to, commands.PingCommand(host_id=1), answers.ReadyAnswer)


def _vm(name: str, disks: tuple[storage_protocol.DiskTO, ...] = ()) -> compute.VirtualMachineTO:
    return compute.VirtualMachineTO(
        id=7,
        name=name,
        uuid=f"uuid-{name}",
        type="User",
        cpus=1,
        speed=500,
        min_speed=250,
        max_speed=500,
        min_ram=256 * 1024**2,
        max_ram=512 * 1024**2,
        host_name="web-1",
        os="Ubuntu 22.04",
        vnc_password="vnc",
        disks=disks,
        nics=(compute.NicTO(uuid="n-1", device_id=0, mac="02:00:00:00:00:01", default_nic=True),),
    )


def _ping(rig: Rig) -> dict[str, str]:
    ping = commands.PingCommand(host_id=1)
    return base.exchange(rig.transport, rig.to, ping, answers.PingAnswer).vm_states


def test_start_reboot_stop_and_the_power_report_in_pings(rig: Rig) -> None:
    base.exchange(rig.transport, rig.to, _startup(), answers.StartupRoutingAnswer)
    vm = _vm("i-2-41-VM")
    started = base.exchange(rig.transport, rig.to, compute.StartCommand(vm=vm), compute.StartAnswer)
    assert started.vm == vm
    assert _ping(rig)["i-2-41-VM"] == "PowerOn"
    reboot = compute.RebootCommand(vm_name="i-2-41-VM")
    assert base.exchange(rig.transport, rig.to, reboot, compute.RebootAnswer).vm_name == vm.name
    stop = compute.StopCommand(vm_name="i-2-41-VM", forced=True)
    assert base.exchange(rig.transport, rig.to, stop, compute.StopAnswer).vm_name == vm.name
    assert "i-2-41-VM" not in _ping(rig)
    with pytest.raises(transport_errors.AgentFailed, match="not running"):
        base.exchange(rig.transport, rig.to, reboot, compute.RebootAnswer)


def test_a_start_with_a_missing_disk_is_refused(rig: Rig) -> None:
    base.exchange(rig.transport, rig.to, _startup(), answers.StartupRoutingAnswer)
    pool = storage_protocol.PrimaryDataStoreTO(
        uuid="p-1",
        id=1,
        name="p1",
        pool_type=storage_protocol.StoragePoolType.SHARED_MOUNT_POINT,
        host="localhost",
        path="/contract-pool",
    )
    volume = storage_protocol.VolumeObjectTO(
        uuid="v-1",
        id=1,
        name="ROOT-41",
        volume_type=storage_protocol.VolumeType.ROOT,
        data_store=pool,
        size=1024,
        path="v-1",
    )
    disk = storage_protocol.DiskTO(data=volume, disk_seq=0, type="ROOT")
    start = compute.StartCommand(vm=_vm("i-2-42-VM", (disk,)))
    with pytest.raises(transport_errors.AgentFailed, match="Failed to connect physical disks"):
        base.exchange(rig.transport, rig.to, start, compute.StartAnswer)
    assert "i-2-42-VM" not in _ping(rig)


def test_running_vms_survive_an_agent_restart(tmp_path: Path) -> None:
    fleet = simulator.Fleet(tmp_path)
    fleet.boot(simulator.Spec(GUID, TO.name, "10.0.0.5"))
    transport = inprocess.InProcessTransport(fleet, lambda: INACTIVITY)
    base.exchange(transport, TO, compute.StartCommand(vm=_vm("i-2-43-VM")), compute.StartAnswer)
    again = simulator.Fleet(tmp_path)
    again.boot(simulator.Spec(GUID, TO.name, "10.0.0.5"))
    ping = commands.PingCommand(host_id=1)
    after = base.exchange(
        inprocess.InProcessTransport(again, lambda: INACTIVITY), TO, ping, answers.PingAnswer
    )
    assert after.vm_states == {"i-2-43-VM": "PowerOn"}


def test_a_version_the_agent_does_not_speak_is_a_protocol_error(rig: Rig) -> None:
    with pytest.raises(transport_errors.ProtocolMismatch, match="version 2 is not spoken"):
        base.exchange(
            rig.transport, rig.to, commands.PingCommand(host_id=1, version=2), answers.PingAnswer
        )


def test_without_the_secret_nothing_is_answered(rig: Rig) -> None:
    if rig.intruder is None:
        pytest.skip("the in-process transport has no secret: the agent lives in the server")
    with pytest.raises(transport_errors.Unauthorized):
        rig.intruder.send(rig.to, commands.PingCommand(host_id=1))
    with pytest.raises(transport_errors.Unauthorized):
        rig.intruder.cancel(rig.to, "any")


def test_the_agent_answers_nothing_without_its_secret(
    agent_process: tuple[Path, dict[str, str]],
) -> None:
    _data_dir, written = agent_process
    body = codec.encode(commands.PingCommand(host_id=1))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": written["secret"]}):
        for method, path in (("POST", "/v1/command"), ("GET", "/"), ("POST", "/elsewhere")):
            answer = httpx.request(method, written["url"] + path, content=body, headers=headers)
            assert (answer.status_code, answer.content) == (401, b"")
    good = {"Authorization": f"Bearer {written['secret']}"}
    assert httpx.get(written["url"] + "/", headers=good).status_code == 405
    assert (
        httpx.post(written["url"] + "/v1/command", content=b"{}", headers=good).status_code == 400
    )


def test_agent_json_is_private_and_its_secret_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "agent"
    process = agent_processes.start(data_dir)
    first = agent_processes.identity(data_dir)
    agent_processes.stop(process)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "agent.json").stat().st_mode) == 0o600
    assert len(first["secret"]) >= 43 and first["url"].startswith("http://127.0.0.1:")
    process = agent_processes.start(data_dir)
    try:
        assert agent_processes.identity(data_dir)["secret"] == first["secret"]
    finally:
        agent_processes.stop(process)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cirrostack agent")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "agent.crt", directory / "agent.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_over_tls_the_agent_is_reached_only_with_its_certificate_trusted(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    data_dir = tmp_path / "agent"
    process = agent_processes.start(data_dir, "127.0.0.1:0", "--cert", str(cert), "--key", str(key))
    try:
        written = agent_processes.identity(data_dir)
        assert written["url"].startswith("https://127.0.0.1:")
        remote = _Remotes(http.Remote(written["url"], written["secret"]))
        trusting = http.HttpTransport(
            remote, lambda: INACTIVITY, verify=ssl.create_default_context(cafile=cert)
        )
        ping = base.exchange(trusting, TO, commands.PingCommand(host_id=1), answers.PingAnswer)
        assert ping.guid == "unassigned"  # no startup yet: the agent has not adopted a host
        stranger = http.HttpTransport(remote, lambda: INACTIVITY)  # the system's CAs only
        with pytest.raises(transport_errors.AgentUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            stranger.send(TO, commands.PingCommand(host_id=1))
    finally:
        agent_processes.stop(process)


def test_a_frozen_agent_process_times_out_on_inactivity(tmp_path: Path) -> None:
    """SIGSTOP mid-copy: the connection stays open, no line comes; the wait ends after the
    inactivity timeout (not at once, not never), and the agent, thawed, cleans up."""
    data_dir = tmp_path / "agent"
    process = agent_processes.start(data_dir)
    try:
        written = agent_processes.identity(data_dir)
        transport = http.HttpTransport(
            _Remotes(http.Remote(written["url"], written["secret"])), lambda: INACTIVITY
        )
        slow = simulator.Knobs(copy_step_ms=200).to_details()
        startup = commands.StartupRoutingCommand(
            host_id=1, host_uuid="u-1", guid=GUID, name=TO.name, settings=slow
        )
        base.exchange(transport, TO, startup, answers.StartupRoutingAnswer)
        copy = commands.SimulatedCopyCommand(source="tpl", destination="vol-9", size=1000)
        frozen = threading.Event()

        def freeze(_: messages.Progress) -> None:
            if not frozen.is_set():
                frozen.set()
                process.send_signal(signal.SIGSTOP)

        began = time.monotonic()
        with pytest.raises(
            transport_errors.AgentTimedOut, match="no progress on SimulatedCopyCommand"
        ):
            base.exchange(transport, TO, copy, answers.SimulatedCopyAnswer, freeze)
        assert time.monotonic() - began >= INACTIVITY
        process.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 10
        while _size(data_dir / "work" / "vol-9") is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        # Thawed, the agent finds the server's cancel (or the server gone): the partial copy
        # is removed.
        assert _size(data_dir / "work" / "vol-9") is None
        assert base.exchange(transport, TO, commands.PingCommand(host_id=1), answers.PingAnswer)
    finally:
        process.send_signal(signal.SIGCONT)
        agent_processes.stop(process)


def test_an_agent_process_reports_its_running_vms_after_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "agent"

    def transport() -> http.HttpTransport:
        written = agent_processes.identity(data_dir)
        return http.HttpTransport(
            _Remotes(http.Remote(written["url"], written["secret"])), lambda: INACTIVITY
        )

    process = agent_processes.start(data_dir)
    try:
        first = transport()
        base.exchange(first, TO, _startup(), answers.StartupRoutingAnswer)
        start = compute.StartCommand(vm=_vm("i-2-44-VM"))
        base.exchange(first, TO, start, compute.StartAnswer)
    finally:
        agent_processes.stop(process)
    process = agent_processes.start(data_dir)
    try:
        again = transport()
        base.exchange(again, TO, _startup(), answers.StartupRoutingAnswer)
        ping = base.exchange(again, TO, commands.PingCommand(host_id=1), answers.PingAnswer)
        assert ping.vm_states == {"i-2-44-VM": "PowerOn"}
    finally:
        agent_processes.stop(process)
