"""The wire beyond plain JSON (issue 7, item 2): command ids and versions, enums, tuples,
datetimes and nested transfer objects, and the typed outcomes of an exchange."""

from __future__ import annotations

import datetime
import enum
import json
from dataclasses import dataclass, field

import pytest

from cirrostack.agent.backends import simulator
from cirrostack.protocol import answers, codec, commands, errors, messages
from cirrostack.transport import base, endpoint, inprocess
from cirrostack.transport import errors as transport_errors


class Format(enum.Enum):
    QCOW2 = "QCOW2"
    RAW = "RAW"


@dataclass(frozen=True, kw_only=True)
class Disk:
    """A transfer object: a nested dataclass with an enum, a tuple and a datetime."""

    path: str
    format: Format
    extent: tuple[int, int]
    created: datetime.datetime


@dataclass(frozen=True, kw_only=True)
class CopyDisks(messages.Command):
    disks: tuple[Disk, ...]
    primary: Disk | None = None
    labels: dict[str, Format] = field(default_factory=dict)


KNOWN = {**codec.KNOWN, "CopyDisks": CopyDisks}
WHEN = datetime.datetime(2026, 12, 2, 5, 30, tzinfo=datetime.UTC)


def _disk(path: str = "a") -> Disk:
    return Disk(path=path, format=Format.QCOW2, extent=(0, 512), created=WHEN)


def test_enums_tuples_datetimes_and_nested_transfer_objects_round_trip() -> None:
    message = CopyDisks(disks=(_disk("a"), _disk("b")), primary=_disk(), labels={"x": Format.RAW})
    text = codec.encode(message, KNOWN)
    body = json.loads(text)["body"]
    assert body["disks"][0] == {
        "path": "a",
        "format": "QCOW2",
        "extent": [0, 512],
        "created": "2026-12-02T05:30:00+00:00",
    }
    decoded = codec.decode(text, KNOWN)
    assert decoded == message
    assert isinstance(decoded, CopyDisks) and isinstance(decoded.disks, tuple)
    assert decoded.disks[0].format is Format.QCOW2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"format": "VHD"}, "is not a Format"),
        ({"extent": [0]}, "expected 2 items"),
        ({"created": "yesterday"}, "not an ISO 8601 datetime"),
        ({"created": "2026-12-02T05:30:00"}, "no UTC offset"),
    ],
)
def test_bad_enum_tuple_or_datetime_values_are_refused(
    change: dict[str, object], reason: str
) -> None:
    envelope = json.loads(codec.encode(CopyDisks(disks=(_disk(),)), KNOWN))
    envelope["body"]["disks"][0].update(change)
    with pytest.raises(errors.MalformedMessage, match=reason):
        codec.decode(json.dumps(envelope), KNOWN)


def test_a_naive_datetime_does_not_leave() -> None:
    naive = Disk(path="a", format=Format.RAW, extent=(0, 1), created=WHEN.replace(tzinfo=None))
    with pytest.raises(errors.MalformedMessage, match="naive datetime"):
        codec.encode(CopyDisks(disks=(naive,)), KNOWN)


def test_every_command_carries_a_fresh_id_and_the_protocol_version() -> None:
    first, second = commands.PingCommand(host_id=1), commands.PingCommand(host_id=1)
    assert first.id != second.id and len(first.id) == 32
    body = json.loads(codec.encode(first))["body"]
    assert body["id"] == first.id and body["version"] == messages.VERSION


TO = endpoint.Endpoint(1, "g-1", "sim-1")


@pytest.fixture
def transport() -> inprocess.InProcessTransport:
    fleet = simulator.Fleet()
    fleet.boot(simulator.Spec("g-1", "sim-1", "10.0.0.5"))
    return inprocess.InProcessTransport(fleet, lambda: 5.0)


def test_an_agent_refuses_a_version_it_does_not_speak(
    transport: inprocess.InProcessTransport,
) -> None:
    answer = transport.send(TO, commands.PingCommand(host_id=1, version=99))
    assert isinstance(answer, answers.VersionRefused) and answer.spoken == messages.SPOKEN
    with pytest.raises(transport_errors.ProtocolMismatch, match="version 99 is not spoken"):
        base.exchange(
            transport, TO, commands.PingCommand(host_id=1, version=99), answers.PingAnswer
        )


def test_a_failed_answer_is_an_agent_failure_not_a_protocol_violation(
    transport: inprocess.InProcessTransport,
) -> None:
    with pytest.raises(transport_errors.AgentFailed) as failed:
        base.exchange(
            transport,
            TO,
            commands.SimulatedCopyCommand(source=simulator.FAIL_SOURCE, destination="d", size=100),
            answers.SimulatedCopyAnswer,
        )
    assert not isinstance(failed.value, transport_errors.BadAnswer)
    assert "simulated copy failure of d" in str(failed.value)
