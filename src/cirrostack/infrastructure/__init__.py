"""Where things run: zones, pods, clusters, hosts, and the agents of those hosts.

Services take the session first and never commit (the caller owns the transaction); they raise
``cirrostack.errors`` kinds, and state changes go through ``cirrostack.states.gate``.

- ``zones``, ``pods``, ``clusters``, ``hosts``  create/update/delete/search per level
- ``hypervisors``  the hypervisor types cirrostack knows
- ``agents``       the agents this server reaches (transport, simulator fleet, links) and the
                   startup exchange that brings a host Up
- ``capacity``     a connected host's op_host_capacity rows
- ``monitor``      the background service that pings hosts and notices silence
- ``addresses``, ``rows``  IP address rules and the shared row helpers
"""
