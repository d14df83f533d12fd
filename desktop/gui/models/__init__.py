"""Qt item models: one module per table. Models adapt store snapshots and events; they own no data."""
