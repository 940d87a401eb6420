"""The complaints service: acknowledges at once with a dated copy of what the member filed,
and sets the deadlines of ACPR recommendation 2022-R-01."""

from __future__ import annotations

from datetime import date, datetime, time

from chalicelib.domain.deadlines import acknowledgement_due, answer_due
from chalicelib.domain.demarches import PARIS
from chalicelib.domain.requests import RequestRecord, iso_z
from chalicelib.store.letters import issue_letter
from chalicelib.store.requests import Transitions


def end_of_day(day: date) -> str:
    return iso_z(datetime.combine(day, time(23, 59, 59), tzinfo=PARIS))


def handle(record: RequestRecord, now: datetime) -> None:
    filed_on = (
        datetime.fromisoformat(record.created_at.replace("Z", "+00:00")).astimezone(PARIS).date()
    )
    answer_on = answer_due(filed_on)
    issue_letter(
        "accuse_reception_reclamation",
        record.member_id,
        record.request_id,
        record.label,
        now,
        filed=record.recall.model_dump(mode="json"),
        filed_on=filed_on,
        answer_due_on=answer_on,
    )
    Transitions().acknowledge(
        record,
        "Réclamation enregistrée, accusé de réception envoyé",
        now,
        due_at=end_of_day(answer_on),
        acknowledgement_due_at=end_of_day(acknowledgement_due(filed_on)),
    )
