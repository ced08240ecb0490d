"""beds24/models."""
