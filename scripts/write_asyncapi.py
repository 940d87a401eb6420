"""`make asyncapi`: the AsyncAPI 3.0 document of the domain events, from their pydantic models
(`chalicelib/domain/events.py`), as `docs/asyncapi.json` keeps it.

    .venv/bin/python scripts/write_asyncapi.py [FILE]     # default: stdout

One channel (the stage's EventBridge bus), one message and one `receive` operation per event,
each message's payload the EventBridge envelope whose `detail` is the event's model, with an
example. A test holds the committed copy to this and validates it against AsyncAPI's schema.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a file too, not only with -m

from pydantic.json_schema import models_json_schema  # noqa: E402

from chalicelib.domain.events import EVENTS, SOURCE, EventDetail  # noqa: E402

VERSION = "1.0.0"
EXAMPLE_AT = "2026-11-28T09:15:00.000Z"
EXAMPLE_IDS = {
    "event_id": "01KB6X3Z9QF2M8V4N7R1T5W0YA",
    "request_id": "01KB6X1H2J3K4M5N6P7Q8R9S0T",
    "message_id": "01KB6X2A3B4C5D6E7F8G9H0J1K",
    "document_id": "01KB6X4B5C6D7E8F9G0H1J2K3M",
}
ADDED = {
    "respond_before": "2026-12-28T22:59:59.000Z",
    "previous_service": "remboursements",
    "outcome": "accepted",
    "kind": "remboursement",
    "postal_dispatch": False,
    "due_at": "2027-01-28T22:59:59.000Z",
}

DESCRIPTION = """\
What happens to members' requests (démarches), on the stage's EventBridge bus \
`generation-demarches-<stage>` (source `generation.demarches`, `detail-type` the event's name). \
Identifiers and codes only: never a name, an address, an IBAN, an amount or free text.

Each event is recorded in the same write as the change it describes and put on the bus at least \
once: dedupe on `detail.event_id`. To subscribe, a service team adds a rule on the bus matching \
`{"source": ["generation.demarches"], "detail-type": [...]}` with an SQS queue of its own as \
target (README, "Events")."""


def _example(event: type[EventDetail]) -> dict[str, Any]:
    fields = event.model_fields
    detail: dict[str, Any] = {
        "event_id": EXAMPLE_IDS["event_id"],
        "occurred_at": EXAMPLE_AT,
        "member_id": "0012345601",
        "request_id": EXAMPLE_IDS["request_id"],
        "type": "sante.justificatif",
        "service": "remboursements",
        "status": "in_progress",
        "complaint": False,
    }
    for name in fields:
        if name not in detail:
            detail[name] = EXAMPLE_IDS.get(name, ADDED.get(name))
    checked = event.model_validate(detail)  # an example that is not valid fails the build
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": event.detail_type(),
        "source": SOURCE,
        "account": "123456789012",
        "time": "2026-11-28T09:15:00Z",
        "region": "eu-west-3",
        "resources": [],
        "detail": checked.model_dump(mode="json"),
    }


def asyncapi_document() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(event, "validation") for event in EVENTS], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event in EVENTS:
        name = event.detail_type()
        envelope = f"{name}Envelope"
        schemas[envelope] = {
            "type": "object",
            "description": "The EventBridge envelope; `detail` is the event.",
            "required": ["id", "detail-type", "source", "time", "detail"],
            "properties": {
                "id": {"type": "string"},
                "detail-type": {"const": name},
                "source": {"const": SOURCE},
                "time": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the change happened, to the second: "
                    "`detail.occurred_at`, however late the event was put on the bus",
                },
                "detail": {"$ref": f"#/components/schemas/{name}"},
            },
        }
        messages[name] = {
            "name": name,
            "title": name,
            "summary": event.summary,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{envelope}"},
            "examples": [{"name": name, "payload": _example(event)}],
        }
        operations[f"receive{name}"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/bus"},
            "summary": event.summary,
            "messages": [{"$ref": f"#/channels/bus/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Génération Démarches — domain events",
            "version": VERSION,
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "channels": {
            "bus": {
                "address": "generation-demarches-{stage}",
                "title": "The stage's EventBridge bus",
                "parameters": {"stage": {"description": "`local`, `dev` or `prod`"}},
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": operations,
        "components": {"schemas": dict(sorted(schemas.items())), "messages": messages},
    }


def committed_form(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    text = committed_form(asyncapi_document())
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
