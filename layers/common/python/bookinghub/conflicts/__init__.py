"""Conflicts (issue 15, seed 001 Phase 4): a source and the hub changed the same field of a booking."""
