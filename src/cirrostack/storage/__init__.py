"""Storage on the server: image stores, templates and ISOs (and, on other branches, pools and
volumes)."""
