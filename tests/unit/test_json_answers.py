"""`json_response` writes a model with pydantic's serializer: the same text as the JSON of its
`model_dump(mode="json")`, compact, French as UTF-8 (not \\u escapes)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from chalicelib.api.errors import json_response


class _Status(StrEnum):
    IN_PROGRESS = "in_progress"


class _Line(BaseModel):
    label: str
    at: datetime
    amount: Decimal | None = None


class _Answer(BaseModel):
    title: str
    status: _Status
    on: date
    distance_km: float
    count: int
    flags: dict[str, bool]
    lines: list[_Line]
    note: str | None = None


def test_a_models_answer_is_the_json_of_its_dump_byte_for_byte() -> None:
    answer = _Answer(
        title='Réclamation « reçue » — délai 10 jours\n"urgent" \\ \t\u2028',
        status=_Status.IN_PROGRESS,
        on=date(2026, 11, 28),
        distance_km=1.25,
        count=3,
        flags={"email": True, "sms": False},
        lines=[
            _Line(label="Envoi de justificatif", at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC)),
            _Line(label="Montant", at=datetime(2026, 11, 2, tzinfo=UTC), amount=Decimal("42.50")),
        ],
    )
    expected = json.dumps(answer.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
    response = json_response(answer, 201, {"Location": "/requests/1"})
    assert response.body == expected
    assert "Réclamation « reçue »" in response.body
    assert response.status_code == 201
    assert response.headers["Location"] == "/requests/1"
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_requests_detail_is_written_from_its_record_without_what_agents_and_services_hold() -> (
    None
):
    """`RequestRecord.detail_json`/`detail_dict` write the detail with its own serializer,
    straight from the record: the same JSON as building `detail()` and dumping it, and none of
    what the record holds beyond it (agents' ids in the history and the messages, the member
    id, the service's flags)."""
    from chalicelib.domain.requests import (
        AgentHistoryEntry,
        AgentMessage,
        RequestDetail,
        RequestRecord,
    )

    at = "2026-11-02T09:30:00.000Z"
    record = RequestRecord.model_validate({
        "request_id": "01JC9ZP7Q8W3Y5V2N4M6K8H0GF", "type": "sante.devis", "label": "Devis",
        "created_at": at, "status": "waiting_for_member", "service": "devis", "complaint": False,
        "member_id": "0012345601",
        "beneficiaries": [{"beneficiary_id": "0012345601-01", "first_name": "Léa",
                           "last_name": "Martin"}],
        "history": [
            AgentHistoryEntry(at=at, status="in_progress", label="Demande reçue", by="member"),
            AgentHistoryEntry(at=at, status="waiting_for_member", label="Pièce demandée",
                              by="service", agent_id="agent-secret-42"),
        ],
        "messages": [AgentMessage.model_validate({
            "message_id": "01JC9ZP7Q8W3Y5V2N4M6K8H0GG", "at": at, "author": "service",
            "text": "Merci d'envoyer le devis signé.", "agent_id": "agent-secret-42"})],
        "recall": {"description": "Couronne « céramique »", "data": {"amount": "900.00"}},
        "attachments": [], "documents": [],
        "needs_attention": True, "unanswered": True, "acknowledged_at": at,
        "letters_due": {"{}"}, "replies_delivered": {"01JC9ZP7Q8W3Y5V2N4M6K8H0GH"},
    })  # fmt: skip
    built = record.detail()
    assert type(built) is RequestDetail
    assert record.detail_json().decode() == built.model_dump_json()
    assert record.detail_dict() == built.model_dump(mode="json")
    written = record.detail_json().decode()
    for held in ("agent-secret-42", "agent_id", "0012345601\"", "needs_attention", "unanswered",
                 "letters_due", "replies_delivered", "acknowledged_at", "member_id"):  # fmt: skip
        assert held not in written, held
    assert json.loads(written)["history"][1] == {
        "at": at,
        "status": "waiting_for_member",
        "label": "Pièce demandée",
        "by": "service",
    }
