"""The `notifications` queue (a rule on the bus feeds it) and the morning SMS schedule:
decode → call `services/notifications`. A record that fails 5 times goes to the queue's DLQ."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.domain import clock
from chalicelib.observability import correlated, failure, metric
from chalicelib.services.notifications import notify, send_due_sms
from chalicelib.settings import get_settings
from chalicelib.store.unit_of_work import unit_of_work

logger = logging.getLogger(__name__)

FUNCTION = "notifications"


def preferences_url() -> str:
    """The member portal's preferences page: the e-mails' `List-Unsubscribe`."""
    return f"{get_settings().portal_url.rstrip('/')}/me/preferences"


def handle_notifications(event: dict[str, Any]) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        with correlated(None, function=FUNCTION):
            try:
                envelope = json.loads(record.body)  # EventBridge's event, as its rule sends it
                detail_type, detail = envelope["detail-type"], envelope["detail"]
                notify(unit_of_work(), detail_type, detail, clock.now(), preferences_url())
            except Exception as error:
                logger.error("record %s failed", record.message_id, extra=failure(error))
                metric("HandlerFailures", function=FUNCTION)
                raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=None
        )
    )


def morning_sms() -> int:
    with correlated(None, function="sms_morning"):
        return send_due_sms(unit_of_work(), clock.now())
