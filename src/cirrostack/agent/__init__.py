"""The agent side: what runs on (or, for the simulator, stands in for) a hypervisor host.

It speaks only ``cirrostack.protocol`` and never imports server code (``api``, ``db``,
``infrastructure``, ``transport``), so it can run in its own process on a host. Backends answer
commands for one hypervisor: ``backends.simulator`` for simulated hosts.
"""
