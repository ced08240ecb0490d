"""websites/logic."""
