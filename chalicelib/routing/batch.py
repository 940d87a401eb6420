"""Every SQS handler: a batch processed record by record, failures reported, not retried whole.

Powertools' BatchProcessor builds the `batchItemFailures` answer (the merge template turns on
`ReportBatchItemFailures`); a record that fails 5 times lands in the queue's DLQ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.domain.requests import RequestPointer
from chalicelib.observability import CORRELATION_ATTRIBUTE, correlated, failure, metric

logger = logging.getLogger(__name__)

# The queues' redrive policy (infra/template.yaml): the 5th failure sends the record to the DLQ.
MAX_RECEIVES = 5


def _flag_for_agents(pointer: RequestPointer) -> None:
    """The record is about to go to the DLQ: put its request before an agent."""
    from chalicelib.domain import clock
    from chalicelib.services.serving import flag_for_agents
    from chalicelib.store.unit_of_work import unit_of_work

    try:
        flag_for_agents(unit_of_work(), pointer, clock.now())
    except Exception as error:  # the record still goes to the DLQ, which alarms
        logger.error("could not flag request %s", pointer.request_id, extra=failure(error))


def process_batch(
    event: dict[str, Any], handle: Callable[[RequestPointer], object], function: str
) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        attribute = record.message_attributes[CORRELATION_ATTRIBUTE]
        incoming = attribute.string_value if attribute else None
        with correlated(incoming, function=function):
            pointer: RequestPointer | None = None
            try:
                pointer = RequestPointer.model_validate_json(record.body)
                handle(pointer)
            except Exception as error:
                # IDs only: the message id says which; no body, no exception message.
                logger.error("record %s failed", record.message_id, extra=failure(error))
                metric("HandlerFailures", function=function)
                receives = int(record.attributes.approximate_receive_count or 0)
                if pointer is not None and receives >= MAX_RECEIVES:
                    _flag_for_agents(pointer)
                raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=None
        )
    )
