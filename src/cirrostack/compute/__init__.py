"""Compute: what virtual machines are made of and run as (guest OS catalogue, ...)."""
