"""Storage services on the management server: pools, volumes, image stores, templates and
ISOs, and templates' copies on pools."""
