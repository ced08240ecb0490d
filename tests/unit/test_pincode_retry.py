"""The pincode retry schedule: exponential backoff with jitter over 24 h, matched by the queue's settings."""

from __future__ import annotations

from bookinghub.payments.logic import pincode_retry
from infra import topology


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    assert [pincode_retry.nominal_delay(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert pincode_retry.nominal_delay(1000) == 3600


def test_schedule_spans_the_24_hour_window() -> None:
    delays = pincode_retry.nominal_schedule()
    assert sum(delays) >= 24 * 3600
    assert sum(delays[:-1]) < 24 * 3600  # no attempt more than needed
    assert pincode_retry.MAX_ATTEMPTS == len(delays) + 1 == 31


def test_jitter_stays_within_20_percent() -> None:
    for attempt in (1, 5, 8, 30):
        nominal = pincode_retry.nominal_delay(attempt)
        low = pincode_retry.retry_delay(attempt, rand=lambda: 0.0)
        high = pincode_retry.retry_delay(attempt, rand=lambda: 0.999999)
        assert low == round(nominal * 0.8)
        assert high == round(nominal * 1.2)
    assert pincode_retry.retry_delay(1, rand=lambda: 0.25) != pincode_retry.retry_delay(1, rand=lambda: 0.75)


def test_last_attempt() -> None:
    assert not pincode_retry.is_last_attempt(30)
    assert pincode_retry.is_last_attempt(31)
    assert pincode_retry.is_last_attempt(40)


def test_queue_lets_every_attempt_happen_before_the_dlq() -> None:
    queue = topology.queue("PassIssuance")
    assert queue.max_receive_count == pincode_retry.MAX_ATTEMPTS
    # The slowest jittered schedule still ends well before the messages expire
    slowest = sum(round(d * 1.2) for d in pincode_retry.nominal_schedule())
    assert slowest < queue.retention_days * 86400
    consumer = topology.queue_consumer("PassIssuance")
    assert consumer.name == "issue_pincodes"
    # A whole batch of Rooms calls at the default 10 s timeout fits in the consumer's timeout
    assert consumer.queue is not None
    assert consumer.queue.batch_size * 10 < consumer.timeout_seconds


def test_stripe_webhook_topology() -> None:
    fn = topology.function("stripe_webhook")
    (route,) = fn.routes
    assert (route.method, route.path, route.json_body) == ("POST", "/api/webhooks/stripe", False)
    assert fn.access.send_queues == ("PassIssuance",)
    readers = [f.name for f in topology.FUNCTIONS if "StripeWebhookSecret" in f.access.read_secrets]
    assert readers == ["stripe_webhook"]
    assert {s.name for s in topology.SECRETS} == {"StripeWebhookSecret", "DeliveryProducerSecret"}
    assert topology.secret("StripeWebhookSecret").env_var == "STRIPE_WEBHOOK_SECRET_ARN"
