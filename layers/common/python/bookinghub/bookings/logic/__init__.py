"""bookings/logic."""
