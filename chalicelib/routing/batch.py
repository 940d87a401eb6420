"""Every SQS handler: a batch processed record by record, failures reported, not retried whole.

Powertools' BatchProcessor builds the `batchItemFailures` answer (the merge template turns on
`ReportBatchItemFailures`); a record that fails 5 times lands in the queue's DLQ. A record is
started only while the invocation has time left to finish it: one cut by the timeout would
fail the whole batch, done records included (`RECORD_SECONDS`).
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
from pydantic import ValidationError

from chalicelib.domain.requests import RequestPointer
from chalicelib.observability import CORRELATION_ATTRIBUTE, correlated, failure, metric
from chalicelib.store.audit import BUDGET_SECONDS
from chalicelib.store.queues import OUTBOX_ENTRY_ATTRIBUTE

logger = logging.getLogger(__name__)

# The queues' redrive policy (infra/template.yaml): the 5th failure sends the record to the DLQ.
MAX_RECEIVES = 5
# The longest a record may take: its audit append waiting out its budget on a contended chain,
# plus its own calls and, on a cold start, loading the letters' renderer. A batch of 10 in a
# 30 s function (.chalice/config.json) could otherwise run past the timeout: Lambda would
# then retry the whole batch, records done included, each receive counting toward the DLQ.
RECORD_SECONDS = BUDGET_SECONDS + 4.0

SecondsLeft = Callable[[], float]


class Deferred(Exception):
    """Not started: too little of the invocation left. SQS hands the record over again."""


def _flag_for_agents(pointer: RequestPointer) -> None:
    """The record is about to go to the DLQ: put its request before an agent."""
    from chalicelib.domain import clock
    from chalicelib.services.serving import flag_for_agents
    from chalicelib.store.unit_of_work import unit_of_work

    try:
        flag_for_agents(unit_of_work(), pointer, clock.now())
    except Exception as error:  # the record still goes to the DLQ, which alarms
        logger.error("could not flag request %s", pointer.request_id, extra=failure(error))


def process_records(
    event: dict[str, Any],
    handle: Callable[[SQSRecord], object],
    function: str,
    on_last_failure: Callable[[SQSRecord], None] | None = None,
    seconds_left: SecondsLeft | None = None,
) -> dict[str, Any]:
    """Every record handed to `handle` in the correlation id it carries (if any); a failure is
    logged by ids only, counted, and reported for SQS to retry that record alone; on the
    failure that sends it to the DLQ, `on_last_failure` is told. With the invocation's
    `seconds_left`, a record that may not finish in time is not started but reported, for SQS
    to hand it over again (no failure: it was never tried)."""

    def record_handler(record: SQSRecord) -> None:
        attribute = record.message_attributes[CORRELATION_ATTRIBUTE]
        incoming = attribute.string_value if attribute else None
        with correlated(incoming, function=function):
            if seconds_left is not None and (left := seconds_left()) < RECORD_SECONDS:
                logger.warning("record %s deferred: %.1f s left", record.message_id, left)
                metric("RecordsDeferred", function=function)
                raise Deferred(record.message_id)
            try:
                handle(record)
            except Exception as error:
                # IDs only: the message id says which; no body, no exception message.
                logger.error("record %s failed", record.message_id, extra=failure(error))
                metric("HandlerFailures", function=function)
                receives = int(record.attributes.approximate_receive_count or 0)
                if on_last_failure is not None and receives >= MAX_RECEIVES:
                    on_last_failure(record)
                raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=None
        )
    )


def process_pointers(
    event: dict[str, Any],
    handle: Callable[[RequestPointer, str | None], object],
    function: str,
    seconds_left: SecondsLeft | None = None,
) -> dict[str, Any]:
    """Records that carry a request's pointer, each handed with the outbox entry it was sent
    for, if its sender named one (`Queues.send`); one about to go to the DLQ puts its request
    before an agent."""

    def last_failure(record: SQSRecord) -> None:
        try:
            pointer = RequestPointer.model_validate_json(record.body)
        except ValidationError:
            return  # not a pointer: nothing to flag
        _flag_for_agents(pointer)

    def handle_record(record: SQSRecord) -> object:
        entry = record.message_attributes[OUTBOX_ENTRY_ATTRIBUTE]
        pointer = RequestPointer.model_validate_json(record.body)
        return handle(pointer, entry.string_value if entry else None)

    return process_records(event, handle_record, function, last_failure, seconds_left)
