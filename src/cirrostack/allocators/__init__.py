"""Storage pool allocation: which primary pool a new volume goes to, and why.

A decision is a pipeline (``pipeline``): the candidate pools of the request's zone are loaded
with their tags, capacity rows and scoped settings in a fixed number of queries
(``candidates``, ``pool_settings``), every filter of ``pool_filters`` judges each one in
CloudStack's order, and the survivors are weighed (``pool_weighers``). Every candidate gets a
``verdicts.Verdict``. ``pools`` is the entry point (``decide``, ``place``, ``release``);
``claims`` holds the only SQL that claims and releases a pool's allocated capacity.
"""
