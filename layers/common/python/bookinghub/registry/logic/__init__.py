"""registry/logic."""
