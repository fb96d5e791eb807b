"""Offerings: what users choose from when they ask for a VM or a disk.

- ``storage``: what a disk offering (or a service offering's root disk) says about storage:
  provisioning type, local or shared, storage tags, IOPS and rate limits, and the size rules;
- ``scope``: the domains and zones an offering is restricted to, who sees it, who manages it;
- ``disk_offerings``: create, update, delete and list disk offerings;
- ``service_offerings``: the same for compute offerings; each owns a hidden disk offering
  (``compute_only``) describing its root disk, as CloudStack does since 4.17.

Service functions take the session first and never commit; the API command owns the transaction.
Errors are ``cirrostack.errors`` kinds (a bad value is ``InvalidParameterValue``, answered 431).
"""
