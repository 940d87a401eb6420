"""Alice's believable two-year history, filed, routed and answered through the app's own code,
dated in the past, so a front end has a real timeline and real letters to show."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.domain import catalog
from chalicelib.domain.decisions import Decision
from chalicelib.domain.requests import (
    Attachment,
    Outcome,
    check_against_contract,
    new_record,
    parse_new_request,
)
from chalicelib.routing.services import handler_for
from chalicelib.store import keys
from chalicelib.store.members import MemberRepository
from chalicelib.store.requests import RequestRepository, Transitions
from chalicelib.store.uploads import Upload, UploadRepository, bucket, encryption, s3

SCAN = b"%PDF-1.4\n% scan\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# What a family files over two years: (type, data for the day, attachment name, outcome).
PLAN: tuple[tuple[str, str, str | None, Outcome | None], ...] = (
    ("sante.justificatif", "pharmacie", "facture-pharmacie.pdf", Outcome.accepted),
    ("sante.devis", "dentaire", "devis-couronne.pdf", Outcome.partially_accepted),
    ("sante.justificatif", "optique", "facture-lunettes.pdf", Outcome.refused),
    ("sante.attestation_tiers_payant", "", None, None),
    ("sante.prise_en_charge_hospitaliere", "", None, Outcome.accepted),
    ("contact.demande", "teletransmission", None, Outcome.accepted),
    ("sante.justificatif", "consultation", "feuille-de-soins.pdf", Outcome.accepted),
    ("contact.reclamation", "montant_conteste", None, Outcome.partially_accepted),
    ("vie.autre", "", None, Outcome.accepted),
    ("sante.devis", "optique", "devis-lunettes.pdf", Outcome.accepted),
    ("vie.prolongation_droits_enfant", "", "certificat-scolarite.pdf", Outcome.accepted),
    ("sante.justificatif", "dentaire", "facture-dentiste.pdf", Outcome.accepted),
)


def _body(member_id: str, kind: str, detail: str, when: datetime) -> dict[str, Any]:
    day = when.date()
    me = f"{member_id}-01"
    bodies: dict[str, dict[str, Any]] = {
        "sante.justificatif": {
            "data": {
                "care_date": (day - timedelta(days=4)).isoformat(),
                "amount": f"{random.Random(when.toordinal()).randint(20, 180)}.50",  # noqa: S311  # demo data
                "care_type": detail,
            },
        },
        "sante.devis": {
            "data": {
                "care_type": detail,
                "amount": "690.00",
                "practitioner": "Cabinet du Dr Lefèvre",
            }
        },
        "sante.prise_en_charge_hospitaliere": {
            "data": {
                "establishment": "Hôpital Saint-Antoine",
                "finess": "750100125",
                "admission_date": (day + timedelta(days=12)).isoformat(),
                "stay_type": "ambulatoire",
            }
        },
        "sante.attestation_tiers_payant": {},
        "contact.demande": {
            "description": "Mes décomptes n'arrivent plus par télétransmission.",
            "data": {"subject": "remboursements", "detail": detail},
        },
        "contact.reclamation": {
            "description": "Le remboursement de mes lunettes est incomplet.",
            "complaint": True,
            "data": {"subject": "remboursements", "detail": detail},
        },
        "vie.autre": {"description": "Pouvez-vous m'envoyer mon tableau de garanties ?"},
        "vie.prolongation_droits_enfant": {
            "beneficiary_ids": [f"{member_id}-03"],
            "data": {"situation": "etudiant", "until": (day + timedelta(days=330)).isoformat()},
        },
    }
    body = {"type": "contact.demande" if kind == "contact.reclamation" else kind,
            "beneficiary_ids": [me], **bodies[kind]}  # fmt: skip
    return body


def seed_history(member_id: str, now: datetime | None = None) -> int:
    """File, route and answer a few dozen requests over the last 24 months. Returns how many."""
    now = now or datetime.now(UTC)
    contract = MemberRepository().beneficiaries(member_id)
    requests = RequestRepository()
    transitions = Transitions()
    filed = 0
    for index in range(36):
        kind, detail, attachment_name, outcome = PLAN[index % len(PLAN)]
        when = now - timedelta(days=720 - index * 20, hours=index % 7)
        body = _body(member_id, kind, detail, when)
        if kind == "vie.prolongation_droits_enfant" and when < now - timedelta(days=300):
            continue  # Léa was not yet 18
        new = parse_new_request(body, when.date())
        chosen = (
            check_against_contract(new, contract, when.date())
            if not attachment_name
            else [b for b in contract if b.beneficiary_id in new.beneficiary_ids]
        )
        record = new_record(new, member_id, chosen, when)
        if attachment_name:
            # As if uploaded: the upload record, and the scan already copied under the request.
            upload = Upload(
                upload_id=str(ULID.from_datetime(when - timedelta(minutes=5))),
                member_id=member_id, filename=attachment_name, content_type="application/pdf",
                declared_size=len(SCAN), expires_at=int((when + timedelta(days=1)).timestamp()),
            )  # fmt: skip
            UploadRepository().record(upload)
            key = keys.attachment_object(
                member_id, record.month, record.request_id, upload.upload_id
            )
            s3().put_object(Bucket=bucket(), Key=key, Body=SCAN, ContentType="application/pdf",
                            **encryption())  # fmt: skip
            record.attachments = [Attachment(
                attachment_id=upload.upload_id, filename=attachment_name,
                content_type="application/pdf", size=len(SCAN),
                sha256=hashlib.sha256(SCAN).hexdigest())]  # fmt: skip
        requests.create(record, when)
        requests.mark_sent(member_id, record.request_id, when)
        service = catalog.service_for(record.type, complaint=record.complaint)
        label = f"Transmise au {catalog.SERVICE_LABELS[service]}"
        transitions.route(record, service.value, label, when + timedelta(minutes=1))
        routed = requests.get(member_id, record.request_id)
        handler_for(service)(routed, when + timedelta(minutes=2))
        answered_on = when + timedelta(days=9)
        if outcome is not None and when < now - timedelta(days=40):  # the latest still open
            current = requests.get(member_id, record.request_id)
            if current.status.value == "in_progress":
                from chalicelib.api.backoffice import record_decision

                message = (
                    ""
                    if outcome is Outcome.accepted
                    else (
                        "Votre contrat prend en charge une partie de ces frais seulement."
                        if outcome is Outcome.partially_accepted
                        else "La facture transmise ne mentionne pas le bénéficiaire des soins."
                    )
                )
                record_decision(current, Decision(outcome=outcome, message=message), answered_on)
        filed += 1
    return filed
