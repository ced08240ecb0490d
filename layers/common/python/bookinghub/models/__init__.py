"""Pydantic models: API payloads, stored entities and domain events."""
