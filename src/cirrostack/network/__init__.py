"""Guest networking: physical networks, network offerings, networks, IP ranges and NICs.

There is no virtual router: services a router would run are listed as CloudStack lists them
(docs/networks.md says which are provided), and addresses are managed here (IPAM only).
"""
