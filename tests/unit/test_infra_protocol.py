"""The agent protocol's codec and the in-process transport: what crosses, what is refused."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from cirrostack.agent.backends import simulator
from cirrostack.protocol import answers, codec, commands, compute, errors, messages, storage
from cirrostack.transport import base, endpoint, inprocess
from cirrostack.transport import errors as transport_errors

_POOL = storage.PrimaryDataStoreTO(
    uuid="p", id=1, name="p1", pool_type=storage.StoragePoolType.FILESYSTEM, host="h", path="/p"
)
_ROOT = storage.VolumeObjectTO(
    uuid="v", id=3, name="ROOT-10", volume_type=storage.VolumeType.ROOT, data_store=_POOL, size=9
)
_VM = compute.VirtualMachineTO(
    id=10,
    name="i-2-10-VM",
    uuid="u-10",
    type="User",
    cpus=2,
    speed=1000,
    min_speed=500,
    max_speed=1000,
    min_ram=2**29,
    max_ram=2**30,
    host_name="web",
    os="Ubuntu",
    vnc_password="x",
    disks=(storage.DiskTO(data=_ROOT, disk_seq=0, type="ROOT"),),
    nics=(compute.NicTO(uuid="n", device_id=0, mac="02:00:00:00:00:01", broadcast_uri="vlan://5"),),
    params={"rootdisksize": "9"},
)

EXAMPLES: list[messages.Message] = [
    commands.StartupRoutingCommand(host_id=7, host_uuid="u-7", wait=30),
    commands.ReadyCommand(host_id=7, host_uuid="u-7", host_name="sim-1"),
    commands.PingCommand(host_id=7),
    commands.MaintainCommand(),
    commands.StartupRoutingCommand(
        host_id=7,
        host_uuid="u",
        guid="g",
        name="h",
        private_ip_address="10.0.0.5",
        settings={"simulator.cpunumber": "8"},
    ),
    commands.SimulatedCopyCommand(source="a", destination="b", size=10),
    commands.CancelCommand(command_id="c-1"),
    answers.StartupRoutingAnswer(
        guid="g",
        name="sim-1",
        hypervisor_type="Simulator",
        hypervisor_version="1.0",
        agent_version="0.1.0",
        cpus=4,
        cpu_sockets=1,
        speed=2000,
        memory=2**33,
        dom0_memory=0,
        local_storage=2**40,
        private_ip_address="10.0.0.5",
        private_netmask="255.255.255.0",
    ),
    answers.ReadyAnswer(),
    answers.PingAnswer(guid="g"),
    answers.MaintainAnswer(will_migrate=True, details="two VMs"),
    answers.UnsupportedAnswer(details="no"),
    answers.SimulatedCopyAnswer(destination="b", size=10),
    answers.CancelAnswer(command_id="c-1", found=True),
    answers.CancelledAnswer(details="cancelled"),
    answers.VersionRefused(details="no", spoken=(1, 2)),
    messages.Answer(result=False, details="failed"),
    messages.Progress(command_id="c-1", done=5, total=10, phase="copying"),
    answers.PingAnswer(guid="g", vm_states={"i-2-10-VM": "PowerOn"}),
    compute.StartCommand(vm=_VM, host_guid="g"),
    compute.StartAnswer(vm=_VM),
    compute.StopCommand(vm_name="i-2-10-VM", forced=True),
    compute.StopAnswer(vm_name="i-2-10-VM", platform="pc"),
    compute.RebootCommand(vm_name="i-2-10-VM"),
    compute.RebootAnswer(vm_name="i-2-10-VM"),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips_through_json(message: messages.Message) -> None:
    text = codec.encode(message)
    envelope = json.loads(text)
    assert envelope["type"] == type(message).__name__
    assert codec.decode(text) == message


def test_every_declared_message_type_is_known_to_the_codec() -> None:
    declared = {kind.__name__ for kind in (*commands.ALL, *answers.ALL)}
    storage_kinds = {kind.__name__ for kind in (*storage.COMMANDS, *storage.ANSWERS)}
    declared |= {kind.__name__ for kind in (*compute.COMMANDS, *compute.ANSWERS)}
    assert declared | storage_kinds | {"Answer", "Progress"} == set(codec.KNOWN)
    assert {type(message).__name__ for message in EXAMPLES} == set(codec.KNOWN) - storage_kinds


def _ping(**body: Any) -> str:
    return json.dumps({"type": "PingCommand", "body": body})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected"),
        ('{"type": "PingCommand"}', "expected"),
        ('{"type": "MigrateCommand", "body": {}}', "unknown message type"),
        ('{"type": 5, "body": {}}', "unknown message type"),
        ('{"type": "Message", "body": {}}', "unknown message type"),
        (_ping(), "missing field host_id"),
        (_ping(host_id=1, extra=2), "unknown fields"),
        (_ping(host_id="1"), "expected int"),
        (_ping(host_id=True), "expected int"),
        (_ping(host_id=1.5), "expected int"),
        (_ping(host_id=1, wait=None), "expected int"),
        (json.dumps({"type": "PingCommand", "body": []}), "expected an object"),
        (json.dumps({"type": "PingAnswer", "body": {"guid": None}}), "expected str"),
        (json.dumps({"type": "ReadyAnswer", "body": {"result": "yes"}}), "expected bool"),
        ("[" * 100_000, "not JSON"),
    ],
)
def test_malformed_text_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(errors.MalformedMessage, match=message):
        codec.decode(text)


def test_optional_fields_take_null_and_their_defaults() -> None:
    report = dataclasses.replace(EXAMPLES[7], private_netmask=None)
    assert isinstance(report, answers.StartupRoutingAnswer)
    assert codec.decode(codec.encode(report)) == report
    assert codec.decode('{"type": "ReadyAnswer", "body": {}}') == answers.ReadyAnswer()


def test_encode_refuses_what_is_not_a_protocol_message() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Stranger(messages.Command):
        pass

    with pytest.raises(errors.MalformedMessage):
        codec.encode(Stranger())


# --- the in-process transport ----------------------------------------------------------------

TO = endpoint.Endpoint(host_id=1, guid="g-1", name="sim-1")


@pytest.fixture
def fleet() -> simulator.Fleet:
    fleet = simulator.Fleet()
    fleet.boot(simulator.Spec("g-1", "sim-1", "10.0.0.5"))
    return fleet


def test_a_command_reaches_the_agent_and_its_answer_comes_back(fleet: simulator.Fleet) -> None:
    transport = inprocess.InProcessTransport(fleet)
    answer = base.exchange(transport, TO, commands.PingCommand(host_id=1), answers.PingAnswer)
    assert answer == answers.PingAnswer(guid="g-1")


def test_an_absent_or_silenced_agent_is_unavailable(fleet: simulator.Fleet) -> None:
    transport = inprocess.InProcessTransport(fleet)
    with pytest.raises(transport_errors.AgentUnavailable, match="does not answer"):
        transport.send(endpoint.Endpoint(2, "g-2", "sim-2"), commands.PingCommand(host_id=2))
    fleet.silence("g-1")
    with pytest.raises(transport_errors.AgentUnavailable):
        transport.send(TO, commands.PingCommand(host_id=1))


def test_exchange_refuses_a_failed_or_unexpected_answer(fleet: simulator.Fleet) -> None:
    transport = inprocess.InProcessTransport(fleet)
    with pytest.raises(transport_errors.BadAnswer, match="with PingAnswer, not ReadyAnswer"):
        base.exchange(transport, TO, commands.PingCommand(host_id=1), answers.ReadyAnswer)
    host = fleet.get("g-1")
    assert host is not None
    host.fail("PingCommand")
    with pytest.raises(transport_errors.AgentFailed, match="simulated failure of PingCommand"):
        base.exchange(transport, TO, commands.PingCommand(host_id=1), answers.PingAnswer)


class _Broken:
    def __init__(self, reply: object) -> None:
        self.reply = reply

    def handle(self, command: messages.Command, report: object = None) -> Any:
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


class _Directory:
    def __init__(self, agent: _Broken) -> None:
        self.agent = agent

    def agent_for(self, guid: str) -> _Broken:
        return self.agent


@pytest.mark.parametrize(
    "reply",
    [RuntimeError("boom"), "not a message", commands.PingCommand(host_id=1)],
    ids=["raises", "garbage", "a command"],
)
def test_a_misbehaving_agent_is_a_bad_answer(reply: object) -> None:
    transport = inprocess.InProcessTransport(_Directory(_Broken(reply)))
    with pytest.raises(transport_errors.BadAnswer):
        transport.send(TO, commands.PingCommand(host_id=1))
