"""Provider clients: the only code that makes outbound HTTP calls."""
