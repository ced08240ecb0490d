"""rooms/adapters."""
