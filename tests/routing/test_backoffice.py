"""Agents: work lists, details with downloads, decisions and their letters and effects."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import requests

from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, upload


def _file(api: Api, who: SignedIn, body: dict[str, Any], with_upload: bool = True) -> str:
    body = {"beneficiary_ids": [f"{who.member_id}-01"], **body}
    if with_upload:
        body["upload_ids"] = [upload(api, who, PDF_BYTES)]
    answer = api.post("/requests", who, body=body)
    assert answer.status == 201, answer.body
    return str(answer.body["request_id"])


def _justificatif(api: Api, who: SignedIn) -> str:
    today = datetime.now(UTC).date().isoformat()
    return _file(
        api,
        who,
        {
            "type": "sante.justificatif",
            "data": {"care_date": today, "amount": "80.00", "care_type": "optique"},
        },
    )


def _decide(api: Api, agent: SignedIn, who: SignedIn, request_id: str, **body: Any) -> Any:
    return api.post(
        f"/backoffice/members/{who.member_id}/requests/{request_id}/decision", agent, body=body
    )


def _pdf_text(api: Api, who: SignedIn, document_id: str) -> str:
    import io

    from pypdf import PdfReader

    url = api.get(f"/documents/{document_id}/download", who).body["url"]
    pdf = requests.get(url, timeout=30).content
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_work_list_is_the_services_requests_oldest_first_with_member_ids(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn, agent: SignedIn
) -> None:
    first = _justificatif(api, alice)
    second = _justificatif(api, bob)
    pump.drain()
    answer = api.get("/backoffice/services/remboursements/requests?state=open&limit=100", agent)
    assert answer.status == 200
    listed = [(r["request_id"], r["member_id"]) for r in answer.body["requests"]]
    assert (first, alice.member_id) in listed and (second, bob.member_id) in listed
    assert listed.index((first, alice.member_id)) < listed.index((second, bob.member_id))
    # Urgent ones head the list (API.md's WorkList); each part is oldest first. Other tests
    # of the run may have left urgent requests on this service's list.
    requests = answer.body["requests"]
    urgent = [
        r for r in requests if r["needs_attention"] or r["unanswered"] or r["deadline_at_risk"]
    ]
    others = [r for r in requests if r not in urgent]
    assert requests == urgent + others
    for part in (urgent, others):
        stamps = [r["created_at"] for r in part]
        assert stamps == sorted(stamps)


def test_a_work_lists_cursor_continues_that_list_only(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn, agent: SignedIn
) -> None:
    """A cursor names its service and state: on another list, even one the agent may read, it
    is a 400, never a page of that list started at another list's place."""
    _justificatif(api, alice)
    _justificatif(api, bob)
    pump.drain()
    base = "/backoffice/services/remboursements/requests"
    cursor = api.get(f"{base}?state=open&limit=1", agent).body["next_cursor"]
    assert cursor and api.get(f"{base}?state=open&limit=1&cursor={cursor}", agent).status == 200
    for other in (f"{base}?state=processed", "/backoffice/services/devis/requests?state=open"):
        answer = api.get(f"{other}&cursor={cursor}", agent)
        assert (answer.status, answer.body["error"]["code"]) == (400, "bad_request"), other
        assert [f["field"] for f in answer.body["error"]["fields"]] == ["cursor"], other


def test_agent_detail_has_downloadable_attachments(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn
) -> None:
    request_id = _justificatif(api, alice)
    pump.drain()
    detail = api.get(f"/backoffice/members/{alice.member_id}/requests/{request_id}", agent)
    assert detail.status == 200
    assert detail.body["member_id"] == alice.member_id
    link = detail.body["attachments"][0]["download"]["url"]
    assert requests.get(link, timeout=30).content == PDF_BYTES


def test_members_and_agents_of_other_services_are_forbidden(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn, agent: SignedIn
) -> None:
    hospital = _file(
        api,
        alice,
        {
            "type": "sante.prise_en_charge_hospitaliere",
            "data": {
                "establishment": "CHU de Lyon",
                "finess": "690781810",
                "admission_date": (datetime.now(UTC).date() + timedelta(days=3)).isoformat(),
                "stay_type": "hospitalisation_complete",
            },
        },
        with_upload=False,
    )
    pump.drain()
    for path in (
        "/backoffice/services/hospitalisation/requests",
        f"/backoffice/members/{alice.member_id}/requests/{hospital}",
    ):
        assert api.get(path, agent).status == 403  # agent of devis and remboursements only
        assert api.get(path, bob).status == 403
        assert api.get(path, alice).status == 403
    assert _decide(api, agent, alice, hospital, outcome="accepted").status == 403
    assert _decide(api, alice, alice, hospital, outcome="accepted").status == 403
    assert api.get(f"/requests/{hospital}", alice).body["status"] == "in_progress"
    assert api.get("/backoffice/services/nope/requests", agent).status == 404


def test_refused_reimbursement_is_processed_with_the_refusal_letter(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn
) -> None:
    request_id = _justificatif(api, alice)
    pump.drain()
    missing = _decide(api, agent, alice, request_id, outcome="refused")
    assert (missing.status, missing.body["error"]["fields"][0]["field"]) == (422, "message")
    decided = _decide(
        api,
        agent,
        alice,
        request_id,
        outcome="refused",
        message="La facture ne mentionne pas le bénéficiaire des soins.",
    )
    assert decided.status == 200, decided.body
    owed = decided.body["letter"]
    assert api.get(f"/documents/{owed['document_id']}/download", alice).status == 404
    pump.drain()  # the service's handler renders the letter the decision owes
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["status"], detail["outcome"]) == ("processed", "refused")
    [letter] = detail["documents"]
    assert letter == owed  # the letter the decision named
    assert letter["title"] == "Refus de remboursement"
    listed = api.get("/documents?months=1", alice).body["documents"]
    assert letter["document_id"] in [d["document_id"] for d in listed]
    text = _pdf_text(api, alice, letter["document_id"])
    assert "ne mentionne pas le bénéficiaire" in text
    again = _decide(api, agent, alice, request_id, outcome="accepted")
    assert (again.status, again.body["error"]["code"]) == (409, "conflict")
    attachment = detail["attachments"][0]["attachment_id"]
    assert api.get(f"/requests/{request_id}/attachments/{attachment}", alice).status == 409
    assert (
        api.get(
            "/backoffice/services/remboursements/requests?state=processed&limit=100", agent
        ).body["requests"][-1]["request_id"]
        == request_id
    )


@pytest.mark.parametrize(
    ("outcome", "title"),
    [("accepted", "Votre remboursement"), ("partially_accepted", "Votre remboursement")],
)
def test_paid_reimbursement_letter(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, outcome: str, title: str
) -> None:
    request_id = _justificatif(api, alice)
    pump.drain()
    decided = _decide(
        api,
        agent,
        alice,
        request_id,
        outcome=outcome,
        message="Réglé par virement.",
        amount="64.00",
    )
    assert decided.status == 200, decided.body
    assert decided.body["letter"]["title"] == title
    pump.drain()
    assert "64,00" in _pdf_text(api, alice, decided.body["letter"]["document_id"])


def test_family_situation_approval_adds_the_newcomer(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    born = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
    request_id = _file(
        api,
        alice,
        {
            "type": "vie.situation_familiale",
            "data": {
                "event": "naissance",
                "event_date": born,
                "new_beneficiary": {
                    "first_name": "Zoé",
                    "last_name": "Martin",
                    "birth_date": born,
                    "relationship": "child",
                },
            },
        },
    )
    pump.drain()
    assert _decide(api, agent_all, alice, request_id, outcome="accepted").status == 200
    people = api.get("/me/beneficiaries", alice).body["beneficiaries"]
    assert ("Zoé", "child", born) in [
        (p["first_name"], p["relationship"], p["birth_date"]) for p in people
    ]


def test_adult_child_extension_approval_extends_coverage(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    # Past Léa's coverage end (31 December of this year, the seed), which it moves later.
    until = date(datetime.now(UTC).year + 1, 6, 30).isoformat()
    request_id = _file(
        api,
        alice,
        {
            "type": "vie.prolongation_droits_enfant",
            "beneficiary_ids": [f"{alice.member_id}-03"],
            "data": {"situation": "etudiant", "until": until},
        },
    )
    pump.drain()
    assert _decide(api, agent_all, alice, request_id, outcome="accepted").status == 200
    lea = next(
        p
        for p in api.get("/me/beneficiaries", alice).body["beneficiaries"]
        if p["first_name"] == "Léa"
    )
    assert lea["coverage_end"] == until


def _contested(api: Api, pump: QueuePump, who: SignedIn) -> str:
    """A complaint contesting a reimbursement's amount, filed and routed: its id."""
    request_id = _file(
        api,
        who,
        {
            "type": "contact.demande",
            "complaint": True,
            "description": "Je conteste le refus.",
            "data": {"subject": "remboursements", "detail": "montant_conteste"},
        },
        with_upload=False,
    )
    pump.drain()
    return request_id


def test_refused_complaint_answer_names_the_mediator(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    request_id = _contested(api, pump, alice)
    decided = _decide(
        api,
        agent_all,
        alice,
        request_id,
        outcome="refused",
        message="Votre contrat ne couvre pas ce dépassement.",
    )
    assert decided.status == 200, decided.body
    pump.drain()
    text = _pdf_text(api, alice, decided.body["letter"]["document_id"])
    assert "Médiation" in text or "médiateur" in text.lower()


def test_an_agent_reads_the_letters_a_request_sent_as_the_member_reads_them(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn, agent: SignedIn,
    agent_all: SignedIn,
) -> None:  # fmt: skip
    """The agent's view listed a request's letters and no way to open one: a member calling
    about « your letter » could not be answered on what it said."""
    import io

    from pypdf import PdfReader

    request_id = _contested(api, pump, alice)  # its acknowledgement letter: a first letter
    decided = _decide(api, agent_all, alice, request_id, outcome="refused",
                      message="Votre contrat ne couvre pas ce dépassement.")  # fmt: skip
    assert decided.status == 200, decided.body
    pump.drain()
    base = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
    letters = api.get(base, agent_all).body["documents"]
    assert len(letters) == 2

    def consultations() -> int:
        log = api.get("/me/access-log?limit=100", alice).body["entries"]
        return sum(1 for e in log if e["request_id"] == request_id)

    before = consultations()
    for letter in letters:
        link = api.get(f"{base}/documents/{letter['document_id']}/download", agent_all)
        assert link.status == 200, link.body
        pdf = requests.get(link.body["url"], timeout=30).content
        member_link = api.get(f"/documents/{letter['document_id']}/download", alice).body
        assert pdf == requests.get(member_link["url"], timeout=30).content
        assert PdfReader(io.BytesIO(pdf)).pages  # a real PDF
    letter_id = letters[0]["document_id"]
    # Only the complaints service's agents; only this request's letters; never a member.
    assert api.get(f"{base}/documents/{letter_id}/download", agent).status == 403
    assert api.get(f"{base}/documents/{letter_id}/download", alice).status == 403
    other = _contested(api, pump, alice)
    other_base = f"/backoffice/members/{alice.member_id}/requests/{other}"
    assert api.get(f"{other_base}/documents/{letter_id}/download", agent_all).status == 404
    bobs = _contested(api, pump, bob)
    bobs_letter = api.get(f"/backoffice/members/{bob.member_id}/requests/{bobs}", agent_all)
    [bobs_id] = [d["document_id"] for d in bobs_letter.body["documents"]]
    assert api.get(f"{base}/documents/{bobs_id}/download", agent_all).status == 404
    # Each letter an agent opens is a consultation the member sees in their access log.
    assert consultations() == before + 2


def test_a_refusal_pays_nothing_so_it_takes_no_amount(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    """API.md: `amount` is what is paid or granted. A refused complaint given one was answered
    « nous ne sommes pas en mesure de faire droit à votre réclamation » and, in the same
    letter, « Nous vous versons à ce titre 50,00 € »."""
    request_id = _contested(api, pump, alice)
    refused = _decide(
        api, agent_all, alice, request_id, outcome="refused", message="Non.", amount="50.00"
    )
    assert refused.status == 422, refused.body
    assert [f["field"] for f in refused.body["error"]["fields"]] == ["amount"]
    assert api.get(f"/requests/{request_id}", alice).body["status"] == "in_progress"
    partly = _decide(
        api, agent_all, alice, request_id, outcome="partially_accepted", message="En partie.",
        amount="50.00",
    )  # fmt: skip
    assert partly.status == 200, partly.body


def _complaint(api: Api, who: SignedIn, text: str) -> str:
    """A complaint of the contact form (subject and detail « autre »), filed: its id."""
    body = {"type": "contact.demande", "complaint": True, "description": text,
            "data": {"subject": "autre", "detail": "autre"}}  # fmt: skip
    return _file(api, who, body, with_upload=False)


def _complaints_order(api: Api, agent: SignedIn, *request_ids: str) -> list[str]:
    """`request_ids` in the order the complaints' work list shows them."""
    listed = api.get("/backoffice/services/reclamations/requests?limit=100", agent).body
    return [r["request_id"] for r in listed["requests"] if r["request_id"] in request_ids]


def _asked_within_a_day(
    api: Api, pump: QueuePump, agent: SignedIn, who: SignedIn, request_id: str
) -> str:
    """An agent's question with a day to answer, delivered: the request's back-office path."""
    path = f"/backoffice/members/{who.member_id}/requests/{request_id}"
    asked = api.post(f"{path}/information-request", agent,
                     body={"message": "Quel acte ?", "respond_within_days": 1})  # fmt: skip
    assert asked.status == 200, asked.body
    pump.drain()
    return path


def test_sla_watch_puts_complaints_at_risk_first(
    api: Api, pump: QueuePump, local_stack: Any, alice: SignedIn, agent_all: SignedIn
) -> None:
    from chalicelib.routing.sla import watch

    older = _complaint(api, alice, "La plus ancienne.")
    newer = _complaint(api, alice, "La plus récente.")
    pump.drain()
    watch()
    order = partial(_complaints_order, api, agent_all, older, newer)
    assert order() == [older, newer]
    # The newer one's answer is now owed tomorrow: it moves ahead of the older one.
    detail = api.get(f"/requests/{newer}", alice).body
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.outputs["TableName"],
        Key={
            "pk": {"S": f"MEMBER#{alice.member_id}#{detail['created_at'][:7]}"},
            "sk": {"S": f"REQ#{newer}"},
        },
        UpdateExpression="SET due_at = :d",
        ExpressionAttributeValues={":d": {"S": tomorrow}},
    )
    assert watch() >= 1
    assert order() == [newer, older]
    # Why it heads the list, said: the list showed the order and nothing else.
    listed = api.get("/backoffice/services/reclamations/requests?limit=100", agent_all).body
    items = {r["request_id"]: r for r in listed["requests"]}
    assert items[newer]["deadline_at_risk"] is not None
    assert (
        datetime.fromisoformat(items[newer]["deadline_at_risk"]).date()
        == (datetime.now(UTC) + timedelta(days=1)).date()
    )
    assert items[older]["deadline_at_risk"] is None
    for request_id in (older, newer):
        seen = api.get(f"/backoffice/members/{alice.member_id}/requests/{request_id}", agent_all)
        assert items[request_id]["acknowledgement_due_at"] is not None
        assert items[request_id]["acknowledgement_due_at"] == seen.body["acknowledgement_due_at"]
        assert items[request_id]["deadline_at_risk"] == seen.body["deadline_at_risk"]


def test_an_unanswered_complaint_stays_at_the_head_through_the_daily_watches(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    """A complaint whose member let the question's deadline pass goes to the head of the
    complaints' list (`watch_unanswered`); the deadlines' watch, run right after it the same
    morning and every morning, put every complaint not at risk back in line unless flagged for
    agents: the unanswered one was behind the older ones again within the minute. It stays at
    the head until an agent acts (here: asks again, and the member answers)."""
    from chalicelib.domain import clock
    from chalicelib.services.dialogue import watch_unanswered
    from chalicelib.services.sweeping import watch_deadlines
    from chalicelib.store.requests import NORMAL
    from chalicelib.store.unit_of_work import unit_of_work

    older = _complaint(api, alice, "La plus ancienne.")
    newer = _complaint(api, alice, "Sans réponse.")
    pump.drain()
    path = _asked_within_a_day(api, pump, agent_all, alice, newer)
    order = partial(_complaints_order, api, agent_all, older, newer)

    def morning(now: datetime) -> None:
        """The daily watch's two steps, in its order (`routing/sla.watch`)."""
        watch_unanswered(unit_of_work(), now)
        watch_deadlines(unit_of_work(), now)

    stale = unit_of_work().requests.get(alice.member_id or "", newer)  # still waiting
    day = clock.now() + timedelta(days=2)  # the question's deadline passed
    assert watch_unanswered(unit_of_work(), day) == 1
    # A watch that read the complaint from a list a moment stale does not put it back in line.
    assert not unit_of_work().transitions.prioritise(stale, NORMAL)
    watch_deadlines(unit_of_work(), day)
    assert order() == [newer, older]
    assert api.get(path, agent_all).body["unanswered"] is True
    morning(day + timedelta(days=1))  # the next morning
    assert order() == [newer, older]
    late = api.post(f"/requests/{newer}/replies", alice, body={"message": "En retard."})
    assert late.status == 201, late.body
    pump.drain()
    assert order() == [newer, older]  # answered late: an agent has yet to act
    morning(day + timedelta(days=2))
    assert order() == [newer, older]

    asked = api.post(f"{path}/information-request", agent_all, body={"message": "Et alors ?"})
    assert asked.status == 200, asked.body
    replied = api.post(f"/requests/{newer}/replies", alice, body={"message": "Voici."})
    assert replied.status == 201, replied.body
    pump.drain()
    morning(day + timedelta(days=3))
    assert order() == [older, newer]  # answered this time: back in line


def test_an_unanswered_request_handed_on_as_a_complaint_keeps_its_place(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    """A request whose question went unanswered, reclassified as a complaint: the
    reclassification and its routing put it in line on the complaints' list, and the next
    morning's watch back at the head (it is still unanswered): its place now follows its
    flags at every step, and no step undoes another's."""
    from chalicelib.domain import clock
    from chalicelib.services.dialogue import watch_unanswered
    from chalicelib.services.sweeping import watch_deadlines
    from chalicelib.store.unit_of_work import unit_of_work

    older = _complaint(api, alice, "La plus ancienne.")
    request_id = _justificatif(api, alice)
    pump.drain()
    path = _asked_within_a_day(api, pump, agent_all, alice, request_id)
    day = clock.now() + timedelta(days=2)
    assert watch_unanswered(unit_of_work(), day) == 1
    order = partial(_complaints_order, api, agent_all, older, request_id)

    moved = api.post(f"{path}/reclassification", agent_all, body={"complaint": True})
    assert moved.status == 200, moved.body
    assert order() == [request_id, older]
    pump.drain()  # routed to the complaints service, acknowledged
    assert order() == [request_id, older]
    watch_deadlines(unit_of_work(), day + timedelta(days=1))
    assert order() == [request_id, older]


def test_a_decision_that_died_after_its_claim_is_named_to_the_agent_who_tries_another(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn
) -> None:
    """A decision claims its outcome, applies its effect, then closes the request; one that
    died in between (a timeout) keeps its claim, and no other outcome may take its place. The
    agent who then refused was told « Une autre décision a déjà été prise » on a request still
    open, with nothing to say which: the message now names it, and its retry completes it."""
    from chalicelib.domain import clock
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = _justificatif(api, alice)
    pump.drain()
    uow = DynamoUnitOfWork()
    record = uow.requests.get(alice.member_id or "", request_id, consistent=True)
    assert uow.transitions.claim_decision(record, "accepted", clock.now())  # then it died
    refused = _decide(api, agent, alice, request_id, outcome="refused", message="Non.")
    assert refused.status == 409, refused.body
    assert "« Demande acceptée »" in refused.body["error"]["message"]
    assert "renouvelez-la" in refused.body["error"]["message"]
    accepted = _decide(api, agent, alice, request_id, outcome="accepted", amount="42.50")
    assert accepted.status == 200, accepted.body
    assert accepted.body["status"] == "processed" and accepted.body["outcome"] == "accepted"


def test_a_withdrawal_waits_for_a_decision_under_way(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision claims its outcome, applies its effect (a new IBAN, a child's coverage) and
    then closes the request. A withdrawal in between closed it first: the member's file kept
    the effect, the request ended withdrawn with no outcome and no letter, and the agent read
    « déjà traitée ». The withdrawal now waits for the decision, which completes."""
    from chalicelib.domain import clock
    from chalicelib.domain.errors import Conflict
    from chalicelib.services import dialogue
    from chalicelib.store.requests import Transitions
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = _justificatif(api, alice)
    pump.drain()
    member_id = alice.member_id or ""
    refusals: list[str] = []
    finish = Transitions.finish

    def withdrawn_meanwhile(self: Transitions, *args: Any, **kwargs: Any) -> Any:
        """The member's withdrawal, between the decision's claim and its closing."""
        try:
            dialogue.withdraw(DynamoUnitOfWork(), member_id, request_id,
                              dialogue.WithdrawalBody(), clock.now())  # fmt: skip
        except Conflict as refused:
            refusals.append(refused.message)
        return finish(self, *args, **kwargs)

    monkeypatch.setattr(Transitions, "finish", withdrawn_meanwhile)
    decided = _decide(api, agent, alice, request_id, outcome="accepted", amount="80.00")
    monkeypatch.undo()
    assert decided.status == 200, decided.body
    assert refusals == [
        "Une décision est en cours sur cette demande : elle ne peut plus être retirée. "
        "Sa réponse vous parvient très prochainement."
    ]
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["status"], detail["outcome"]) == ("processed", "accepted")
    assert api.post(f"/requests/{request_id}/withdrawal", alice, body={}).status == 409


def test_a_withdrawal_after_a_decision_that_died_past_its_claim_is_told_why(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn
) -> None:
    """The claim stands until an agent completes the decision (its effect may be applied): the
    member is told a decision is under way, and the agent's retry completes it."""
    from chalicelib.domain import clock
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = _justificatif(api, alice)
    pump.drain()
    uow = DynamoUnitOfWork()
    record = uow.requests.get(alice.member_id or "", request_id, consistent=True)
    assert uow.transitions.claim_decision(record, "accepted", clock.now())  # then it died
    refused = api.post(f"/requests/{request_id}/withdrawal", alice, body={"reason": "Plus utile."})
    assert refused.status == 409, refused.body
    assert refused.body["error"]["message"].startswith("Une décision est en cours")
    assert api.get(f"/requests/{request_id}", alice).body["status"] == "in_progress"
    accepted = _decide(api, agent, alice, request_id, outcome="accepted", amount="42.50")
    assert (accepted.status, accepted.body["status"]) == (200, "processed")


def test_a_decision_claimed_between_a_withdrawal_s_read_and_its_write_holds_it_back(
    api: Api, pump: QueuePump, alice: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The withdrawal read the request open and unclaimed; an agent's decision claimed it
    before the withdrawal's write: that write's own condition refuses it (the read's check
    cannot see the claim)."""
    from chalicelib.domain import clock
    from chalicelib.store.requests import Transitions
    from chalicelib.store.unit_of_work import DynamoUnitOfWork

    request_id = _justificatif(api, alice)
    pump.drain()
    withdraw = Transitions.withdraw

    def claimed_first(self: Transitions, record: Any, *args: Any, **kwargs: Any) -> Any:
        assert self.claim_decision(record, "accepted", clock.now())  # the agent, meanwhile
        return withdraw(self, record, *args, **kwargs)

    monkeypatch.setattr(Transitions, "withdraw", claimed_first)
    refused = api.post(f"/requests/{request_id}/withdrawal", alice, body={})
    monkeypatch.undo()
    assert refused.status == 409, refused.body
    assert refused.body["error"]["message"].startswith("Une décision est en cours")
    record = DynamoUnitOfWork().requests.get(alice.member_id or "", request_id, consistent=True)
    assert (record.status.value, record.decided_outcome) == ("in_progress", "accepted")


def test_an_acceptance_pays_no_more_than_the_amount_filed(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn
) -> None:
    """A reimbursement of 80,00 € accepted at 800,00 € (a typo) was recorded, and its letter
    promised « Montant remboursé 800,00 € … versé sous 48 heures »: a complementary insurer
    pays at most what was spent (loi Évin, art. 9)."""
    request_id = _justificatif(api, alice)
    pump.drain()
    over = _decide(api, agent, alice, request_id, outcome="accepted", amount="800.00")
    assert over.status == 422, over.body
    assert (
        over.body["error"]["message"] == "Le montant accordé dépasse le montant présenté (80,00 €)."
    )
    assert [f["field"] for f in over.body["error"]["fields"]] == ["amount"]
    assert api.get(f"/requests/{request_id}", alice).body["status"] == "in_progress"
    exact = _decide(api, agent, alice, request_id, outcome="accepted", amount="80.00")
    assert exact.status == 200, exact.body
