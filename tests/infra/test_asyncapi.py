"""The events' contract: `docs/asyncapi.json`, generated from the events' models, fresh, valid
AsyncAPI 3.0 (against the specification's own JSON Schema), its examples valid, nothing personal
in any event."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from chalicelib.domain.events import EVENTS
from scripts.write_asyncapi import asyncapi_document, committed_form

ROOT = Path(__file__).resolve().parents[2]
# The specification's schema, from the npm package @asyncapi/specs 6.11.1 (schemas/3.0.0).
SPEC = json.loads((ROOT / "tests/data/asyncapi-3.0.0.schema.json").read_text(encoding="utf-8"))


def _problems(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SPEC)
    return [error.message for error in validator.iter_errors(document)]


def test_the_committed_copy_is_up_to_date() -> None:
    committed = (ROOT / "docs/asyncapi.json").read_text(encoding="utf-8")
    assert committed == committed_form(asyncapi_document()), "run `make asyncapi`"


def test_the_document_is_valid_asyncapi_3() -> None:
    document = asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    assert _problems(document) == []
    broken = copy.deepcopy(document)
    broken["operations"]["receiveRequestFiled"]["action"] = "consume"
    assert _problems(broken), "the validator must see a wrong document"


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.detail_type())
def test_every_event_has_a_message_an_operation_and_a_valid_example(event: Any) -> None:
    document = asyncapi_document()
    name = event.detail_type()
    message = document["components"]["messages"][name]
    assert f"receive{name}" in document["operations"]
    schema = {
        **document["components"]["schemas"][f"{name}Envelope"],
        "components": document["components"],
    }
    [example] = message["examples"]
    jsonschema.Draft202012Validator(schema).validate(example["payload"])
    event.model_validate(example["payload"]["detail"])


# What an event may say: identifiers, codes, states and moments. A new field is added here
# knowingly, never by accident.
ALLOWED_FIELDS = {
    "event_id", "occurred_at", "member_id", "request_id", "type", "service", "status",
    "complaint", "respond_before", "message_id", "previous_service", "outcome", "document_id",
    "kind", "postal_dispatch", "due_at",
}  # fmt: skip


def test_no_event_can_carry_a_name_an_address_an_amount_or_free_text() -> None:
    for event in EVENTS:
        assert set(event.model_fields) <= ALLOWED_FIELDS, event.detail_type()
        assert event.model_config.get("extra") == "forbid"
