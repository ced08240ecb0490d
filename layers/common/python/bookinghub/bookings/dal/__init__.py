"""bookings/dal."""
