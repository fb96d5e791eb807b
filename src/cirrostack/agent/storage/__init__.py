"""The agent's storage side: drivers for primary pools and image stores, and the processor that
executes the storage commands (``protocol.storage``) on real files and objects.

``drivers`` holds the driver protocol and its capability set; each driver is a plugin of the
entry-point group ``cirrostack.storage`` (``plugins.storage_drivers``). ``processor`` runs the
commands; every backend (the simulator today, kvm later) hands its storage commands to it.
"""
