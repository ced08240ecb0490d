"""websites."""
