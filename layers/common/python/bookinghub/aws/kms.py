"""Secrets the hub must read back (webhook signing secrets, provider tokens) are KMS-encrypted.

The ciphertext is bound to its purpose and owner with an encryption context, so a ciphertext copied
from one website's row cannot be decrypted as another's.

Decrypted secrets are kept for the life of the execution environment, bounded (LRU of DECRYPT_CACHE_SIZE
entries, each for DECRYPT_CACHE_SECONDS): a Beds24 event or a sync-back delivery then pays no KMS call when
its secret was read recently. The key is the ciphertext with its context, so a rotated secret (a new
ciphertext) is decrypted afresh, and the TTL bounds how long a revoked key grant keeps working here.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict

from bookinghub.aws.clients import client
from bookinghub.core.settings import get_settings

DECRYPT_CACHE_SIZE = 256
DECRYPT_CACHE_SECONDS = 300.0

_Key = tuple[str, str, str]
_decrypted: OrderedDict[_Key, tuple[float, str]] = OrderedDict()
_lock = threading.Lock()


def encrypt_secret(plaintext: str, *, purpose: str, owner: str) -> str:
    response = client("kms").encrypt(
        KeyId=get_settings().secrets_kms_key_id,
        Plaintext=plaintext.encode("utf-8"),
        EncryptionContext={"purpose": purpose, "owner": owner},
    )
    ciphertext = base64.b64encode(response["CiphertextBlob"]).decode("ascii")
    _remember((ciphertext, purpose, owner), plaintext)  # what we just encrypted is read back soon
    return ciphertext


def decrypt_secret(ciphertext: str, *, purpose: str, owner: str) -> str:
    key = (ciphertext, purpose, owner)
    with _lock:
        cached = _decrypted.get(key)
        if cached is not None and cached[0] > time.monotonic():
            _decrypted.move_to_end(key)
            return cached[1]
    response = client("kms").decrypt(
        CiphertextBlob=base64.b64decode(ciphertext),
        EncryptionContext={"purpose": purpose, "owner": owner},
    )
    plaintext = bytes(response["Plaintext"]).decode("utf-8")
    _remember(key, plaintext)
    return plaintext


def forget_decrypted() -> None:
    """Drop every cached plaintext and data key (tests, and a process that changes KMS keys)."""
    with _lock:
        _decrypted.clear()
    from bookinghub.aws.envelope import forget_data_keys

    forget_data_keys()  # and the data keys of aws/envelope


def _remember(key: _Key, plaintext: str) -> None:
    with _lock:
        _decrypted[key] = (time.monotonic() + DECRYPT_CACHE_SECONDS, plaintext)
        _decrypted.move_to_end(key)
        while len(_decrypted) > DECRYPT_CACHE_SIZE:
            _decrypted.popitem(last=False)
