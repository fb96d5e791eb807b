"""Hypervisor backends: one module per hypervisor, each answering protocol commands."""
