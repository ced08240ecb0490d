"""payments/dal."""
