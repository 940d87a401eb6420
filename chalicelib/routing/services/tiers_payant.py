"""The tiers-payant service: renders the attestation; the request is then processed."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.requests import Outcome, RequestRecord
from chalicelib.store.letters import issue_letter
from chalicelib.store.requests import Transitions


def handle(record: RequestRecord, now: datetime) -> None:
    issue_letter("attestation_tiers_payant", record.member_id, record.request_id, record.label, now)
    Transitions().finish(
        record, Outcome.accepted.value, "Attestation disponible dans vos documents", now
    )
