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
