/// Replication engine.
