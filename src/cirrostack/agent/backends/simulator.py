"""Simulated hypervisor hosts: answer the protocol like a host would, touching nothing real.

A simulated host is fully described by its ``Spec`` (identity + ``Knobs``); it keeps no other
state a restart would lose, so the server can rebuild it at any time from the host's row and
details. The knobs, with their defaults and limits (names as in an addHost URL query,
``http://sim-1?cpunumber=8&cpuspeed=2400&memory=17179869184``):

==============  ===============  ========================  ===============================
knob            default          range                     meaning
==============  ===============  ========================  ===============================
cpunumber       4                1 .. 1024                 CPU cores
cpusockets      1                1 .. 64                   CPU sockets
cpuspeed        2000             1 .. 100000               MHz per core
memory          8589934592       1 MiB .. 1 PiB            RAM in bytes (default 8 GiB)
localstorage    107374182400     0 .. 1 EiB                local disk in bytes (100 GiB)
maintainms      0                0 .. 3600000              milliseconds a MaintainCommand takes
copystepms      10               0 .. 3600000              milliseconds per tenth of a copy
                                                           (and per 64 MiB chunk of a storage
                                                           copy)
==============  ===============  ========================  ===============================

``Fleet`` holds the simulated hosts of a process by guid. It is the in-process transport's
directory, and it has the test controls: ``silence`` makes a host stop answering (as if it
crashed or its network went away), ``resume`` brings it back. A single host can also be told to
fail one kind of command (``SimulatedHost.fail``), which is what the ``configureSimulator`` API
command does.

A MaintainCommand (a host draining for maintenance) takes ``maintainms`` in ten steps,
reporting Progress after each (``done`` steps of 10, phase ``draining``): the job that sent it
shows it as ``jobprocstatus``, and an agent whose server hung up stops draining at the next
step (its report cannot be delivered).

SimulatedCopyCommand is the simulator's long command: it "copies" ``size`` bytes in ten steps of
``copystepms`` milliseconds each, reporting Progress after each step, into a file under the
host's work directory (``Fleet(workdir)``; in memory only when there is none). Cancelled, it
stops at the next step and removes the partial file. Two sources behave on purpose, as
CloudStack's simulator mocks do: ``sim://stall`` stops reporting after the first step (until
cancelled: what an agent that hangs looks like) and ``sim://fail`` fails after the first step
(with the partial file removed).

Storage commands (``protocol.storage``) run for real: the host hands them to the storage
processor (``agent.storage.processor``) with the drivers of the ``cirrostack.storage`` plugin
group, on files in a sandbox under the fleet's directory (a temporary one when the fleet has
none): the host's local pools under ``<host>/storage/local/<pool path>``, its mounts under
``<host>/storage/mnt``, SharedMountPoint paths under ``_shared/<path>`` and the stand-in NFS
servers' exports under ``_nfs/<server>/<export>``, both shared by the fleet's hosts as the real
ones are by a cluster's (``storage_site``). Attached disks are recorded in ``attached``.

VM commands (``protocol.compute``) run on the host's domains (``sim_vms.Domains``, kept in
``vms.json`` under its work directory): StartCommand refuses a VM whose disk file is not on
its pool, StopCommand and RebootCommand act on the running domains, and every PingAnswer
reports them (``vm_states``).
"""

from __future__ import annotations

import re
import socket
import tempfile
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TypeVar

from cirrostack import __version__, plugins
from cirrostack.agent import errors, qemu_img, work
from cirrostack.agent.backends import sim_vms
from cirrostack.agent.storage import drivers, naming, processor, sandbox
from cirrostack.agent.storage import errors as storage_errors
from cirrostack.plugins import HostUrl
from cirrostack.protocol import answers, commands, compute, messages, storage

GIB = 1024**3
HYPERVISOR = "Simulator"
HYPERVISOR_VERSION = "1.0"
#: Prefix of the knobs' names in host details.
DETAIL_PREFIX = "simulator."


_DIGITS = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class _Range:
    name: str
    low: int
    high: int


@dataclass(frozen=True)
class Knobs:
    """The simulated hardware: cores, sockets, MHz per core, RAM and local disk in bytes."""

    cpus: int = field(default=4, metadata={"knob": _Range("cpunumber", 1, 1024)})
    cpu_sockets: int = field(default=1, metadata={"knob": _Range("cpusockets", 1, 64)})
    speed: int = field(default=2000, metadata={"knob": _Range("cpuspeed", 1, 100_000)})
    memory: int = field(default=8 * GIB, metadata={"knob": _Range("memory", 2**20, 2**50)})
    local_storage: int = field(
        default=100 * GIB, metadata={"knob": _Range("localstorage", 0, 2**60)}
    )
    #: How long preparing for maintenance takes (a host draining): lets jobs take real time.
    maintain_ms: int = field(default=0, metadata={"knob": _Range("maintainms", 0, 3_600_000)})
    #: How long each of a SimulatedCopyCommand's ten steps takes.
    copy_step_ms: int = field(default=10, metadata={"knob": _Range("copystepms", 0, 3_600_000)})

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> Knobs:
        """Knobs from ``name=value`` texts (an addHost URL query); missing ones take defaults.

        Raises InvalidKnob for an unknown name, a value that is not a whole number, or one out
        of its range.
        """
        ranges = {spec.name: (name, spec) for name, spec in _ranges().items()}
        unknown = sorted(set(values) - set(ranges))
        if unknown:
            raise errors.InvalidKnob(
                f"unknown simulator setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(ranges))}"
            )
        parsed = {ranges[key][0]: _whole(ranges[key][1], text) for key, text in values.items()}
        return cls(**parsed)

    @classmethod
    def from_details(cls, details: Mapping[str, str]) -> Knobs:
        """Knobs from host details (``simulator.<knob>``); other details are ignored."""
        return cls.parse(
            {
                name.removeprefix(DETAIL_PREFIX): value
                for name, value in details.items()
                if name.startswith(DETAIL_PREFIX)
            }
        )

    def to_details(self) -> dict[str, str]:
        """The knobs as host details, the form that survives a restart."""
        return {
            DETAIL_PREFIX + spec.name: str(getattr(self, name)) for name, spec in _ranges().items()
        }


def _ranges() -> dict[str, _Range]:
    return {item.name: item.metadata["knob"] for item in fields(Knobs)}


def _whole(spec: _Range, text: str) -> int:
    stripped = text.strip()
    if _DIGITS.fullmatch(stripped) is None:
        raise errors.InvalidKnob(f"simulator setting {spec.name}={text!r} is not a whole number")
    value = int(stripped)
    if not spec.low <= value <= spec.high:
        raise errors.InvalidKnob(
            f"simulator setting {spec.name}={value} is out of range {spec.low}..{spec.high}"
        )
    return value


@dataclass(frozen=True)
class Spec:
    """Everything a simulated host is: its identity, address and hardware."""

    guid: str
    name: str
    ip_address: str
    knobs: Knobs = Knobs()


#: The copy sources the simulator treats specially (see the module docstring).
STALL_SOURCE = "sim://stall"
FAIL_SOURCE = "sim://fail"
COPY_STEPS = 10
#: A MaintainCommand with ``maintainms`` drains in this many steps, a Progress after each.
DRAIN_STEPS = 10
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SHARED_DIRECTORY = sandbox.SHARED_DIRECTORY
EXPORTS_DIRECTORY = sandbox.EXPORTS_DIRECTORY


class SimulatedHost(work.Agent):
    """One simulated host: answers commands from its spec; ``seen`` counts them by type.

    A StartupRoutingCommand that names a guid makes the host adopt the server's record of it
    (guid, name, address, knobs from ``settings``): a simulated host has no hardware identity
    of its own, and this is how an agent process learns which host it stands in for.

    ``fail`` makes it answer a kind of command with a failed Answer (CloudStack's simulator
    ``configureSimulator ... value=result:fail``), for some times or until ``succeed``.
    ``stored`` holds the bytes of each copy destination written so far (mirrored as files under
    ``workdir`` when there is one). ``muted`` (set by ``Fleet.silence``) freezes running work
    without a word, as a crashed host's would be.
    """

    def __init__(
        self,
        spec: Spec,
        workdir: Path | None = None,
        common: Callable[[], Path] | None = None,
    ) -> None:
        """``workdir``: this host's files (None: its copies stay in memory); ``common``: the
        directory the fleet's hosts share (their stand-in NFS servers and shared mount
        points), made when first needed; by default ``workdir`` (a lone agent process)."""
        super().__init__()
        self.spec = spec
        self.workdir = workdir
        self._common = common
        self._storage: processor.Processor | None = None
        self.seen: Counter[str] = Counter()
        self.stored: dict[str, int] = {}
        #: The disks AttachCommand gave this host's VMs (``attached.disks``).
        self.attached = sandbox.Attachments()
        #: The domains this host runs (``sim_vms``), kept in ``workdir`` across restarts.
        self.domains = sim_vms.Domains(workdir)
        self.muted = threading.Event()
        #: Command name -> failures left (None: until told otherwise).
        self._failing: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self._handlers: dict[
            type[messages.Command], Callable[[messages.Command, work.Work], messages.Answer]
        ] = {
            commands.StartupRoutingCommand: lambda c, _w: self._startup(c),
            commands.ReadyCommand: lambda _c, _w: answers.ReadyAnswer(),
            commands.PingCommand: lambda _c, _w: answers.PingAnswer(
                guid=self.spec.guid, vm_states=self.domains.running()
            ),
            commands.MaintainCommand: lambda _c, w: self._maintain(w),
            commands.SimulatedCopyCommand: self._copy,
            compute.StartCommand: lambda c, _w: self.domains.start(
                _is(c, compute.StartCommand), self._disk_missing
            ),
            compute.StopCommand: lambda c, _w: self.domains.stop(_is(c, compute.StopCommand)),
            compute.RebootCommand: lambda c, _w: self.domains.reboot(_is(c, compute.RebootCommand)),
        }

    def _disk_missing(self, disk: storage.DiskTO) -> str | None:
        """Why ``disk``'s file is not on its pool (None: it is there)."""
        data = disk.data
        if not isinstance(data, storage.VolumeObjectTO) or not data.path:
            return f"disk {disk.disk_seq} names no volume file"
        try:
            file = self.storage_processor().files(naming.store_of(data)).file(data.path)
        except (storage_errors.StorageError, errors.UnknownHost, qemu_img.QemuImgError) as exc:
            return f"pool of volume {data.uuid} is not usable here: {exc}"
        if not file.is_file():
            return f"volume {data.uuid} has no file {data.path} on its pool"
        return None

    def _maintain(self, job: work.Work) -> messages.Answer:
        if self.spec.knobs.maintain_ms:
            for step in range(1, DRAIN_STEPS + 1):
                job.pause(self.spec.knobs.maintain_ms / 1000 / DRAIN_STEPS)
                while self.muted.is_set():
                    job.pause(0.02)
                job.progress(step, DRAIN_STEPS, "draining")
        return answers.MaintainAnswer(will_migrate=False)

    def _copy(self, command: messages.Command, job: work.Work) -> messages.Answer:
        assert isinstance(command, commands.SimulatedCopyCommand)
        name = command.destination
        if _FILE_NAME.fullmatch(name) is None or command.size < 0:
            return messages.Answer(result=False, details=f"cannot copy to {name!r}")
        step = -(-command.size // COPY_STEPS) if command.size else 0
        done = 0
        try:
            for number in range(COPY_STEPS):
                job.pause(self.spec.knobs.copy_step_ms / 1000)
                while self.muted.is_set():
                    job.pause(0.02)
                done = min(command.size, done + step)
                self._write(name, done)
                if number == 1 and command.source == FAIL_SOURCE:
                    self._remove(name)
                    return messages.Answer(
                        result=False, details=f"simulated copy failure of {name}"
                    )
                if number == 1 and command.source == STALL_SOURCE:
                    while True:
                        job.pause(0.05)
                job.progress(done, command.size, "copying")
        except work.Cancelled:
            self._remove(name)
            raise
        return answers.SimulatedCopyAnswer(destination=name, size=command.size)

    def _write(self, name: str, size: int) -> None:
        with self._lock:
            self.stored[name] = size
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            with open(self.workdir / name, "ab") as handle:
                handle.truncate(size)

    def _remove(self, name: str) -> None:
        with self._lock:
            self.stored.pop(name, None)
        if self.workdir is not None:
            (self.workdir / name).unlink(missing_ok=True)

    def storage_site(self) -> drivers.Site:
        """Where this host's storage lives (``agent.storage.sandbox``)."""
        if self._common is not None:
            common = self._common()
            home = (self.workdir or common / self.spec.guid) / "storage"
        elif self.workdir is not None:
            common, home = self.workdir, self.workdir / "storage"
        else:
            raise errors.UnknownHost(f"simulated host {self.spec.guid} has no directory")
        return sandbox.site(home, common)

    def storage_processor(self) -> processor.Processor:
        """This host's storage processor (made on first use)."""
        with self._lock:
            if self._storage is None:
                self._storage = processor.Processor(
                    self.storage_site(),
                    plugins.resolved_storage(),
                    qemu_img.QemuImg(),
                    self.attached,
                    pace=lambda job: job.pause(self.spec.knobs.copy_step_ms / 1000),
                )
            return self._storage

    def fail(self, command: str, times: int | None = None) -> None:
        """Answer the next ``times`` commands named ``command`` (all, if None) with a failure."""
        with self._lock:
            self._failing[command] = times

    def succeed(self, command: str) -> None:
        """Answer commands named ``command`` normally again."""
        with self._lock:
            self._failing.pop(command, None)

    def run(self, command: messages.Command, job: work.Work) -> messages.Answer:
        """The answer to ``command`` (called by ``handle``); UnsupportedAnswer for a command it
        does not know."""
        name = type(command).__name__
        with self._lock:
            self.seen[name] += 1
            failing = self._take_failure(name)
        if failing:
            return messages.Answer(result=False, details=f"simulated failure of {name}")
        if type(command) in storage.COMMANDS:
            try:
                runner = self.storage_processor()
            except qemu_img.QemuImgError as exc:  # qemu-img is not installed here
                return messages.Answer(result=False, details=str(exc))
            return runner.run(command, job)
        handler = self._handlers.get(type(command))
        if handler is None:
            return answers.UnsupportedAnswer(
                details=f"the simulator does not handle {type(command).__name__}"
            )
        return handler(command, job)

    def _take_failure(self, name: str) -> bool:
        if name not in self._failing:
            return False
        left = self._failing[name]
        if left is not None:
            if left <= 1:
                del self._failing[name]
            else:
                self._failing[name] = left - 1
        return True

    def _startup(self, command: messages.Command) -> messages.Answer:
        assert isinstance(command, commands.StartupRoutingCommand)
        if command.guid:
            try:
                knobs = Knobs.from_details(command.settings)
            except errors.InvalidKnob as exc:
                return messages.Answer(result=False, details=str(exc))
            self.spec = Spec(
                command.guid,
                command.name or self.spec.name,
                command.private_ip_address or self.spec.ip_address,
                knobs,
            )
        return self._report()

    def _report(self) -> answers.StartupRoutingAnswer:
        spec, knobs = self.spec, self.spec.knobs
        return answers.StartupRoutingAnswer(
            guid=spec.guid,
            name=spec.name,
            hypervisor_type=HYPERVISOR,
            hypervisor_version=HYPERVISOR_VERSION,
            agent_version=__version__,
            cpus=knobs.cpus,
            cpu_sockets=knobs.cpu_sockets,
            speed=knobs.speed,
            memory=knobs.memory,
            dom0_memory=0,
            local_storage=knobs.local_storage,
            private_ip_address=spec.ip_address,
        )


class Fleet:
    """The simulated hosts of this process, by guid; safe to use from several threads."""

    def __init__(self, workdir: Path | None = None) -> None:
        """``workdir``: where hosts write their copies (DIR/<guid>/...); None: memory only."""
        self._hosts: dict[str, SimulatedHost] = {}
        self._silenced: set[str] = set()
        self._lock = threading.Lock()
        self._workdir = workdir
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def common(self) -> Path:
        """The directory the fleet's hosts share: its own, or a temporary one (removed when
        the fleet goes) made on first use."""
        if self._workdir is not None:
            return self._workdir
        with self._lock:
            if self._scratch is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="cirrostack-sim-")
            return Path(self._scratch.name)

    def boot(self, spec: Spec) -> SimulatedHost:
        """The host with ``spec.guid``, created from ``spec`` if it does not exist yet."""
        with self._lock:
            found = self._hosts.get(spec.guid)
            if found is None:
                where = None if self._workdir is None else self._workdir / spec.guid
                found = self._hosts[spec.guid] = SimulatedHost(spec, where, self.common)
            return found

    def running(self, guid: str) -> bool:
        """Whether a host with ``guid`` exists here, answering or not."""
        with self._lock:
            return guid in self._hosts

    def start(self, guid: str, name: str, address: str, details: Mapping[str, str]) -> None:
        """Boot the host a host row and its details describe (``plugins.InProcess``);
        raises InvalidKnob (a ValueError) when the stored knobs cannot be used."""
        self.boot(Spec(guid, name, address, Knobs.from_details(details)))

    def get(self, guid: str) -> SimulatedHost | None:
        """The host with ``guid``, answering or not; None if there is none."""
        with self._lock:
            return self._hosts.get(guid)

    def discard(self, guid: str) -> None:
        """Power the host off for good (nothing happens if there is none)."""
        with self._lock:
            self._hosts.pop(guid, None)
            self._silenced.discard(guid)

    def silence(self, guid: str) -> None:
        """Make the host stop answering every command; raises UnknownHost."""
        with self._lock:
            self._known(guid)
            self._silenced.add(guid)
            self._hosts[guid].muted.set()

    def resume(self, guid: str) -> None:
        """Make a silenced host answer again; raises UnknownHost."""
        with self._lock:
            self._known(guid)
            self._silenced.discard(guid)
            self._hosts[guid].muted.clear()

    def agent_for(self, guid: str) -> SimulatedHost | None:
        """The host with ``guid`` if it exists and answers (the transport's directory)."""
        with self._lock:
            return None if guid in self._silenced else self._hosts.get(guid)

    def _known(self, guid: str) -> None:
        if guid not in self._hosts:
            raise errors.UnknownHost(f"no simulated host {guid} in this process")


class SimulatorBackend:
    """The simulator as a plugin (``cirrostack.plugins.Backend``; entry point ``simulator``)."""

    name = "simulator"
    hypervisor = HYPERVISOR

    def parse_url(self, url: str) -> HostUrl:
        """``http://<name or IPv4>[:port][?knobs]``: the knobs as details; a port means an
        agent process listens there. Raises InvalidKnob (a ValueError) with the reason."""
        text = url.strip() if "://" in url else f"http://{url.strip()}"
        try:
            parts = urllib.parse.urlsplit(text)
            pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        except ValueError:
            raise errors.InvalidKnob("not a url") from None
        machine = parts.netloc.rpartition("@")[2].partition(":")[0]
        if parts.scheme.lower() not in ("http", "https") or _MACHINE.fullmatch(machine) is None:
            raise errors.InvalidKnob("expected http://<host name or IPv4 address>[:port][?knobs]")
        try:
            own_process = parts.port is not None
        except ValueError:
            raise errors.InvalidKnob("the port is not a number from 0 to 65535") from None
        values: dict[str, str] = {}
        for key, value in pairs:
            values.setdefault(key.lower(), value)
        return HostUrl(machine, Knobs.parse(values).to_details(), own_process)

    def in_process(self, workdir: Path | None = None) -> Fleet:
        """A fresh fleet of simulated hosts for the server's process, keeping its files in
        ``workdir`` (None: a temporary directory made when first needed)."""
        return Fleet(workdir)

    def agent(self, workdir: Path, shared: Path | None = None) -> SimulatedHost:
        """The simulated host a ``cirrostack agent --backend simulator`` process serves: it
        adopts the identity the server sends at startup. Agent processes given the same
        ``shared`` directory see the same stand-in NFS servers and shared mount points, as the
        hosts of one cluster do."""
        common = None if shared is None else (lambda: shared)
        spec = Spec("unassigned", socket.gethostname(), "0.0.0.0")  # noqa: S104
        return SimulatedHost(spec, workdir, common)


_MACHINE = re.compile(r"[A-Za-z0-9_.-]{1,255}")

_C = TypeVar("_C", bound=messages.Command)


def _is(command: messages.Command, kind: type[_C]) -> _C:
    assert isinstance(command, kind)
    return command


BACKEND = SimulatorBackend()
