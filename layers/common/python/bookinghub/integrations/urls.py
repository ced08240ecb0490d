"""URL rules shared by the provider clients (no heavy imports: clients stay cheap to import)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """localhost or a loopback address: plain http is tolerated only there (local sandboxes)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
