"""Example clients of the hub."""
