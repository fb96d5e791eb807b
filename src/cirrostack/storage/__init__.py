"""Storage services on the management server: volumes, pools, templates on pools."""
