"""The broadcaster function on its stream: partial failures, order kept per booking, throttles."""

from __future__ import annotations

from typing import Any

import pytest

from bookinghub.aws.codec import to_item
from tests.integration.conftest import TEST_KEY, outbox_events
from tests.integration.realtime.conftest import Posts, make_booking, send, update_booking, website_connection

pytestmark = pytest.mark.usefixtures("test_website", "watching")


def stream_event(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventID": f"e{n}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {"NewImage": to_item(item), "SequenceNumber": str(100 + n), "StreamViewType": "NEW_IMAGE"},
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/bookinghub-Bookings/stream/x",
            }
            for n, item in enumerate(items)
        ]
    }


def test_a_failed_event_holds_back_the_later_ones_of_its_booking_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from bookinghub.realtime.dal import timeline
    from infra.local.invoke import invoke

    first = make_booking("bf-1")
    update_booking("bf-1", 3, "2026-02-21T10:00:00Z")
    other = make_booking("bf-2")
    items = sorted(outbox_events(first), key=lambda i: i["SK"]) + outbox_events(other)
    calls: list[str] = []
    from bookinghub.realtime.logic import timeline as placing

    real_place = placing.place

    def flaky(event: Any, event_sk: str, watched: set[str]) -> Any:
        calls.append(event.booking_id)
        if event.booking_id == first and len(calls) == 1:
            raise RuntimeError("DynamoDB hiccup")
        return real_place(event, event_sk, watched)

    monkeypatch.setattr(placing, "place", flaky)
    monkeypatch.setenv("REALTIME_MANAGEMENT_URL", "http://127.0.0.1:9")  # nobody subscribes: never called
    answer = invoke("realtime_broadcaster", stream_event(items))
    # The creation failed, so the update of the same booking waits; the other booking went through
    assert answer == {"batchItemFailures": [{"itemIdentifier": "100"}, {"itemIdentifier": "101"}]}
    assert calls == [first, other]
    # The stream retries from the first failure, in order: sequences come out right
    answer = invoke("realtime_broadcaster", stream_event(items[:2]))
    assert answer == {"batchItemFailures": []}
    assert [(e.sequence, e.event_type) for e in timeline.after(f"booking_id:{first}")] == [
        (1, "booking.created"),
        (2, "booking.updated"),
    ]


def test_a_throttled_post_fails_the_event_after_posting_to_the_others(posts: Posts) -> None:
    from bookinghub.realtime.adapters.management import Throttled
    from bookinghub.realtime.logic.broadcast import broadcast

    booking = make_booking("bt-1")
    for connection_id in ("ok", "busy"):
        website_connection(connection_id, TEST_KEY)
        send(connection_id, posts, action="subscribe", filter={"booking_id": booking})
    posts.throttled.add("busy")
    (item,) = outbox_events(booking)
    with pytest.raises(Throttled):
        broadcast(item, post=posts)
    assert [e["sequence"] for e in posts.events("ok")] == [1]
    posts.throttled.clear()
    broadcast(item, post=posts)  # the redelivery: same id and sequence
    assert [e["sequence"] for e in posts.events("busy")] == [1]
    assert posts.events("ok")[-1]["id"] == posts.events("busy")[0]["id"]


def test_a_marked_item_is_placed_in_the_keys_the_relay_found_without_reading_the_watches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The relay's marking (events/realtime_broadcaster/watched_change.json): the broadcaster takes the
    keys the relay found watched from the mark and reads no watch itself."""
    from bookinghub.realtime.dal import connections, timeline
    from infra.local.invoke import invoke
    from tests.conftest import load_event

    def no_read(*_: Any, **__: Any) -> set[str]:
        raise AssertionError("the broadcaster read the watches of a marked item")

    monkeypatch.setattr(connections, "watched", no_read)
    monkeypatch.setenv("REALTIME_MANAGEMENT_URL", "http://127.0.0.1:9")  # nobody subscribes: never called
    assert invoke("realtime_broadcaster", load_event("realtime_broadcaster/watched_change")) == {
        "batchItemFailures": []
    }
    (record,) = load_event("realtime_broadcaster/watched_change")["Records"]
    # (the sample is older than the 7-day window, so its entries read as expired: its placement says where)
    placed = timeline.placement(record["dynamodb"]["NewImage"]["rt"]["S"])
    assert placed == {"website_id:test-website": 1, "user_id:jane.doe@example.com": 1, "provider_id:demo-org": 1}
