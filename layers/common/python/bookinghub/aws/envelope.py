"""Envelope encryption for many small values (door pincodes): one KMS call per execution environment.

`aws/kms.encrypt_secret` costs one kms:Encrypt per value ($3 per million pincodes). Here a data key from
kms:GenerateDataKey (encryption context {"purpose": ...}) is kept in memory and reused, bounded by age
(DATA_KEY_MAX_AGE_SECONDS) and by use (DATA_KEY_MAX_USES: far below AES-GCM's 2**32 random-nonce limit).
Each value is sealed with AES-256-GCM (the `cryptography` package, already in the layer for PyJWT), with
its purpose and owner as associated data: a ciphertext copied to another owner's row fails to open.

Stored form: "dk1:" + base64(encrypted data key) + ":" + base64(nonce + ciphertext + tag). The plaintext
data key never leaves memory; opening a value decrypts its data key with KMS once per environment (cached,
LRU of OPENED_KEYS_SIZE, each for DATA_KEY_MAX_AGE_SECONDS). A value without the prefix is a plain KMS
ciphertext of aws/kms (records written before this module) and is opened with kms.decrypt_secret.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from bookinghub.aws.clients import client
from bookinghub.core.settings import get_settings

PREFIX = "dk1:"
DATA_KEY_MAX_AGE_SECONDS = 900.0
DATA_KEY_MAX_USES = 100_000
OPENED_KEYS_SIZE = 64
_NONCE_BYTES = 12


@dataclass
class _DataKey:
    plaintext: bytes
    encrypted: bytes
    expires: float
    uses: int = 0


_sealing: dict[str, _DataKey] = {}  # purpose -> the data key new values are sealed with
_opened: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()  # encrypted data key -> (expiry, plaintext)
_lock = threading.Lock()


def seal(plaintext: str, *, purpose: str, owner: str) -> str:
    return seal_bytes(plaintext.encode("utf-8"), purpose=purpose, owner=owner)


def seal_bytes(plaintext: bytes, *, purpose: str, owner: str) -> str:
    """Bytes sealed as `seal` seals text (same stored form; open with open_bytes)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = _data_key(purpose)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key.plaintext).encrypt(nonce, plaintext, _aad(purpose, owner))
    return f"{PREFIX}{_b64(key.encrypted)}:{_b64(nonce + sealed)}"


def open_sealed(stored: str, *, purpose: str, owner: str) -> str:
    """A value of `seal` (or an older plain KMS ciphertext) back in plaintext; raises if it is not
    this purpose's and owner's (cryptography's InvalidTag, or KMS's InvalidCiphertextException)."""
    if not stored.startswith(PREFIX):
        from bookinghub.aws.kms import decrypt_secret

        return decrypt_secret(stored, purpose=purpose, owner=owner)
    return open_bytes(stored, purpose=purpose, owner=owner).decode("utf-8")


def open_bytes(stored: str, *, purpose: str, owner: str) -> bytes:
    """A value of `seal_bytes` back; raises (InvalidTag, ValueError) if it is not this purpose's and owner's."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not stored.startswith(PREFIX):
        raise ValueError("not a sealed value")
    encrypted_key, _, body = stored[len(PREFIX) :].partition(":")
    raw = base64.b64decode(body)
    key = _opened_key(base64.b64decode(encrypted_key), purpose)
    return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(purpose, owner))


def forget_data_keys() -> None:
    """Drop every data key held in memory (tests; a process that changes KMS keys)."""
    with _lock:
        _sealing.clear()
        _opened.clear()


def _data_key(purpose: str) -> _DataKey:
    with _lock:
        key = _sealing.get(purpose)
        if key is not None and key.expires > time.monotonic() and key.uses < DATA_KEY_MAX_USES:
            key.uses += 1
            return key
    response = client("kms").generate_data_key(
        KeyId=get_settings().secrets_kms_key_id, KeySpec="AES_256", EncryptionContext={"purpose": purpose}
    )
    key = _DataKey(
        plaintext=bytes(response["Plaintext"]),
        encrypted=bytes(response["CiphertextBlob"]),
        expires=time.monotonic() + DATA_KEY_MAX_AGE_SECONDS,
        uses=1,
    )
    with _lock:
        _sealing[purpose] = key
        _remember(key.encrypted, key.plaintext)  # values sealed here are read back here without KMS
    return key


def _opened_key(encrypted: bytes, purpose: str) -> bytes:
    with _lock:
        cached = _opened.get(encrypted)
        if cached is not None and cached[0] > time.monotonic():
            _opened.move_to_end(encrypted)
            return cached[1]
    # The context must match the one it was generated with: a data key of another purpose fails here
    response = client("kms").decrypt(CiphertextBlob=encrypted, EncryptionContext={"purpose": purpose})
    plaintext = bytes(response["Plaintext"])
    with _lock:
        _remember(encrypted, plaintext)
    return plaintext


def _remember(encrypted: bytes, plaintext: bytes) -> None:
    """Under _lock."""
    _opened[encrypted] = (time.monotonic() + DATA_KEY_MAX_AGE_SECONDS, plaintext)
    _opened.move_to_end(encrypted)
    while len(_opened) > OPENED_KEYS_SIZE:
        _opened.popitem(last=False)


def _aad(purpose: str, owner: str) -> bytes:
    return f"{purpose}\x1f{owner}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
