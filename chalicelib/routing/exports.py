"""The `exports` queue: decode → build the member's export (`services/exporting`). A record
that fails 5 times goes to the queue's DLQ (which alarms); the export then ends at its build
deadline and the member may ask again."""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.domain import clock
from chalicelib.domain.exports import ExportPointer
from chalicelib.observability import CORRELATION_ATTRIBUTE, correlated, failure, metric
from chalicelib.services.exporting import build_export
from chalicelib.store.unit_of_work import unit_of_work

logger = logging.getLogger(__name__)

FUNCTION = "exports"


def handle_exports(event: dict[str, Any]) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        attribute = record.message_attributes[CORRELATION_ATTRIBUTE]
        with correlated(attribute.string_value if attribute else None, function=FUNCTION):
            try:
                pointer = ExportPointer.model_validate_json(record.body)
                build_export(unit_of_work(), pointer, clock.now())
            except Exception as error:
                # IDs only: the message id says which; no body, no exception message.
                logger.error("record %s failed", record.message_id, extra=failure(error))
                metric("HandlerFailures", function=FUNCTION)
                raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=None
        )
    )
