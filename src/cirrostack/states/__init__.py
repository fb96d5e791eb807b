"""State machines as data, and the one gate that persists a transition.

- ``machine``: the Machine type (a transition table and what is known about its states);
- ``machines``: every resource's table (VM, volume, snapshot, store copies, template, network,
  host status and host resource state), values spelled as CloudStack stores them;
- ``gate``: ``transition()``, the only code that writes a state column;
- ``errors``: the exception tree.
"""
