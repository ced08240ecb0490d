"""bookings/models."""
