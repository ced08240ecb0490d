"""`bookinghub logs`: each source's per-booking query (moto) and their merge, for a synced, edited and
delivered booking, with another booking's rows beside it that must not show."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from bookinghub.aws.keys import booking_id_for
from cli import logs
from infra.local.invoke import invoke
from infra.local.resources import LocalResources
from tests.conftest import load_event
from tests.integration.delivery.conftest import ORG, WEBSITE_ID, Receiver, Reply, pump

SOURCE_ID = "uuid-from-source-database"  # events/sync_bookings/booking_created.json
PAYMENT_INTENT = "pi_xxxxxxxxxxxxx"


def _sync(source_booking_id: str = SOURCE_ID) -> str:
    event = load_event("sync_bookings/booking_created")
    body = json.loads(event["body"])
    body["source_booking_id"] = source_booking_id
    event["body"] = json.dumps(body)
    answer = invoke("sync_bookings", event)
    assert answer["statusCode"] == 200, answer
    from tests.integration.conftest import relay_stream

    relay_stream()  # the booking's event reaches its timeline through the stream (outbox_relay)
    return str(json.loads(answer["body"])["booking_id"])


def _edit(booking_id: str) -> None:
    from bookinghub.bookings.logic.admin import edit_booking
    from bookinghub.bookings.models.admin import BookingEdit
    from bookinghub.core.auth import principal_from_claims

    principal = principal_from_claims(
        {
            "sub": "s",
            "email": "ops@demo.example",
            "token_use": "id",
            "cognito:groups": "admin",
            "custom:organisation_id": ORG,
        }
    )
    result = edit_booking(principal, booking_id, BookingEdit(admin_notes="late pickup"), None)
    assert result.event_id


def _relay(booking_id: str) -> None:
    """What the outbox relay and booking_events do with the booking's newest event: the stream's
    records relayed (the timeline items written), then the newest event fanned out."""
    from bookinghub.bookings.dal.logs import list_events
    from bookinghub.delivery.logic.fanout import fan_out
    from tests.integration.conftest import relay_stream

    relay_stream()
    fan_out(list_events(booking_id)[-1])


def _pass_and_calls(pass_id: str, other_pass: str) -> None:
    from bookinghub.core.clock import iso_now
    from bookinghub.payments.dal.passes import create_pass
    from bookinghub.registry.dal.integrations import put_call_log
    from bookinghub.registry.models import IntegrationCallLog

    now = iso_now()
    assert (
        create_pass(
            {
                "id": pass_id,
                "payment_intent_id": PAYMENT_INTENT,
                "source_event_type": "checkout.session.completed",
                "status": "active",
                "pincode_status": "issued",
                "created_at": now,
                "updated_at": now,
            }
        )
        is None
    )
    for n, (owner, status) in enumerate(((pass_id, "error"), (pass_id, "success"), (other_pass, "success"))):
        put_call_log(
            IntegrationCallLog(
                id=f"call-{n}",
                integration_id="rooms-1",
                integration_type="rooms_event_hub",
                organisation_id=ORG,
                operation="create_reservation",
                status=status,
                pass_id=owner,
                attempt=n + 1,
                created_at=iso_now(),
            )
        )


def test_a_synced_edited_delivered_booking_shows_everything_in_order(
    website: Any, receiver: Receiver, delivery_env: LocalResources
) -> None:
    from bookinghub.bookings.dal.logs import list_events, list_sync_logs
    from bookinghub.delivery.dal.attempts import attempts_of_delivery
    from bookinghub.payments.dal.passes import pass_id_for

    booking_id = _sync()
    other = _sync("another-booking")
    receiver.script = [Reply(503)]  # the sync back fails once, then is delivered
    _edit(booking_id)
    _relay(booking_id)
    pump(delivery_env)  # before the other booking's sync back, so the scripted 503 is this one's
    _edit(other)
    _relay(other)
    pump(delivery_env)
    pass_id = pass_id_for(PAYMENT_INTENT)
    _pass_and_calls(pass_id, pass_id_for("pi_someoneelse"))

    [inbound] = [log for log in list_sync_logs(booking_id) if log.direction == "inbound"]
    assert inbound.event_type == "booking.created"
    assert inbound.booking_id == booking_id
    assert [e.event_type for e in list_events(booking_id)] == ["booking.created", "booking.updated"]

    entries = logs.collect(booking_id)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    sources = [e.source for e in entries]
    assert sources.index("sync") < sources.index("event") < sources.index("delivery")
    attempts = [e for e in entries if e.source == "delivery"]
    assert [(a.status, a.details["http"]) for a in attempts] == [("retrying", 503), ("succeeded", 200)]
    assert {a.details["delivery"] for a in attempts} == {attempts[0].details["delivery"]}
    assert len(attempts_of_delivery(attempts[0].details["delivery"])) == 2
    [stripe] = [e for e in entries if e.source == "stripe"]
    assert stripe.details["payment_intent"] == PAYMENT_INTENT
    rooms = [e for e in entries if e.source == "rooms"]
    assert [r.status for r in rooms] == ["error", "success"]  # the other pass's call is not this booking's
    # Nothing of the other booking: its own sync and its own sync back
    assert all(e.details.get("event_id") not in {ev.event_id for ev in list_events(other)} for e in entries)
    assert len(attempts) == 2


def test_a_booking_without_deliveries_or_payment_shows_its_sync_and_event(
    website: Any, delivery_env: LocalResources
) -> None:
    booking_id = _sync()
    entries = logs.collect(booking_id)
    assert [(e.source, e.what) for e in entries if e.source != "sync"] == [("event", "booking.created")]
    assert entries[0].source == "sync"  # the sync and its event share a timestamp: the sync comes first


def test_an_unknown_booking_is_one_line_and_exit_code_1(
    website: Any, delivery_env: LocalResources, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = booking_id_for(WEBSITE_ID, "never-synced")
    with pytest.raises(logs.BookingNotFound):
        logs.collect(missing)
    code = logs.run(argparse.Namespace(booking=missing, json=False), console=None)  # type: ignore[arg-type]
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert missing in err
    assert "Traceback" not in err


def test_json_output_lists_the_entries(
    website: Any, delivery_env: LocalResources, capsys: pytest.CaptureFixture[str]
) -> None:
    booking_id = _sync()
    capsys.readouterr()  # the sync's own output (its metrics line)
    assert logs.run(argparse.Namespace(booking=booking_id, json=True), console=None) == 0  # type: ignore[arg-type]
    printed = json.loads(capsys.readouterr().out)
    assert {"at", "source", "what", "status", "details"} <= set(printed[0])
    assert [p["source"] for p in printed] == ["sync", "event"]
