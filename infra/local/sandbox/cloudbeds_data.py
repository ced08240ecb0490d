"""Deterministic demo data for the Cloudbeds sandbox, shaped like Cloudbeds API v1.3's answers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

DEMO_PROPERTY_ID = "200001"
DEMO_API_KEY = "cbat_local_demo_key_0001"  # LOCAL DEMO VALUE: the sandbox's only valid key
CURRENCY = "THB"
ROOM_COUNT = 25  # more than one getRooms page (20)
RESERVATION_COUNT = 12
STATUSES = ("not_confirmed", "confirmed", "canceled", "checked_in", "checked_out", "no_show")
_FIRST = ("Malee", "Somchai", "Anna", "Lukas", "Yuki", "Priya")
_LAST = ("Srisuk", "Chaiyo", "Berg", "Weber", "Tanaka", "Rao")


def rooms() -> list[dict[str, Any]]:
    return [
        {
            "roomID": f"{500000 + i}",
            "roomName": f"{100 + i}",
            "roomTypeID": "9001" if i % 2 else "9002",
            "roomTypeName": "Deluxe" if i % 2 else "Standard",
            "roomTypeNameShort": "DLX" if i % 2 else "STD",
            "maxGuests": 2,
            "isPrivate": True,
            "isVirtual": False,
            "roomBlocked": i == 24,
        }
        for i in range(1, ROOM_COUNT + 1)
    ]


def housekeeping(all_rooms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "date": "2026-01-10 09:00:00",
            "roomTypeID": room["roomTypeID"],
            "roomTypeName": room["roomTypeName"],
            "roomID": room["roomID"],
            "roomName": room["roomName"],
            "roomCondition": "dirty" if index % 3 == 0 else "clean",
            "roomOccupied": index % 4 == 0,
            "roomBlocked": room["roomBlocked"],
            "frontdeskStatus": "stayover" if index % 4 == 0 else "unused",
        }
        for index, room in enumerate(all_rooms)
    ]


def guest(index: int) -> dict[str, Any]:
    first, last = _FIRST[index % len(_FIRST)], _LAST[index % len(_LAST)]
    return {
        "guestID": f"{700000 + index}",
        "guestFirstName": first,
        "guestLastName": last,
        "guestName": f"{first} {last}",
        "guestEmail": f"{first.lower()}.{last.lower()}{index}@example.com",
        "guestPhone": f"+66 81 555 {1000 + index}",
        "guestCountry": "TH" if index % 2 else "DE",
        "isMainGuest": True,
        "isAnonymized": False,
    }


def reservation(index: int) -> dict[str, Any]:
    check_in = date(2026, 1, 5) + timedelta(days=3 * index)
    main = guest(index)
    nights = 1 + index % 4
    rate = 1800 + 150 * (index % 5)
    total = rate * nights
    room = rooms()[index % ROOM_COUNT]
    modified = f"2026-01-0{1 + index % 9} 10:{index:02d}:00"
    return {
        "propertyID": DEMO_PROPERTY_ID,
        "reservationID": f"CB{880000 + index}",
        "isDeleted": False,
        "dateCreated": "2025-12-20 08:00:00",
        "dateCreatedUTC": "2025-12-20T01:00:00Z",
        "dateModified": modified,
        "dateModifiedUTC": modified.replace(" ", "T") + "Z",
        "status": STATUSES[index % len(STATUSES)],
        "reservationCheckIn": check_in.isoformat(),
        "reservationCheckOut": (check_in + timedelta(days=nights)).isoformat(),
        "guestID": main["guestID"],
        "guestCountry": main["guestCountry"],
        "sourceName": "Booking.com" if index % 2 else "Website/Booking Engine",
        "source": {
            "name": "Booking.com" if index % 2 else "Website/Booking Engine",
            "paymentCollect": "hotel",
            "sourceID": "s-2" if index % 2 else "s-1",
            "category": "OTA" if index % 2 else "Direct",
        },
        "sourceCategory": "OTA" if index % 2 else "Direct",
        "propertyCurrency": CURRENCY,
        "balanceDetailed": {"subTotal": total, "additionalItems": 0, "taxesFees": 0, "grandTotal": total, "paid": rate},
        "detailedRates": {(check_in + timedelta(days=n)).isoformat(): rate for n in range(nights)},
        "rooms": [
            {
                "roomTypeID": room["roomTypeID"],
                "roomTypeName": room["roomTypeName"],
                "subReservationID": f"CB{880000 + index}-1",
                "roomID": room["roomID"],
                "roomName": room["roomName"],
                "roomCheckIn": check_in.isoformat(),
                "roomCheckOut": (check_in + timedelta(days=nights)).isoformat(),
                "adults": "2",
                "children": "0",
            }
        ],
        "guestList": {main["guestID"]: main},
        "total": total,
        "balance": total - rate,  # what is still owed: never the booking's total
    }


def reservations() -> list[dict[str, Any]]:
    return [reservation(i) for i in range(RESERVATION_COUNT)]
