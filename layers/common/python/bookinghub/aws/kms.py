"""Secrets the hub must read back (webhook signing secrets, provider tokens) are KMS-encrypted.

The ciphertext is bound to its purpose and owner with an encryption context, so a ciphertext copied
from one website's row cannot be decrypted as another's.
"""

from __future__ import annotations

import base64

from bookinghub.aws.clients import client
from bookinghub.core.settings import get_settings


def encrypt_secret(plaintext: str, *, purpose: str, owner: str) -> str:
    response = client("kms").encrypt(
        KeyId=get_settings().secrets_kms_key_id,
        Plaintext=plaintext.encode("utf-8"),
        EncryptionContext={"purpose": purpose, "owner": owner},
    )
    return base64.b64encode(response["CiphertextBlob"]).decode("ascii")


def decrypt_secret(ciphertext: str, *, purpose: str, owner: str) -> str:
    response = client("kms").decrypt(
        CiphertextBlob=base64.b64decode(ciphertext),
        EncryptionContext={"purpose": purpose, "owner": owner},
    )
    return bytes(response["Plaintext"]).decode("utf-8")
