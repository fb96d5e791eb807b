"""Storage pool allocation: which primary pool a new volume goes to, and why.

A decision is a pipeline (``pipeline``): the candidate pools of the request's zone (narrowed
by ``narrowing``) are loaded with their tags, capacity rows and scoped settings in two
prebuilt queries (``candidates``, ``pool_settings``), every filter of ``pool_filters`` judges
each one in CloudStack's order (rule tags by ``tag_rules``), and the survivors are weighed
(``pool_weighers``, multipliers from settings). Every candidate gets a ``verdicts.Verdict``.
``pools`` is the entry point (``decide``, ``place``, ``release``);
``claims`` holds the only SQL that claims and releases a pool's allocated capacity.
"""
