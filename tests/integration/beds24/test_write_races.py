"""What happens when two writers meet (issue 5: "a change older than the stored modifiedTime never overwrites
newer data"; "idempotency on the event"): a webhook applied while a pull sync holds a page, a consumer faster
than the webhook handler, a redelivery overlapping the first delivery, and a booking whose hub-side mapping
changed while Beds24's data did not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.resources import LocalResources
from tests.integration.beds24.hub import (
    deliver,
    drain_events,
    let_time_pass,
    queued,
    queued_bodies,
    reservation,
    set_property,
    stored_event,
    sync,
)
from tests.integration.beds24.sandbox import Sandbox


def test_a_webhook_arriving_while_a_sync_page_is_in_flight_waits_for_the_run(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page writes its new reservations in unconditional batches; a webhook consumed meanwhile must not
    be overwritten by the page's older data: it waits for the run, then applies what Beds24 says then."""
    from bookinghub.beds24.dal import reservations

    booking_id = beds24.create(price=10500)
    put_new = reservations.put_new
    raced: list[str] = []

    def webhook_lands_first(new: Any) -> int:
        # The page was read (the hub had no reservation yet); before its batch is written, the booking
        # changes in Beds24 and its webhook is consumed
        if not raced:
            beds24.modify(booking_id, price=15000)
            status, answer = deliver(beds24.webhooks(booking_id)[-1])
            assert status == 200
            raced.append(answer["event_key"])
            assert drain_events(aws) == (1, 0)  # handled: re-queued to wait for the run
            assert reservation(booking_id) is None  # nothing written under the page's feet
        return put_new(new)

    monkeypatch.setattr(reservations, "put_new", webhook_lands_first)
    run = sync(aws, "full")
    assert raced
    assert run.status == "succeeded"
    assert run.counts.created >= 1
    assert stored_event(raced[0]) is None  # not final: queued again, its message counts the wait
    (waiting,) = queued_bodies("Beds24Events")
    assert json.loads(waiting)["deferrals"] == 1

    let_time_pass("Beds24Events")
    assert drain_events(aws) == (1, 0)  # the run is over: applied, re-read from Beds24
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["modified_time"] == beds24.booking(booking_id)["modifiedTime"]
    assert stored["price"] == 15000
    applied = stored_event(raced[0])
    assert applied is not None
    assert (applied["status"], applied["deferrals"]) == ("processed", 1)


def test_a_change_to_a_known_reservation_is_applied_beside_a_run_and_the_run_s_older_data_loses(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only new reservations are written blind by a run: a webhook for one the hub has does not wait (no
    consistent property read), and the run's conditional write of its older page refuses to replace it."""
    from bookinghub.beds24.dal import reservations
    from tests.integration.beds24.meter import DynamoMeter

    booking_id = beds24.create(price=10500)
    assert sync(aws, "full").status == "succeeded"
    beds24.modify(booking_id, price=12000)  # what the next run's page will hold (a second later: the sandbox clock)
    put_if_newer = reservations.put_if_newer
    raced: list[str] = []

    def webhook_lands_first(reservation_: Any, **options: Any) -> bool:
        if not raced:  # the page was read; before its write, Beds24 changes again and the webhook is applied
            raced.append("")
            beds24.modify(booking_id, price=15000)
            status, answer = deliver(beds24.webhooks(booking_id)[-1])
            assert status == 200
            raced[0] = answer["event_key"]
            with DynamoMeter() as meter:
                assert drain_events(aws) == (1, 0)
            looks = [r for r in meter.requests if "INTEGRATION#" in str(r.params.get("Key"))]
            assert [r for r in looks if r.params.get("ConsistentRead")] == []  # no look for the run, no wait
            assert (reservation(booking_id) or {})["price"] == 15000
        return put_if_newer(reservation_, **options)

    monkeypatch.setattr(reservations, "put_if_newer", webhook_lands_first)
    run = sync(aws, "full")
    assert raced, run
    assert run.status == "succeeded", run
    assert (stored_event(raced[0]) or {})["status"] == "processed"
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["price"] == 15000  # the run's older page did not win
    assert stored["modified_time"] == beds24.booking(booking_id)["modifiedTime"]


def test_a_fast_consumer_s_final_status_is_not_reset_to_queued(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.beds24.logic import webhooks as beds24_webhooks

    send = beds24_webhooks.send_webhook_event

    def consumed_at_once(event: Any) -> str:
        message_id = send(event)
        assert drain_events(aws) == (1, 0)  # Lambda's poller is quicker than the handler's next request
        return message_id

    monkeypatch.setattr(beds24_webhooks, "send_webhook_event", consumed_at_once)
    booking_id = beds24.create()
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert (status, answer["status"]) == (200, "queued")
    assert reservation(booking_id) is not None

    event = stored_event(answer["event_key"])
    assert event is not None
    assert event["outcome"] == "created"
    assert event["status"] == "processed"


def test_a_redelivery_overlapping_the_first_delivery_is_applied_once_and_recorded_once(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookinghub.beds24.logic import webhooks as beds24_webhooks
    from tests.integration.beds24.meter import DynamoMeter

    booking_id = beds24.create()
    (sent,) = beds24.webhooks(booking_id)
    send = beds24_webhooks.send_webhook_event
    overlapping: list[tuple[int, dict[str, Any]]] = []
    redelivered: list[bool] = []

    def slow_send(event: Any) -> str:
        if not redelivered:  # Beds24 delivers again while the first delivery is still queueing it
            redelivered.append(True)
            overlapping.append(deliver(sent))
        return send(event)

    monkeypatch.setattr(beds24_webhooks, "send_webhook_event", slow_send)
    status, first = deliver(sent)
    assert (status, first["status"]) == (200, "queued")
    ((status, second),) = overlapping
    assert (status, second["status"], second["event_key"]) == (200, "queued", first["event_key"])
    assert queued(aws, "Beds24Events") == 2  # both acknowledged, both queued: the consumer tells them apart
    with DynamoMeter() as meter:
        assert drain_events(aws) == (2, 0)
    assert len(meter.writes_to("RESERVATION#")) == 1
    event = stored_event(first["event_key"])
    assert event is not None
    assert (event["status"], event["outcome"]) == ("processed", "created")


def test_fixing_the_room_mapping_clears_needs_attention_on_the_next_full_sync(
    aws: LocalResources, beds24: Sandbox, prop: Any
) -> None:
    from bookinghub.beds24.logic.apply import parse_booking
    from bookinghub.beds24.logic.mapping import content_fields, content_hash

    unmapped = set_property(room_mapping={"501": "Deluxe Double", "502": "Family Suite"})
    mapped = unmapped.model_copy(update={"room_mapping": {**unmapped.room_mapping, "503": "Garden Bungalow"}})

    def hashes(booking_id: int) -> tuple[str, str]:
        booking = parse_booking(beds24.booking(booking_id))
        return content_hash(content_fields(booking, unmapped)), content_hash(content_fields(booking, mapped))

    # A booking whose hash after the fix sorts below its hash before (one in two does)
    for attempt in range(30):
        booking_id = beds24.create(roomId=503, email=f"guest{attempt}@example.com")
        before, after = hashes(booking_id)
        if after < before:
            break
    else:
        pytest.fail("no booking with a lower hash after the mapping fix")

    assert sync(aws, "full").counts.needs_attention >= 1
    flagged = reservation(booking_id)
    assert flagged is not None
    assert flagged["needs_attention"] is True

    set_property(room_mapping=mapped.room_mapping)
    run = sync(aws, "full")
    assert run.status == "succeeded"
    fixed = reservation(booking_id)
    assert fixed is not None
    assert fixed.get("room") == "Garden Bungalow"
    assert fixed["needs_attention"] is False
    assert fixed["attention_reasons"] == []


def _lagging_reads(monkeypatch: pytest.MonkeyPatch, lag: dict[str, Any] | None) -> list[bool]:
    """Eventually consistent reservation reads that lag: they find `lag` (None: nothing) whatever is
    stored; consistent reads see the table. Returns the consistency of every read, in order."""
    from bookinghub.beds24.dal import reservations

    get = reservations.get_reservations
    reads: list[bool] = []

    def lagging(ids: Any, *, consistent: bool = True) -> dict[str, dict[str, Any]]:
        reads.append(consistent)
        if consistent:
            return get(ids, consistent=True)
        return {} if lag is None else {str(lag["id"]): dict(lag)}

    monkeypatch.setattr(reservations, "get_reservations", lagging)
    return reads


def test_a_stale_change_never_wins_over_an_eventually_consistent_read_that_lags(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: the consumer reads the reservation eventually consistent; a read that has not seen the
    stored reservation yet makes its write (conditional on the version read) fail, and the booking is
    decided again on a consistent read: the older webhook's change is stale, nothing is written."""
    from tests.integration.beds24.meter import DynamoMeter

    set_property(reread_on_webhook=False)  # applied as sent: the older webhook's data is the stale change
    booking_id = beds24.create(price=10500)
    beds24.modify(booking_id, price=15000)
    older, newer = beds24.webhooks(booking_id)[-2:]
    deliver(newer)
    assert drain_events(aws) == (1, 0)
    stored = reservation(booking_id)
    assert stored is not None
    assert stored["price"] == 15000

    reads = _lagging_reads(monkeypatch, None)  # the lagging read has not seen the reservation at all
    status, answer = deliver(older)  # Beds24's older change arrives late
    assert status == 200
    with DynamoMeter() as meter:
        assert drain_events(aws) == (1, 0)
    assert reads == [False, True]
    assert [r.operation for r in meter.writes_to("RESERVATION#")] == ["PutItem"]  # refused: it exists
    assert reservation(booking_id) == stored  # the newer data stays
    assert (stored_event(answer["event_key"]) or {})["outcome"] == "stale"


def test_a_change_read_against_a_lagging_version_is_decided_again_on_the_stored_one(
    aws: LocalResources, beds24: Sandbox, prop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lagging read finds an older version than the stored one: the write requires that version and
    fails, and the consistent retry writes Beds24's change over the version really stored (its creation
    time and each field's change time come from it)."""
    booking_id = beds24.create(price=10500)
    deliver(beds24.webhooks(booking_id)[-1])
    assert drain_events(aws) == (1, 0)
    first = reservation(booking_id)
    assert first is not None
    beds24.modify(booking_id, price=15000)
    deliver(beds24.webhooks(booking_id)[-1])
    assert drain_events(aws) == (1, 0)
    second = reservation(booking_id)
    assert second is not None
    assert second["price"] == 15000

    reads = _lagging_reads(monkeypatch, first)
    beds24.modify(booking_id, numAdult=3)
    status, answer = deliver(beds24.webhooks(booking_id)[-1])
    assert status == 200
    assert drain_events(aws) == (1, 0)
    assert reads == [False, True]
    third = reservation(booking_id)
    assert third is not None
    assert (third["price"], third["num_adult"]) == (15000, 3)
    assert third["created_at"] == first["created_at"]
    assert (third.get("field_times") or {}).get("price") == second["modified_time"]  # not this change's
    assert (stored_event(answer["event_key"]) or {})["outcome"] == "modified"
