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


# --- aws/envelope: many values, one KMS call per execution environment ----------------------------------


def test_sealed_values_share_one_data_key_and_open_with_one_decrypt(kms_calls: list[str]) -> None:
    from bookinghub.aws import envelope, kms

    sealed = [envelope.seal(f"{n:06d}", purpose="lock-code", owner=f"pass-{n}") for n in range(5)]
    assert kms_calls == ["GenerateDataKey"]
    assert all(value.startswith(envelope.PREFIX) and f"{n:06d}" not in value for n, value in enumerate(sealed))
    assert len(set(sealed)) == 5

    kms.forget_decrypted()  # another execution environment (the passes API) reads them
    opened = [envelope.open_sealed(value, purpose="lock-code", owner=f"pass-{n}") for n, value in enumerate(sealed)]
    assert opened == [f"{n:06d}" for n in range(5)]
    assert kms_calls == ["GenerateDataKey", "Decrypt"]


def test_bytes_are_sealed_the_same_way_and_open_only_for_their_owner(kms_calls: list[str]) -> None:
    from cryptography.exceptions import InvalidTag

    from bookinghub.aws import envelope, kms

    raw = bytes(range(256)) * 4  # not text: a compressed webhook body
    sealed = envelope.seal_bytes(raw, purpose="beds24_webhook_body", owner="org/prop/key-1")
    assert sealed.startswith(envelope.PREFIX)
    kms.forget_decrypted()  # the consumer's environment
    assert envelope.open_bytes(sealed, purpose="beds24_webhook_body", owner="org/prop/key-1") == raw
    assert kms_calls == ["GenerateDataKey", "Decrypt"]
    with pytest.raises(InvalidTag):  # moved onto another event
        envelope.open_bytes(sealed, purpose="beds24_webhook_body", owner="org/prop/key-2")
    with pytest.raises(ValueError, match="not a sealed value"):
        envelope.open_bytes("AQICAHplain-kms-ciphertext", purpose="beds24_webhook_body", owner="org/prop/key-1")


def test_a_sealed_value_opens_only_for_its_owner_and_purpose(kms_calls: list[str]) -> None:
    from botocore.exceptions import ClientError
    from cryptography.exceptions import InvalidTag

    from bookinghub.aws import envelope, kms

    sealed = envelope.seal("123456", purpose="lock-code", owner="pass-a")
    with pytest.raises(InvalidTag):  # copied onto another pass's row
        envelope.open_sealed(sealed, purpose="lock-code", owner="pass-b")
    kms.forget_decrypted()
    with pytest.raises(ClientError):  # the data key's own context names its purpose
        envelope.open_sealed(sealed, purpose="webhook", owner="pass-a")
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises((InvalidTag, ValueError)):
        envelope.open_sealed(tampered, purpose="lock-code", owner="pass-a")


def test_the_data_key_is_replaced_after_its_uses_or_its_age(
    kms_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.aws import envelope

    monkeypatch.setattr(envelope, "DATA_KEY_MAX_USES", 2)
    keys = {envelope.seal("x", purpose="p", owner="o").split(":")[1] for _ in range(4)}
    assert len(keys) == 2
    assert kms_calls.count("GenerateDataKey") == 2

    later = envelope.time.monotonic() + envelope.DATA_KEY_MAX_AGE_SECONDS + 1
    monkeypatch.setattr(envelope.time, "monotonic", lambda: later)
    envelope.seal("x", purpose="p", owner="o")
    assert kms_calls.count("GenerateDataKey") == 3


def test_a_plain_kms_ciphertext_still_opens(kms_calls: list[str]) -> None:
    from bookinghub.aws import envelope, kms

    old = kms.encrypt_secret("123456", purpose="lock-code", owner="pass-a")
    kms.forget_decrypted()
    assert envelope.open_sealed(old, purpose="lock-code", owner="pass-a") == "123456"
    assert kms_calls == ["Encrypt", "Decrypt"]
