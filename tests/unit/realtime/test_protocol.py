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
