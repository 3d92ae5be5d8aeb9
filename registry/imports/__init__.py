"""Import batches: one record per file brought into the registry."""
