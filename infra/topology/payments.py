"""Payments (Stripe) -> passes -> door pincodes from the Rooms Event Hub.

Route/trigger -> function (functions/<name>/handler.py, which calls bookinghub/payments/logic/):
  POST /api/webhooks/stripe           -> stripe_webhook -> PassIssuance queue
  PassIssuance queue                  -> issue_pincodes (calls bookinghub/rooms/adapters/)
  GET /api/passes/{pass_id}, /api/passes -> passes
"""

from __future__ import annotations

from infra.topology.model import Access, Function, Queue, QueueTrigger, Route, Secret

# Passes waiting for their door pincode (Stripe payment -> Rooms Event Hub). The consumer retries a
# failed Rooms call with exponential backoff by changing the message's visibility; 31 receives span
# the 24 h retry schedule of bookinghub.payments.logic.pincode_retry (a unit test keeps the two equal), and
# 4 days of retention leave ample room for it. The DLQ keeps what is left for redrive.
PASS_ISSUANCE = Queue(
    name="PassIssuance",
    env_var="PASS_ISSUANCE_QUEUE_URL",
    max_receive_count=31,
    retention_days=4,
    dlq_retention_days=14,
    age_budget_minutes=25 * 60,  # a pass may wait out the whole 24 h Rooms retry schedule
)

QUEUES: tuple[Queue, ...] = (PASS_ISSUANCE,)

# Stripe's webhook signing secret (whsec_...), from the Stripe dashboard's endpoint settings.
STRIPE_WEBHOOK_SECRET = Secret(
    name="StripeWebhookSecret",
    env_var="STRIPE_WEBHOOK_SECRET_ARN",
    local_env_var="STRIPE_WEBHOOK_SECRET",
    description="Stripe webhook signing secret (whsec_...) for POST /api/webhooks/stripe",
)

SECRETS: tuple[Secret, ...] = (STRIPE_WEBHOOK_SECRET,)

STRIPE_WEBHOOK = Function(
    name="stripe_webhook",
    description="Stripe payment events -> passes (verified; one pass per payment, once per event), queued",
    timeout_seconds=10,
    # No JSON model at the gateway: the signature is over the raw body, which must reach us untouched.
    routes=(Route("POST", "/api/webhooks/stripe", auth="signature", json_body=False),),
    access=Access(
        # The pass's conditional put is the event's idempotency: no Idempotency table (payments/logic)
        read_tables=("Bookings",),
        write_tables=("Bookings",),
        send_queues=("PassIssuance",),
        read_secrets=("StripeWebhookSecret",),
    ),
)

ISSUE_PINCODES = Function(
    name="issue_pincodes",
    description="Obtains each pass's door pincode from the Rooms Event Hub (retried with backoff for 24 h)",
    # A batch of 5 Rooms calls (10 s timeout each, HUB_ROOMS_TIMEOUT_SECONDS) fits in 60 s.
    timeout_seconds=60,
    queue=QueueTrigger(queue="PassIssuance", batch_size=5),
    access=Access(
        # A claim on the pass item keeps two messages of one pass from calling Rooms at once (no Idempotency)
        read_tables=("Bookings",),
        write_tables=("Bookings", "IntegrationLogs"),
        kms_data_keys=True,  # the pincode is sealed with a cached data key (aws/envelope.py)
        kms_decrypt=True,  # the integration's secret headers, if any
    ),
)

PASSES = Function(
    name="passes",
    description="A pass and its pincode for the organisation's website: GET /api/passes/{pass_id}, /api/passes",
    timeout_seconds=10,
    routes=(Route("GET", "/api/passes/{pass_id}", auth="api_key"), Route("GET", "/api/passes", auth="api_key")),
    access=Access(read_tables=("Bookings",), kms_decrypt=True),
    # Its answers carry pincodes: the tracer must not copy them into X-Ray segment metadata
    environment=(("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "false"),),
)

FUNCTIONS: tuple[Function, ...] = (STRIPE_WEBHOOK, ISSUE_PINCODES, PASSES)
