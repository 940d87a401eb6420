"""The membership service: applies a change of contact or postal details by itself; the adult
child's extension, the family situation and other information wait for an agent."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.requests import Outcome, RequestRecord
from chalicelib.routing.services._acknowledge import acknowledge
from chalicelib.store.letters import issue_letter
from chalicelib.store.members import ProfileUpdates
from chalicelib.store.requests import Transitions

APPLIED_BY_ITSELF = "vie.coordonnees"


def handle(record: RequestRecord, now: datetime) -> None:
    if record.type != APPLIED_BY_ITSELF:
        acknowledge(record, now)
        return
    # Applying the same change twice leaves the same profile: safe on a redelivery.
    ProfileUpdates().apply_contact(record.member_id, record.recall.data)
    issue_letter(
        "confirmation_modification",
        record.member_id,
        record.request_id,
        record.label,
        now,
        outcome=Outcome.accepted.value,
        filed=record.recall.model_dump(mode="json"),
        effective_on=now.date(),
    )
    Transitions().finish(record, Outcome.accepted.value, "Modification enregistrée", now)
