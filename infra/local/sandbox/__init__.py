"""Sandboxes: local stand-ins for the outside parties the hub talks to (source websites, providers)."""
