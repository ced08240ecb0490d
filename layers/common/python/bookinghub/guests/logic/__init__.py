"""guests/logic."""
