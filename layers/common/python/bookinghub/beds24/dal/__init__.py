"""beds24/dal."""
