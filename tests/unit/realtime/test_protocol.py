"""The real-time protocol's messages, ids, scopes and the management adapter's error handling."""

from __future__ import annotations

import pytest

from bookinghub.realtime.logic.ids import id_millis, new_event_id
from bookinghub.realtime.logic.scope import Scope
from bookinghub.realtime.models import FRAME_LIMIT, ProtocolError, Subscribe, TimelineEvent, encode, parse_message


def test_messages_parse_strictly() -> None:
    message = parse_message('{"action":"subscribe","filter":{"user_id":" Jane@X.test "}}')
    assert isinstance(message, Subscribe)
    assert message.filter.key == "user_id:jane@x.test"
    for body, code in [
        ("", "INVALID_MESSAGE"),
        ("[]", "INVALID_MESSAGE"),
        ('{"action":"nope"}', "UNKNOWN_ACTION"),
        ('{"action":"subscribe","filter":{}}', "INVALID_MESSAGE"),
        ('{"action":"subscribe","filter":{"booking_id":"a"},"extra":1}', "INVALID_MESSAGE"),
        ('{"action":"subscribe","filter":{"booking_id":"a"},"since":"x"}', "INVALID_MESSAGE"),
        ('{"action":"subscribe","filter":{"guest_id":"a"}}', "INVALID_MESSAGE"),
    ]:
        with pytest.raises(ProtocolError) as raised:
            parse_message(body)
        assert raised.value.code == code, body


def test_ids_sort_by_time_then_sequence_and_never_go_back_within_a_booking() -> None:
    first = new_event_id(1, now_ms=1_000)
    assert id_millis(first) == 1_000
    assert len(first) == 26
    later_but_slow_clock = new_event_id(2, previous_id=first, now_ms=900)
    assert id_millis(later_but_slow_clock) == 1_000
    assert later_but_slow_clock > first
    assert new_event_id(1, now_ms=1_001) > later_but_slow_clock
    assert parse_message(f'{{"action":"subscribe","filter":{{"booking_id":"b"}},"since":"{first}"}}')


def test_scopes_follow_the_admin_api_rules() -> None:
    staff = Scope("operator", "s", "staff", "org", frozenset({"w1"}))
    assert staff.sees("org", "w1")
    assert not staff.sees("org", "w2")
    assert not staff.sees("other", "w1")
    admin = Scope("operator", "a", "admin", "org", frozenset())
    assert admin.sees("org", "w2")
    assert not admin.sees("other", "w2")
    assert Scope("operator", "r", "superadmin", None, frozenset()).sees("any", "w")
    website = Scope.of_website("w1", "org")
    assert website.sees("org", "w1")
    assert not website.sees("org", "w2")
    assert Scope.from_item(website.to_item()) == website


def test_frames_stay_under_32_kb() -> None:
    small = TimelineEvent("A" * 26, "b", 3, "booking.updated", "t", {"x": 1}, "w", "o", None)
    assert small.frame("booking_id:b")["data"] == {"x": 1}
    big = TimelineEvent("A" * 26, "b", 3, "booking.updated", "t", {"x": "é" * 20_000}, "w", "o", None)
    frame = big.frame("booking_id:b")
    assert frame["type"] == "event_ref"
    assert len(encode(frame)) < FRAME_LIMIT


def test_gone_and_throttled_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.stub import Stubber

    from bookinghub.realtime.adapters import management

    monkeypatch.setenv("REALTIME_MANAGEMENT_URL", "https://example.execute-api.us-east-1.amazonaws.com/test")
    api = management.management_client()
    sleeps: list[float] = []
    with Stubber(api) as stub:
        stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
        with pytest.raises(management.ConnectionGone):
            management.post("c1", b"{}", sleep=sleeps.append)
        for _ in range(management.RETRIES + 1):
            stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        with pytest.raises(management.Throttled):
            management.post("c1", b"{}", sleep=sleeps.append)
        assert len(sleeps) == management.RETRIES
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        stub.add_response("post_to_connection", {}, {"ConnectionId": "c1", "Data": b"{}"})
        management.post("c1", b"{}", sleep=sleeps.append)  # a throttle, then through
        stub.assert_no_pending_responses()


def test_a_resume_may_name_at_most_the_overlap_of_seen_ids() -> None:
    from bookinghub.realtime.models import RESUME_OVERLAP

    ids = [new_event_id(1) for _ in range(RESUME_OVERLAP + 1)]
    ok = parse_message(f'{{"action":"subscribe","filter":{{"website_id":"w"}},"since":"{ids[0]}","seen":[]}}')
    assert isinstance(ok, Subscribe)
    assert ok.seen == []
    too_many = ",".join(f'"{i}"' for i in ids)
    with pytest.raises(ProtocolError) as refused:
        parse_message(f'{{"action":"subscribe","filter":{{"website_id":"w"}},"since":"{ids[0]}","seen":[{too_many}]}}')
    assert refused.value.code == "INVALID_MESSAGE"


def test_the_client_cursor_keeps_the_furthest_position_and_what_it_saw_before_it() -> None:
    from clients.realtime_client import RESUME_OVERLAP, Cursor

    cursor = Cursor()
    for position in (1, 2, 4, 3, 6):  # 5 overtaken by 6
        cursor.add({"id": f"id{position}", "position": position})
    assert (cursor.since, cursor.position) == ("id6", 6)
    assert cursor.subscribe_fields() == {"since": "id6", "seen": ["id1", "id2", "id3", "id4"]}
    assert cursor.has_seen({"id": "id3", "position": 3})
    assert not cursor.has_seen({"id": "id5", "position": 5})
    cursor.add({"id": "far", "position": 5 + RESUME_OVERLAP})
    assert cursor.seen == {"id6": 6}  # only what the hub's overlap can still replay
    assert Cursor.from_json("01OLDID").subscribe_fields() == {"since": "01OLDID"}  # an older cursor file
    assert Cursor.from_json(cursor.as_json()) == cursor
