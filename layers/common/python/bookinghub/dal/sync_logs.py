"""Writes of sync log rows on their own (the inbound path writes them inside its booking transaction)."""

from __future__ import annotations

from bookinghub.dal.aws import client, to_item
from bookinghub.dal.logs import sync_log_item
from bookinghub.models.events import SyncLog
from bookinghub.settings import get_settings


def put_sync_log(log: SyncLog) -> None:
    client("dynamodb").put_item(TableName=get_settings().integration_logs_table, Item=to_item(sync_log_item(log)))
