"""Timeline event ids: sortable by append time, ordered within a booking, unique across bookings.

26 Crockford base32 characters (ULID's alphabet): 10 of milliseconds, 6 of the booking's sequence, 10
random. A booking's event ids (event_id_for) are computed from its event item: the change's time, its
sequence, and bits of its domain event id. Within a booking the sequence orders them (positions are its
sequence); the time part follows the writers' clocks. Shared keys' orders are positions too, never ids.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    if number:
        raise ValueError("number too large for its field")
    return "".join(reversed(chars))


def _decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 32 + ALPHABET.index(char)
    return number


def new_event_id(sequence: int, previous_id: str | None = None, now_ms: int | None = None) -> str:
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    if previous_id:
        millis = max(millis, id_millis(previous_id))
    return _encode(millis, 10) + _encode(sequence, 6) + _encode(secrets.randbits(50), 10)


def id_millis(event_id: str) -> int:
    """The append time (epoch milliseconds) an id carries."""
    return _decode(event_id[:10])


def event_id_for(occurred_at: str, sequence: int, domain_event_id: str) -> str:
    """The id of a booking's event at `sequence`, from what its Bookings item holds: the same however
    often it is computed (a redelivered record, a reader), so it is a cursor that needs no id minted
    elsewhere. Time part: when the change was made; random part: from the domain event's own id."""
    millis = int(datetime.fromisoformat(occurred_at).timestamp() * 1000)
    digest = int.from_bytes(hashlib.sha256(domain_event_id.encode()).digest()[:8], "big") >> 14
    return _encode(millis, 10) + _encode(sequence, 6) + _encode(digest, 10)


def id_sequence(event_id: str) -> int:
    """The booking sequence an id carries."""
    return _decode(event_id[10:16])
