"""websites/dal."""
