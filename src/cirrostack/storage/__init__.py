"""Storage services on the management server: primary pools and their capacity, volumes,
image stores, templates and ISOs, and templates' copies on pools."""
