"""Alice's believable two-year history, filed, routed and answered through the app's own code,
dated in the past, so a front end has a real timeline and real letters to show."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain import catalog, clock
from chalicelib.domain.access import Action
from chalicelib.domain.requests import RequestPointer, RequestRecord
from chalicelib.domain.states import Outcome, Status
from chalicelib.domain.uploads import UploadRequest
from chalicelib.services.decisions import decide
from chalicelib.services.dialogue import InformationRequestBody, ask
from chalicelib.services.filing import create_upload, file_request
from chalicelib.services.privacy import record_access
from chalicelib.services.retention import carry_out
from chalicelib.services.serving import route, serve
from chalicelib.store.queues import INTAKE
from chalicelib.store.unit_of_work import DynamoUnitOfWork

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


def _extended_until(uow: DynamoUnitOfWork, member_id: str, day: date) -> date:
    """Half a year past Léa's coverage end as it stands (31 December of this year in the seed,
    then what each accepted extension moved it to): an extension must end after it."""
    [lea] = [b for b in uow.members.beneficiaries(member_id) if b.beneficiary_id.endswith("-03")]
    return max(lea.coverage_end or day, day) + timedelta(days=183)


def _body(
    uow: DynamoUnitOfWork, member_id: str, kind: str, detail: str, when: datetime
) -> dict[str, Any]:
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
    }
    if kind == "vie.prolongation_droits_enfant":
        bodies[kind] = {
            "beneficiary_ids": [f"{member_id}-03"],
            "data": {
                "situation": "etudiant",
                "until": _extended_until(uow, member_id, day).isoformat(),
            },
        }
    body = {"type": "contact.demande" if kind == "contact.reclamation" else kind,
            "beneficiary_ids": [me], **bodies[kind]}  # fmt: skip
    return body


class _Inline:
    """Queues that deliver at once, in this process: the seed runs the router and the service
    handlers' use cases on each message as it is sent, instead of waiting for SQS."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, RequestPointer, str | None]] = []

    def send(
        self,
        queue: str,
        pointer: RequestPointer,
        correlation: str | None = None,
        entry_id: str | None = None,
    ) -> None:
        self.sent.append((queue, pointer, entry_id))


class _SeedUnitOfWork(DynamoUnitOfWork):
    def __init__(self) -> None:
        self.inline = _Inline()

    @property
    def queues(self) -> _Inline:  # type: ignore[override]  # delivered inline, not sent
        return self.inline

    def deliver(self, when: datetime) -> None:
        """Run what each queue's handler runs on every message sent, until none is left."""
        while self.inline.sent:
            queue, pointer, entry_id = self.inline.sent.pop(0)
            if queue == INTAKE:
                route(self, pointer, when, delivered=entry_id)
            else:
                serve(self, pointer, when)


def _attach(uow: _SeedUnitOfWork, member_id: str, filename: str, when: datetime) -> str:
    """Ask for an upload ticket, and put the scan where the browser would have posted it."""
    wanted = UploadRequest(filename=filename, content_type="application/pdf", size=len(SCAN))
    ticket = create_upload(uow, member_id, wanted, when - timedelta(minutes=5))
    uow.files.put(ticket["fields"]["key"], SCAN, "application/pdf")
    return str(ticket["upload_id"])


DEMO_AGENT = "agent-de-demonstration"  # stored with each access, never shown to the member


def _answer(uow: _SeedUnitOfWork, record: RequestRecord, outcome: Outcome, on: datetime) -> None:
    """An agent's decision, with the words and the amount an agent would give: the agent reads
    the request, then decides, each in the member's access log as the back office records it."""
    record_access(uow, record, Action.consulted, DEMO_AGENT, on - timedelta(minutes=20))
    record_access(uow, record, Action.decided, DEMO_AGENT, on)
    message = {
        Outcome.accepted: "",
        Outcome.partially_accepted: "Votre contrat prend en charge une partie de ces frais "
        "seulement.",
        Outcome.refused: "La facture transmise ne mentionne pas le bénéficiaire des soins.",
    }[outcome]
    asked = record.recall.data.get("amount")
    granted = {Outcome.accepted: "1", Outcome.partially_accepted: "0.6"}.get(outcome)
    handling = catalog.handling_for(record.type, complaint=record.complaint)
    amount = (
        (Decimal(asked or "350.00") * Decimal(granted)).quantize(Decimal("0.01"))
        if granted and handling.amount_required
        else None
    )
    decide(uow, record, outcome, on, message=message, amount=amount)


def seed_history(member_id: str, now: datetime | None = None) -> int:
    """File, route and answer a few dozen requests over the last 24 months, through the same use
    cases as the API and the queue handlers, dated in the past; the newest one still open waits
    for the member's answer to a question. Returns how many were filed."""
    now = now or clock.now()
    uow = _SeedUnitOfWork()
    filed = 0
    still_open: list[str] = []
    filed_ids: list[str] = []
    for index in range(36):
        kind, detail, attachment_name, outcome = PLAN[index % len(PLAN)]
        when = now - timedelta(days=720 - index * 20, hours=index % 7)
        if kind == "vie.prolongation_droits_enfant" and when < now - timedelta(days=300):
            continue  # Léa was not yet 18
        body = _body(uow, member_id, kind, detail, when)
        if attachment_name:
            body["upload_ids"] = [_attach(uow, member_id, attachment_name, when)]
        request_id = file_request(uow, member_id, body, None, when).request_id
        uow.deliver(when + timedelta(minutes=1))
        filed += 1
        filed_ids.append(request_id)
        current = uow.requests.get(member_id, request_id)
        if current.status is not Status.in_progress:
            continue
        if outcome is not None and when < now - timedelta(days=40):  # the latest stay open
            _answer(uow, current, outcome, when + timedelta(days=9))
        else:
            still_open.append(request_id)
    if still_open:
        question = InformationRequestBody(
            message="Pourriez-vous nous adresser la facture détaillée, avec le nom du patient ?"
        )
        waiting = uow.requests.get(member_id, still_open[-1])
        record_access(uow, waiting, Action.asked, DEMO_AGENT, now - timedelta(days=2))
        ask(uow, waiting, question, now - timedelta(days=2), agent_id=None)
        uow.deliver(now - timedelta(days=2, minutes=-1))  # its service renders the letter
    _purges_of_the_past(uow, member_id, filed_ids, now)
    return filed


def _purges_of_the_past(
    uow: _SeedUnitOfWork, member_id: str, request_ids: list[str], now: datetime
) -> None:
    """The retention purges whose day has come, carried out as the scheduled purge would have
    on their day (`make run` runs no schedule, and its first run looks back a month only):
    attachments kept 90 days after a closing two years ago are gone, and the request says so."""
    today = clock.paris_date(now)
    days = set()
    for request_id in request_ids:
        kept_until = uow.requests.get(member_id, request_id).attachments_kept_until
        if kept_until is not None and date.fromisoformat(kept_until) <= today:
            days.add(date.fromisoformat(kept_until))
    for day in sorted(days):
        moment = min(datetime.combine(day, time(3), clock.PARIS), now)
        for page in uow.retention.pages_due(day):
            for entry in page:
                carry_out(uow, entry, moment)
        uow.deliver(moment)
