"""Outbound webhook delivery (issue 12): endpoints, signed deliveries, retries, replay and statistics.

One system serves seed 002's sync back to source websites and seed 003's event subscriptions
(Make.com-style receivers). `models/` are the records, `logic/` the rules (signing, schedule,
classification and circuit breaker are pure), `dal/` the DynamoDB and SQS access, `adapters/http.py`
the only code that calls a receiver.
"""
