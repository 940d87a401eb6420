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

logger = logging.getLogger(__name__)


def process_batch(
    event: dict[str, Any], handle: Callable[[RequestPointer], object]
) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        pointer = RequestPointer.model_validate_json(record.body)
        try:
            handle(pointer)
        except Exception:
            # IDs only: the request id says which; the member id stays out of the logs.
            logger.exception("request %s failed in %s", pointer.request_id, handle.__module__)
            raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=None
        )
    )
