"""The simulated host's domains: which VMs it runs, kept in memory and in ``vms.json`` in the
host's work directory, so an agent process restarted on the same directory still reports
them (a real hypervisor's domains outlive its agent).

``Domains`` answers StartCommand, StopCommand and RebootCommand for ``simulator.SimulatedHost``.
A start is refused, as libvirt would refuse to define the domain, when a disk's file is not on
its pool (``exists`` checks it through the host's storage processor).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from cirrostack.protocol import compute, messages
from cirrostack.protocol import storage as storage_protocol

#: The file under the host's work directory that holds its running domains.
FILE_NAME = "vms.json"

#: Whether a disk's file is on its pool; returns the reason it is not (None: it is).
DiskCheck = Callable[[storage_protocol.DiskTO], str | None]


class Domains:
    """The running domains of one simulated host: instance name -> VM uuid."""

    def __init__(self, workdir: Path | None) -> None:
        self._file = None if workdir is None else workdir / FILE_NAME
        self._lock = threading.Lock()
        self._running: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        if self._file is None or not self._file.is_file():
            return {}
        try:
            loaded = json.loads(self._file.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {str(name): str(uuid) for name, uuid in loaded.items()}

    def _save(self) -> None:
        if self._file is None:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        scratch = self._file.with_suffix(".tmp")
        scratch.write_text(json.dumps(self._running, sort_keys=True))
        os.replace(scratch, self._file)

    def running(self) -> dict[str, str]:
        """The power report: every running domain's instance name -> PowerOn."""
        with self._lock:
            return {name: compute.PowerState.POWER_ON.value for name in self._running}

    def start(self, command: compute.StartCommand, exists: DiskCheck) -> messages.Answer:
        vm = command.vm
        for disk in sorted(vm.disks, key=lambda item: item.disk_seq):
            missing = exists(disk)
            if missing is not None:
                return messages.Answer(
                    result=False,
                    details=f"Failed to connect physical disks to host: {missing}",
                )
        with self._lock:
            self._running[vm.name] = vm.uuid
            self._save()
        return compute.StartAnswer(vm=vm)

    def stop(self, command: compute.StopCommand) -> messages.Answer:
        """Stopping a domain that does not run succeeds (CloudStack's agents answer so)."""
        with self._lock:
            self._running.pop(command.vm_name, None)
            self._save()
        return compute.StopAnswer(vm_name=command.vm_name)

    def reboot(self, command: compute.RebootCommand) -> messages.Answer:
        with self._lock:
            if command.vm_name not in self._running:
                return messages.Answer(
                    result=False, details=f"VM {command.vm_name} is not running on this host"
                )
        return compute.RebootAnswer(vm_name=command.vm_name)
