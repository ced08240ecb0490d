"""A pass's lock code as stored: its provider and how its pincode is sealed and read back.

Kept apart from pincodes.py (issuing, which brings the Rooms adapter, the registry and the retry rules)
so that reading a pass (`passes`, its cold start) imports only this.
"""

from __future__ import annotations

from typing import Any

from bookinghub.aws.envelope import open_sealed

LOCK_CODE_PURPOSE = "lock-code"
PROVIDER = "rooms"


def read_pincode(lock_code: dict[str, Any]) -> str:
    """The pincode in plaintext (a sealed value, or a plain KMS ciphertext of a lock code stored before)."""
    return open_sealed(lock_code["code_encrypted"], purpose=LOCK_CODE_PURPOSE, owner=lock_code["pass_id"])
