"""Primary storage on the management server: pools, their host connections, stats, capacity."""
