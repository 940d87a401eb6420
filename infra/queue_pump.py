"""The local stand-in for Lambda's SQS event source mappings (`make run` and tests).

It polls every queue of the stack, hands each batch to the same handler Lambda would run,
through Chalice's own invoker (`chalice.test.Client(app).lambda_.invoke`, the context given the
function's timeout: `infra.lambda_client`), deletes the records the handler did not report in
`batchItemFailures`, and leaves the others to SQS: they come back after the visibility timeout
and, after 5 receives, the queue's redrive policy moves them to the DLQ, exactly as on AWS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain.catalog import Service

logger = logging.getLogger(__name__)

# Logical queue → function name, as app.py registers them.
FUNCTIONS: dict[str, str] = (
    {"intake": "router"}
    | {f"svc-{service.value}": f"svc_{service.value}" for service in Service}
    | {"notifications": "notifications"}  # fed by a rule on the bus, not by our code
    | {"exports": "exports"}  # a member's data export (POST /me/exports)
)
RETRY_AFTER_SECONDS = 1  # locally, a failed record is retried at once rather than in 3 minutes


class Stack(Protocol):
    """What the pump needs of a stack (`infra.local_stack.LocalStack` is one)."""

    @property
    def outputs(self) -> dict[str, str]: ...

    @property
    def region(self) -> str: ...

    def client(self, service: str) -> Any: ...


@dataclass
class QueuePump:
    stack: Stack
    stage: str = "local"
    # Told of each invocation: function, records handed over, milliseconds (bench/bench_cost.py).
    on_invoke: Callable[[str, int, float], None] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._sqs = self.stack.client("sqs")
        prefix = self.stack.outputs["QueuePrefix"]
        self._urls = {
            queue: self._sqs.get_queue_url(QueueName=f"{prefix}{queue}")["QueueUrl"]
            for queue in FUNCTIONS
        }
        self._arns = {
            queue: self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            for queue, url in self._urls.items()
        }

    def pump_once(self, wait_seconds: int = 0) -> int:
        """One pass over every queue; returns how many records were handed to handlers."""
        from app import app
        from infra.lambda_client import Client

        handled = 0
        with Client(app, stage_name=self.stage) as client:
            for queue, function in FUNCTIONS.items():
                got = self._sqs.receive_message(
                    QueueUrl=self._urls[queue],
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=wait_seconds,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = got.get("Messages", [])
                if not messages:
                    continue
                handled += len(messages)
                event = {"Records": [self._record(queue, m) for m in messages]}
                started = time.perf_counter()
                try:
                    answer = client.lambda_.invoke(function, event).payload or {}
                    failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
                except Exception:  # the whole invocation failed: Lambda retries the batch
                    logger.exception("%s failed on a batch of %d", function, len(messages))
                    failed = {m["MessageId"] for m in messages}
                if self.on_invoke is not None:
                    elapsed = (time.perf_counter() - started) * 1000
                    self.on_invoke(function, len(messages), elapsed)
                for message in messages:
                    if message["MessageId"] in failed:
                        self._sqs.change_message_visibility(
                            QueueUrl=self._urls[queue],
                            ReceiptHandle=message["ReceiptHandle"],
                            VisibilityTimeout=RETRY_AFTER_SECONDS,
                        )
                    else:
                        self._sqs.delete_message(
                            QueueUrl=self._urls[queue], ReceiptHandle=message["ReceiptHandle"]
                        )
        return handled

    def drain(self, passes: int = 50) -> int:
        """Pump until every queue is empty (tests): returns how many records were handled."""
        total = 0
        for _ in range(passes):
            handled = self.pump_once()
            total += handled
            if handled == 0:
                return total
        return total

    def _record(self, queue: str, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arns[queue],
            "awsRegion": self.stack.region,
        }

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    if self.pump_once(wait_seconds=0) == 0:
                        self._stop.wait(0.5)
                except Exception:
                    logger.exception("queue pump pass failed")
                    self._stop.wait(1)

        self._thread = threading.Thread(target=loop, name="queue-pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
