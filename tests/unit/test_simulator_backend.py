"""The simulator backend on its own: knobs, answers, failures on demand, the fleet."""

from __future__ import annotations

import time

import pytest

from cirrostack.agent import errors
from cirrostack.agent.backends import simulator
from cirrostack.protocol import answers, commands, messages

GIB = 1024**3


def spec(guid: str = "g-1", **knobs: int) -> simulator.Spec:
    return simulator.Spec(guid, "sim-1", "10.0.0.5", simulator.Knobs(**knobs))


def test_knobs_default_to_a_small_host() -> None:
    knobs = simulator.Knobs.parse({})
    assert (knobs.cpus, knobs.cpu_sockets, knobs.speed) == (4, 1, 2000)
    assert (knobs.memory, knobs.local_storage) == (8 * GIB, 100 * GIB)


def test_knobs_parse_from_url_query_names() -> None:
    knobs = simulator.Knobs.parse(
        {"cpunumber": "8", "cpuspeed": "2400", "memory": str(16 * GIB), "localstorage": "0"}
    )
    assert (knobs.cpus, knobs.speed, knobs.memory, knobs.local_storage) == (8, 2400, 16 * GIB, 0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cpus": "8"}, r"unknown simulator setting\(s\) cpus; known: copystepms, cpunumber"),
        ({"cpunumber": "eight"}, "not a whole number"),
        ({"cpunumber": "-1"}, "not a whole number"),
        ({"cpunumber": "²"}, "not a whole number"),
        ({"cpunumber": "0"}, "out of range 1..1024"),
        ({"memory": "1023"}, "out of range"),
        ({"cpuspeed": "9" * 25}, "not a whole number"),
    ],
)
def test_bad_knobs_are_refused_with_a_reason(values: dict[str, str], message: str) -> None:
    with pytest.raises(errors.InvalidKnob, match=message):
        simulator.Knobs.parse(values)


def test_knobs_survive_host_details_and_ignore_other_details() -> None:
    knobs = simulator.Knobs(cpus=16, speed=3000, memory=32 * GIB, local_storage=GIB)
    stored = knobs.to_details() | {"guest.os.category.id": "7"}
    assert set(knobs.to_details()) == {
        "simulator.cpunumber",
        "simulator.cpusockets",
        "simulator.cpuspeed",
        "simulator.memory",
        "simulator.localstorage",
        "simulator.maintainms",
        "simulator.copystepms",
    }
    assert simulator.Knobs.from_details(stored) == knobs


def test_maintenance_takes_the_time_the_knob_says() -> None:
    host = simulator.SimulatedHost(
        simulator.Spec("g-1", "sim-1", "10.0.0.5", simulator.Knobs(maintain_ms=300))
    )
    started = time.monotonic()
    answer = host.handle(commands.MaintainCommand())
    assert isinstance(answer, answers.MaintainAnswer) and answer.result
    assert time.monotonic() - started >= 0.3


def test_a_drain_reports_progress_in_ten_steps_and_stops_when_the_report_fails() -> None:
    host = simulator.SimulatedHost(
        simulator.Spec("g-1", "sim-1", "10.0.0.5", simulator.Knobs(maintain_ms=50))
    )
    seen: list[messages.Progress] = []
    answer = host.handle(commands.MaintainCommand(), seen.append)
    assert isinstance(answer, answers.MaintainAnswer) and answer.result
    assert [(p.done, p.total, p.phase) for p in seen] == [(n, 10, "draining") for n in range(1, 11)]

    def hung_up(report: messages.Progress) -> None:
        seen.append(report)
        if report.done == 2:
            raise BrokenPipeError("the server left")

    seen.clear()
    abandoned = host.handle(commands.MaintainCommand(), hung_up)
    assert isinstance(abandoned, answers.CancelledAnswer)
    assert [p.done for p in seen] == [1, 2] and host.running() == []


def test_a_simulated_host_reports_its_spec_at_startup() -> None:
    host = simulator.SimulatedHost(spec(cpus=8, speed=2400, memory=16 * GIB))
    report = host.handle(commands.StartupRoutingCommand(host_id=3, host_uuid="u-3"))
    assert isinstance(report, answers.StartupRoutingAnswer)
    assert (report.guid, report.name, report.private_ip_address) == ("g-1", "sim-1", "10.0.0.5")
    assert (report.cpus, report.speed, report.memory) == (8, 2400, 16 * GIB)
    assert (report.hypervisor_type, report.result) == ("Simulator", True)


def test_a_simulated_host_answers_ready_ping_and_maintain() -> None:
    host = simulator.SimulatedHost(spec())
    ready = host.handle(commands.ReadyCommand(host_id=1, host_uuid="u", host_name="sim-1"))
    ping = host.handle(commands.PingCommand(host_id=1))
    maintain = host.handle(commands.MaintainCommand())
    assert isinstance(ready, answers.ReadyAnswer)
    assert isinstance(ping, answers.PingAnswer) and ping.guid == "g-1"
    assert isinstance(maintain, answers.MaintainAnswer) and not maintain.will_migrate
    assert host.seen == {"ReadyCommand": 1, "PingCommand": 1, "MaintainCommand": 1}


def test_an_unknown_command_gets_an_unsupported_answer() -> None:
    answer = simulator.SimulatedHost(spec()).handle(messages.Command())
    assert isinstance(answer, answers.UnsupportedAnswer)
    assert not answer.result and "does not handle Command" in answer.details


def test_a_host_fails_a_command_a_number_of_times_then_answers_again() -> None:
    host = simulator.SimulatedHost(spec())
    host.fail("PingCommand", times=2)
    ping = commands.PingCommand(host_id=1)
    results = [host.handle(ping).result for _ in range(3)]
    assert results == [False, False, True]
    assert host.handle(commands.MaintainCommand()).result


def test_a_host_fails_until_told_to_succeed() -> None:
    host = simulator.SimulatedHost(spec())
    host.fail("PingCommand")
    failed = host.handle(commands.PingCommand(host_id=1))
    assert type(failed) is messages.Answer
    assert failed.details == "simulated failure of PingCommand"
    assert not host.handle(commands.PingCommand(host_id=1)).result
    host.succeed("PingCommand")
    assert host.handle(commands.PingCommand(host_id=1)).result


def test_the_fleet_boots_once_per_guid_and_finds_answering_hosts() -> None:
    fleet = simulator.Fleet()
    first = fleet.boot(spec())
    assert fleet.boot(spec(cpus=64)) is first  # the running host is kept
    assert fleet.agent_for("g-1") is first
    assert fleet.agent_for("other") is None


def test_a_silenced_host_is_not_found_until_resumed() -> None:
    fleet = simulator.Fleet()
    host = fleet.boot(spec())
    fleet.silence("g-1")
    assert fleet.agent_for("g-1") is None
    assert fleet.get("g-1") is host
    fleet.resume("g-1")
    assert fleet.agent_for("g-1") is host


def test_a_discarded_host_is_gone_and_controls_refuse_unknown_hosts() -> None:
    fleet = simulator.Fleet()
    fleet.boot(spec())
    fleet.silence("g-1")
    fleet.discard("g-1")
    fleet.discard("g-1")
    assert fleet.get("g-1") is None
    with pytest.raises(errors.UnknownHost):
        fleet.silence("g-1")
    with pytest.raises(errors.UnknownHost):
        fleet.resume("g-1")
