"""beds24/logic."""
