"""The contributions service: checks new bank details by itself, refuses unusable ones with a
letter, and holds valid ones for an agent; the IBAN is applied only on approval."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.iban import holder_problem, iban_problem
from chalicelib.domain.requests import Outcome, RequestRecord
from chalicelib.store.letters import issue_letter
from chalicelib.store.members import ProfileUpdates
from chalicelib.store.requests import Transitions


def handle(record: RequestRecord, now: datetime) -> None:
    iban = ProfileUpdates().held_iban(record.member_id, record.request_id)
    problem = (
        iban_problem(iban) if iban else "Coordonnées bancaires introuvables."
    ) or holder_problem(str(record.recall.data.get("holder_name", "")))
    if problem is None:
        Transitions().acknowledge(
            record, "Coordonnées bancaires vérifiées, en cours de validation", now
        )
        return
    issue_letter(
        "confirmation_modification",
        record.member_id,
        record.request_id,
        record.label,
        now,
        outcome=Outcome.refused.value,
        message=problem,
        filed=record.recall.model_dump(mode="json"),
    )
    Transitions().finish(record, Outcome.refused.value, "Coordonnées bancaires refusées", now)
