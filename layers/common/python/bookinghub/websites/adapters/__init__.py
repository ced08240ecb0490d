"""websites/adapters."""
