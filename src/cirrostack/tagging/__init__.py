"""User-defined tags on resources (``resource_tags``): which types take tags, and the tags."""
