"""The `exports` queue: decode → build the member's export (`services/exporting`). A record
that fails 5 times goes to the queue's DLQ (which alarms); the export then ends at its build
deadline and the member may ask again."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.exports import ExportPointer
from chalicelib.routing.batch import process_records
from chalicelib.services.exporting import build_export
from chalicelib.store.unit_of_work import unit_of_work

FUNCTION = "exports"


def handle_exports(event: dict[str, Any]) -> dict[str, Any]:
    return process_records(
        event,
        lambda record: build_export(
            unit_of_work(), ExportPointer.model_validate_json(record.body), clock.now()
        ),
        FUNCTION,
    )
