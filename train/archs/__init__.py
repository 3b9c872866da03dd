"""The networks: one file per generator architecture, the critics, the blocks they share, and the registry that builds them from a run's settings."""
