"""The `notifications` queue (a rule on the bus feeds it) and the morning SMS schedule:
decode → call `services/notifications`. A record that fails 5 times goes to the queue's DLQ."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.domain import clock
from chalicelib.observability import correlated
from chalicelib.routing.batch import SecondsLeft, process_records
from chalicelib.services.notifications import notify, send_due_sms
from chalicelib.settings import get_settings
from chalicelib.store.unit_of_work import unit_of_work

FUNCTION = "notifications"


def preferences_url() -> str:
    """The member portal's preferences page (its screen `#/preferences`: the portal is one
    page, any other path a 404): the e-mails' `List-Unsubscribe`."""
    return f"{get_settings().portal_url.rstrip('/')}/#/preferences"


def handle_notifications(
    event: dict[str, Any], seconds_left: SecondsLeft | None = None
) -> dict[str, Any]:
    def handle(record: SQSRecord) -> None:
        envelope = json.loads(record.body)  # EventBridge's event, as its rule sends it
        detail_type, detail = envelope["detail-type"], envelope["detail"]
        notify(unit_of_work(), detail_type, detail, clock.now(), preferences_url())

    return process_records(event, handle, FUNCTION, seconds_left=seconds_left)


def morning_sms() -> int:
    with correlated(None, function="sms_morning"):
        return send_due_sms(unit_of_work(), clock.now())
