"""Business rules. Services call `dal/` for storage and `integrations/` for provider HTTP."""
