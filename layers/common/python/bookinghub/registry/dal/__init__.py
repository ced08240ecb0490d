"""registry/dal."""
