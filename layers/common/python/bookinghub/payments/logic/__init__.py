"""payments/logic."""
