"""aws/kms: decrypted secrets are cached per execution environment, bounded in size and time, and the
encryption context still decides who may read a ciphertext."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.resources import LocalResources


@pytest.fixture
def kms_calls(aws: LocalResources) -> Iterator[list[str]]:
    from bookinghub.aws.clients import client

    calls: list[str] = []
    kms = client("kms")
    kms.meta.events.register("before-call.kms.*", lambda model, **_: calls.append(model.name))
    yield calls
    kms.meta.events.unregister("before-call.kms.*")


def test_a_secret_is_decrypted_once_then_served_from_memory(kms_calls: list[str]) -> None:
    from bookinghub.aws.kms import decrypt_secret, encrypt_secret, forget_decrypted

    ciphertext = encrypt_secret("s3cret", purpose="webhook", owner="site-a")
    forget_decrypted()
    assert [decrypt_secret(ciphertext, purpose="webhook", owner="site-a") for _ in range(3)] == ["s3cret"] * 3
    assert kms_calls == ["Encrypt", "Decrypt"]


def test_the_context_still_guards_a_cached_secret(kms_calls: list[str]) -> None:
    from botocore.exceptions import ClientError

    from bookinghub.aws.kms import decrypt_secret, encrypt_secret

    ciphertext = encrypt_secret("s3cret", purpose="webhook", owner="site-a")
    assert decrypt_secret(ciphertext, purpose="webhook", owner="site-a") == "s3cret"
    with pytest.raises(ClientError):  # another owner's row holding the same ciphertext
        decrypt_secret(ciphertext, purpose="webhook", owner="site-b")


def test_entries_expire_and_the_cache_is_bounded(kms_calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bookinghub.aws import kms

    ciphertexts = [kms.encrypt_secret(f"secret-{n}", purpose="p", owner="o") for n in range(3)]
    kms.forget_decrypted()
    monkeypatch.setattr(kms, "DECRYPT_CACHE_SIZE", 2)
    for ciphertext in ciphertexts:
        kms.decrypt_secret(ciphertext, purpose="p", owner="o")
    assert len(kms._decrypted) == 2  # the least recently used one went
    kms.decrypt_secret(ciphertexts[0], purpose="p", owner="o")
    assert kms_calls.count("Decrypt") == 4

    now: list[Any] = [kms.time.monotonic() + kms.DECRYPT_CACHE_SECONDS + 1]
    monkeypatch.setattr(kms.time, "monotonic", lambda: now[0])
    kms.decrypt_secret(ciphertexts[0], purpose="p", owner="o")
    assert kms_calls.count("Decrypt") == 5
