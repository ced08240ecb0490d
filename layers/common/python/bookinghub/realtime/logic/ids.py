"""Timeline event ids: sortable by append time, ordered within a booking, unique across bookings.

26 Crockford base32 characters (ULID's alphabet): 10 of milliseconds, 6 of the booking's sequence, 10
random. Within a booking the time part never goes backwards (it is at least the previous event's, so a
Lambda host with a slower clock cannot reorder a booking), and the sequence breaks ties.
"""

from __future__ import annotations

import secrets
import time

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
