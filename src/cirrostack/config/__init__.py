"""Settings: typed keys, where their values live, and the one accessor business code reads.

- ``definitions``: ``Scope``, ``ConfigKey[T]`` (name, type, default, scopes, validation) and
  ``Registry`` (every key by name; a duplicate name is an error when the registry is built);
- ``keys``: the declarations of every setting cirrostack reads (and a few it keeps for the
  work to come, marked stored-only), and ``REGISTRY`` of them;
- ``catalogue``: the rest of CloudStack's keys (``catalogue.json``), stored and listed but not
  acted on, and ``REGISTRY`` of every key;
- ``store``: the rows a value lives in (``configuration`` and the ``*_details`` tables);
- ``settings``: ``Settings(session).get(key, zone_id=..., ...)``, the scope chain walked;
- ``service``: listConfigurations/updateConfiguration as services (search, update);
- ``seed``: one ``configuration`` row per key of the catalogue, idempotently, at bootstrap;
- ``errors``: the exception tree.

Business code never reads configuration any other way (STYLE habit 7): it is handed a session
by its command or job and asks ``Settings`` for a key declared in ``keys``.
"""
