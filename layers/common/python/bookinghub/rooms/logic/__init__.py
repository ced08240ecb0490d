"""rooms/logic."""
