"""beds24/client."""
