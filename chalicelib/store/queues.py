"""SQS: queue URLs resolved once per container, pointers sent as IDs only."""

from __future__ import annotations

from functools import lru_cache

from chalicelib import aws
from chalicelib.domain.requests import RequestPointer
from chalicelib.observability import CORRELATION_ATTRIBUTE, correlation_id
from chalicelib.settings import get_settings

INTAKE = "intake"
# The outbox entry a message was sent for (`dispatching`): its consumer, dispatching the
# request's outbox, does not send that one again.
OUTBOX_ENTRY_ATTRIBUTE = "outbox_entry"


def service_queue(service: str) -> str:
    return f"svc-{service}"


@lru_cache(maxsize=32)
def queue_url(queue: str) -> str:
    name = get_settings().queue_name(queue)
    return str(aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


class Queues:
    def send(
        self,
        queue: str,
        pointer: RequestPointer,
        correlation: str | None = None,
        entry_id: str | None = None,
    ) -> None:
        """The body is the pointer; the correlation id and the outbox entry it was sent for
        travel as attributes, beside it."""
        correlation = correlation or correlation_id()
        attributes = {}
        if correlation:
            attributes[CORRELATION_ATTRIBUTE] = {"DataType": "String", "StringValue": correlation}
        if entry_id:
            attributes[OUTBOX_ENTRY_ATTRIBUTE] = {"DataType": "String", "StringValue": entry_id}
        aws.client("sqs").send_message(
            QueueUrl=queue_url(queue),
            MessageBody=pointer.model_dump_json(),
            MessageAttributes=attributes,
        )
