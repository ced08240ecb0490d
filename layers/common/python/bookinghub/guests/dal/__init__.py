"""guests/dal."""
