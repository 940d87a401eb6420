"""API → intake → router → service → letter, end to end on moto."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests

from chalicelib.domain.requests import RequestPointer
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, aws_calls_made, drain_queue, upload


def _file(
    api: Api, who: SignedIn, request_type: str, data: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"type": request_type, "beneficiary_ids": [f"{who.member_id}-01"], **extra}
    if data is not None:
        body["data"] = data
    answer = api.post("/requests", who, body=body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def _detail(api: Api, who: SignedIn, request_id: str) -> dict[str, Any]:
    return dict(api.get(f"/requests/{request_id}", who).body)


def _pdf_of(api: Api, who: SignedIn, document_id: str) -> bytes:
    link = api.get(f"/documents/{document_id}/download", who)
    assert link.status == 200
    fetched = requests.get(link.body["url"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    return fetched.content


def _text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_letters_link_names_no_letter_and_the_download_is_named_by_its_title(
    api: Api, pump: QueuePump, alice: SignedIn
) -> None:
    """The kind of a letter ("Refus de prise en charge hospitalière") says something of the
    member's health: with the member id of the key, it stays out of URLs (S3 access logs)."""
    from urllib.parse import unquote

    from chalicelib.domain import clock

    created = _file(api, alice, "sante.attestation_tiers_payant")
    pump.drain()
    [document] = _detail(api, alice, created["request_id"])["documents"]
    link = api.get(f"/documents/{document['document_id']}/download", alice)
    url = unquote(link.body["url"]).lower()
    assert "attestation" not in url and "response-content-disposition" not in url
    fetched = requests.get(link.body["url"], timeout=30)
    [listed] = api.get("/documents?months=1", alice).body["documents"]
    day = clock.paris_date(listed["created_at"]).isoformat()
    name = f"attestation-de-tiers-payant-{day}.pdf"
    assert fetched.headers["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    )


def test_tiers_payant_attestation_is_processed_by_itself(
    api: Api, pump: QueuePump, alice: SignedIn
) -> None:
    created = _file(
        api,
        alice,
        "sante.attestation_tiers_payant",
        beneficiary_ids=[f"{alice.member_id}-01", f"{alice.member_id}-03"],
    )
    pump.drain()
    detail = _detail(api, alice, created["request_id"])
    assert (detail["status"], detail["outcome"], detail["service"]) == (
        "processed",
        "accepted",
        "tiers_payant",
    )
    assert [h["label"] for h in detail["history"]] == [
        "Demande reçue",
        "Transmise au Service Tiers-payant",
        "Attestation disponible dans vos documents",
    ]
    [document] = detail["documents"]
    listed = api.get("/documents?months=1", alice).body["documents"]
    assert [d["document_id"] for d in listed] == [document["document_id"]]
    assert listed[0]["kind"] == "attestation_tiers_payant"
    assert listed[0]["request_id"] == created["request_id"]
    pdf = _pdf_of(api, alice, document["document_id"])
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert "Alice" in text and "Léa" in text  # the beneficiaries the request chose
    assert "Hugo" not in text and "Julien" not in text


def test_change_of_phone_is_applied_with_a_confirmation_letter(
    api: Api, pump: QueuePump, alice: SignedIn
) -> None:
    created = _file(api, alice, "vie.coordonnees", {"phone": "07 00 11 22 33"})
    pump.drain()
    detail = _detail(api, alice, created["request_id"])
    assert (detail["status"], detail["outcome"]) == ("processed", "accepted")
    assert api.get("/me", alice).body["phone"] == "07 00 11 22 33"
    [document] = detail["documents"]
    assert "Confirmation" in document["title"]


def test_other_adhesion_requests_wait_for_an_agent(
    api: Api, pump: QueuePump, alice: SignedIn
) -> None:
    created = _file(api, alice, "vie.autre", description="Je souhaite un duplicata de ma carte.")
    pump.drain()
    detail = _detail(api, alice, created["request_id"])
    assert detail["status"] == "in_progress"
    assert detail["history"][-1]["label"] == "Reçue par le Service Adhésion"
    assert detail["documents"] == []


def _bank(api: Api, who: SignedIn, iban: str, holder: str = "Alice Martin") -> dict[str, Any]:
    return _file(
        api,
        who,
        "vie.coordonnees_bancaires",
        {"iban": iban, "holder_name": holder},
        upload_ids=[upload(api, who, PDF_BYTES, filename="rib.pdf")],
    )


def test_invalid_iban_is_refused_when_filed_and_the_profile_kept(
    api: Api, pump: QueuePump, alice: SignedIn
) -> None:
    before = api.get("/me", alice).body["bank_account"]
    for iban, reason in (
        ("FR7630006000011234567890188", "n'est pas valide"),  # wrong check digits
        ("BR1800360305000010009795493C1", "zone SEPA"),  # valid, but not SEPA
    ):
        answer = api.post(
            "/requests",
            alice,
            body={
                "type": "vie.coordonnees_bancaires",
                "beneficiary_ids": [f"{alice.member_id}-01"],
                "data": {"iban": iban, "holder_name": "Alice Martin"},
                "upload_ids": [upload(api, alice, PDF_BYTES, filename="rib.pdf")],
            },
        )
        assert answer.status == 422, answer.body
        field = answer.body["error"]["fields"][0]
        assert field["field"] == "data.iban" and reason in field["message"]
    assert api.get("/me", alice).body["bank_account"] == before


def test_a_holder_name_with_a_typographic_apostrophe_or_oe_is_accepted(
    api: Api, alice: SignedIn
) -> None:
    for holder in ("Chloé d’Arcœur", "ŒDIPE L'Hôte"):
        created = _bank(api, alice, "DE89 3704 0044 0532 0130 00", holder)
        assert created["recall"]["data"]["holder_name"] == holder
    too_long = api.post(
        "/requests",
        alice,
        body={
            "type": "vie.coordonnees_bancaires",
            "beneficiary_ids": [f"{alice.member_id}-01"],
            "data": {"iban": "DE89 3704 0044 0532 0130 00", "holder_name": "A" * 71},
            "upload_ids": [upload(api, alice, PDF_BYTES, filename="rib.pdf")],
        },
    )
    assert too_long.status == 422
    assert too_long.body["error"]["fields"][0]["field"] == "data.holder_name"


def test_the_full_iban_held_for_review_is_gone_once_decided(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, local_stack: LocalStack
) -> None:
    created = _bank(api, alice, "DE89 3704 0044 0532 0130 00")
    pump.drain()
    table = local_stack.outputs["TableName"]
    key = {"pk": {"S": f"MEMBER#{alice.member_id}"}, "sk": {"S": f"BANK#{created['request_id']}"}}
    held = local_stack.client("dynamodb").get_item(TableName=table, Key=key)["Item"]
    assert int(held["expires_at"]["N"]) > 0  # the TTL backstop
    with aws_calls_made() as calls:
        decided = api.post(
            f"/backoffice/members/{alice.member_id}/requests/{created['request_id']}/decision",
            agent_all,
            body={"outcome": "refused", "message": "RIB illisible."},
        )
    assert decided.status == 200, decided.body
    assert "Item" not in local_stack.client("dynamodb").get_item(TableName=table, Key=key)
    # In the decision's own transaction (`store/retention.closing`), as a withdrawal's: never
    # a decided request whose IBAN is still held, nor a call more on the agent's decision.
    [closing] = [p for n, p in calls if n == "TransactWriteItems" and "Delete" in json.dumps(p)]
    assert f"BANK#{created['request_id']}" in json.dumps(closing)
    assert "DeleteItem" not in [name for name, _ in calls]


@pytest.mark.parametrize("closed_by", ["decision", "withdrawal"])
def test_the_full_iban_goes_with_the_closing_of_a_bank_details_request_made_a_complaint(
    api: Api,
    pump: QueuePump,
    alice: SignedIn,
    agent_all: SignedIn,
    local_stack: LocalStack,
    closed_by: str,
) -> None:
    """Held since the filing by the request's type: the complaints service closing it deletes
    it as the cotisations service would (not 90 days later, by the TTL)."""
    created = _bank(api, alice, "DE89 3704 0044 0532 0130 00")
    pump.drain()
    table = local_stack.outputs["TableName"]
    key = {"pk": {"S": f"MEMBER#{alice.member_id}"}, "sk": {"S": f"BANK#{created['request_id']}"}}
    assert "Item" in local_stack.client("dynamodb").get_item(TableName=table, Key=key)
    base = f"/backoffice/members/{alice.member_id}/requests/{created['request_id']}"
    moved = api.post(f"{base}/reclassification", agent_all, body={"complaint": True})
    assert moved.status == 200, moved.body
    pump.drain()
    if closed_by == "decision":
        closed = api.post(
            f"{base}/decision", agent_all, body={"outcome": "refused", "message": "Non fondée."}
        )
    else:
        closed = api.post(f"/requests/{created['request_id']}/withdrawal", alice, body={})
    assert closed.status == 200, closed.body
    assert "Item" not in local_stack.client("dynamodb").get_item(TableName=table, Key=key)


def test_valid_iban_waits_for_an_agent_and_is_applied_on_approval(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn
) -> None:
    created = _bank(api, alice, "DE89 3704 0044 0532 0130 00")
    pump.drain()
    detail = _detail(api, alice, created["request_id"])
    assert detail["status"] == "in_progress"
    assert (
        api.get("/me", alice).body["bank_account"]["iban_masked"].replace(" ", "").endswith("0189")
    )
    decided = api.post(
        f"/backoffice/members/{alice.member_id}/requests/{created['request_id']}/decision",
        agent_all,
        body={"outcome": "accepted"},
    )
    assert decided.status == 200, decided.body
    masked = api.get("/me", alice).body["bank_account"]["iban_masked"]
    assert masked.startswith("DE") and masked.replace(" ", "").endswith("3000")
    assert "370400440532013000" not in json.dumps(decided.body)
    # Signed by the service the history names (« Le Service Adhérents » named one the member
    # never saw: the request went to the Cotisations service).
    pump.drain()
    assert "Transmise au Service Cotisations" in [h["label"] for h in detail["history"]]
    text = " ".join(_text(_pdf_of(api, alice, decided.body["letter"]["document_id"])).split())
    assert "Le Service Cotisations Génération" in text
    assert "Le Service Adhérents" not in text


def test_complaint_gets_its_acknowledgement_and_a_due_date_two_months_ahead(
    api: Api, pump: QueuePump, alice: SignedIn
) -> None:
    created = _file(
        api,
        alice,
        "contact.demande",
        {"subject": "remboursements", "detail": "montant_conteste"},
        complaint=True,
        description="Mon remboursement de lunettes est incomplet.",
    )
    pump.drain()
    detail = _detail(api, alice, created["request_id"])
    assert detail["service"] == "reclamations"
    assert detail["status"] == "in_progress"
    filed = datetime.fromisoformat(created["created_at"].replace("Z", "+00:00")).date()
    due = date.fromisoformat(detail["due_at"][:10])
    assert (due.year * 12 + due.month) - (filed.year * 12 + filed.month) == 2
    [document] = detail["documents"]
    text = _text(_pdf_of(api, alice, document["document_id"]))
    assert "lunettes est incomplet" in text  # the dated copy of what she filed
    # with whom it concerns (the copy left them out: the letter was given none)
    assert "Bénéficiaire Alice Martin" in " ".join(text.split())


@pytest.mark.parametrize("closed_by", ["decision", "withdrawal"])
def test_a_closed_complaint_owes_no_answer_any_more(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, closed_by: str
) -> None:
    """`due_at`: when an answer is owed, null if none (API.md); the portal shows « Réponse
    attendue avant le … » while it is set."""
    created = _file(api, alice, "contact.demande",
                    {"subject": "remboursements", "detail": "montant_conteste"},
                    complaint=True, description="Remboursement incomplet.")  # fmt: skip
    request_id = created["request_id"]
    pump.drain()
    assert _detail(api, alice, request_id)["due_at"]
    if closed_by == "decision":
        closed = api.post(
            f"/backoffice/members/{alice.member_id}/requests/{request_id}/decision",
            agent_all,
            body={"outcome": "refused", "message": "Le remboursement était complet."},
        )
    else:
        closed = api.post(f"/requests/{request_id}/withdrawal", alice, body={})
    assert closed.status == 200, closed.body
    assert closed.body["due_at"] is None
    assert _detail(api, alice, request_id)["due_at"] is None


def test_duplicate_delivery_routes_once_and_issues_one_letter(
    api: Api, local_stack: LocalStack, pump: QueuePump, alice: SignedIn
) -> None:
    created = _file(api, alice, "sante.attestation_tiers_payant")
    pointer = RequestPointer(request_id=created["request_id"], member_id=alice.member_id or "")
    sqs = local_stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{local_stack.outputs['QueuePrefix']}intake")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=pointer.model_dump_json())  # a redelivery
    pump.drain()
    sqs.send_message(QueueUrl=url, MessageBody=pointer.model_dump_json())  # a late one
    pump.drain()
    detail = _detail(api, alice, created["request_id"])
    assert [h["label"] for h in detail["history"]].count("Transmise au Service Tiers-payant") == 1
    assert len(detail["documents"]) == 1
    assert len(api.get("/documents", alice).body["documents"]) == 1


def test_batch_with_one_poison_record_reports_only_it(
    api: Api, local_stack: LocalStack, pump: QueuePump, alice: SignedIn
) -> None:
    from app import app
    from infra.lambda_client import Client

    drain_queue(local_stack, "svc-tiers_payant")
    good = [_file(api, alice, "sante.attestation_tiers_payant")["request_id"] for _ in range(9)]
    drain_queue(local_stack, "intake")
    bodies = [
        RequestPointer(request_id=r, member_id=alice.member_id or "").model_dump_json()
        for r in good
    ]
    bodies.insert(
        4,
        RequestPointer(
            request_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", member_id="nobody"
        ).model_dump_json(),
    )
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=bodies, queue_name="intake")
        answer = client.lambda_.invoke("router", event).payload
    poison_id = event["Records"][4]["messageId"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    routed = drain_queue(local_stack, "svc-tiers_payant")
    assert sorted(m["request_id"] for m in routed) == sorted(good)


def test_a_record_the_invocation_has_no_time_left_for_is_handed_back_not_failed(
    api: Api, local_stack: LocalStack, alice: SignedIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """Started past the batch's time, a record could be cut by the timeout, and Lambda would
    then hand the whole batch over again, records done included."""
    from chalicelib.routing import batch
    from chalicelib.routing.router import handle_intake
    from infra.lambda_client import Client

    drain_queue(local_stack, "svc-tiers_payant")
    filed = [_file(api, alice, "sante.attestation_tiers_payant")["request_id"] for _ in range(3)]
    drain_queue(local_stack, "intake")
    bodies = [
        RequestPointer(request_id=r, member_id=alice.member_id or "").model_dump_json()
        for r in filed
    ]
    left = iter([25.0, batch.RECORD_SECONDS, batch.RECORD_SECONDS - 0.1])
    from app import app

    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=bodies, queue_name="intake")
    capsys.readouterr()
    answer = handle_intake(event, lambda: next(left))
    printed = capsys.readouterr().out
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["messageId"]}]}
    assert sorted(m["request_id"] for m in drain_queue(local_stack, "svc-tiers_payant")) == sorted(
        filed[:2]
    )
    assert "RecordsDeferred" in printed
    assert "HandlerFailures" not in printed  # not a failure: never tried
    # Handed over again, it is routed.
    assert handle_intake({"Records": [event["Records"][2]]}) == {"batchItemFailures": []}
    assert [m["request_id"] for m in drain_queue(local_stack, "svc-tiers_payant")] == [filed[2]]


@pytest.mark.parametrize("function", ["router", "svc_tiers_payant", "notifications"])
def test_the_queue_functions_read_the_time_left_from_their_invocation(
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    function: str,
) -> None:
    """Asked for more time than a function has at all (30 s), the real invocation starts no
    record; asked for a little less, it starts it: the time it reads is the Lambda context's."""
    from app import app
    from chalicelib.routing import batch
    from infra.lambda_client import Client

    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=["{}"], queue_name="intake")
        failed = {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
        for seconds, deferred in ((31.0, True), (29.0, False)):
            monkeypatch.setattr(batch, "RECORD_SECONDS", seconds)
            capsys.readouterr()
            assert client.lambda_.invoke(function, event).payload == failed  # "{}" fails if tried
            printed = capsys.readouterr().out
            assert ("RecordsDeferred" in printed) is deferred
            assert ("HandlerFailures" in printed) is not deferred


def test_poison_message_lands_in_the_dlq_after_five_receives(
    local_stack: LocalStack, pump: QueuePump
) -> None:
    import time

    sqs = local_stack.client("sqs")
    prefix = local_stack.outputs["QueuePrefix"]
    url = sqs.get_queue_url(QueueName=f"{prefix}intake")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{prefix}intake-dlq")["QueueUrl"]
    poison = RequestPointer(
        request_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", member_id="nobody"
    ).model_dump_json()
    drain_queue(local_stack, "intake")  # what earlier tests filed and never routed
    sqs.send_message(QueueUrl=url, MessageBody=poison)
    receives = 0
    deadline = time.monotonic() + 30
    dead: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not dead:
        receives += pump.pump_once()
        dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
        time.sleep(0.3)
    assert [m["Body"] for m in dead] == [poison]
    assert receives == 5


def test_documents_window_edges(api: Api, alice: SignedIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock is frozen on 15 March 2026 at 10:00 in Paris: "the last month" starts on
    15 February at midnight in Paris (23:00 UTC the day before), whatever today is."""
    from chalicelib.domain import clock
    from chalicelib.store.documents import DocumentRepository

    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 15, 9, 0, tzinfo=UTC))
    member = alice.member_id or ""
    repository = DocumentRepository()

    def store(title: str, at: datetime) -> str:
        return repository.store(member, "teletransmission", title, b"%PDF-1.7", at).document_id

    inside = store("Le 15 février à 0 h 30", datetime(2026, 2, 14, 23, 30, tzinfo=UTC))
    outside = store("Le 14 février à 23 h 30", datetime(2026, 2, 14, 22, 30, tzinfo=UTC))
    old = store("Il y a 13 mois", datetime(2025, 2, 10, 12, 0, tzinfo=UTC))
    too_old = store("Il y a 25 mois", datetime(2024, 2, 10, 12, 0, tzinfo=UTC))

    def listed(query: str) -> list[str]:
        return [d["document_id"] for d in api.get(f"/documents{query}", alice).body["documents"]]

    assert listed("?months=1") == [inside]
    assert listed("?months=12") == [inside, outside]
    assert listed("?months=24") == [inside, outside, old]
    assert listed("") == [inside, outside, old]
    assert too_old not in listed("?months=24")
    for bad in ("2", "0", "36", "douze", "-1"):
        answer = api.get(f"/documents?months={bad}", alice)
        assert (answer.status, answer.body["error"]["fields"][0]["field"]) == (422, "months")


def test_an_acceptance_that_cannot_apply_leaves_the_agent_free_to_refuse(
    api: Api, pump: QueuePump, alice: SignedIn, agent_all: SignedIn, local_stack: LocalStack
) -> None:
    """The IBAN held for review gone (its 90-day TTL, a request left open that long): the
    acceptance is a 409 that applies nothing, and the agent may still refuse, with a letter
    saying why. The acceptance used to reserve the decision first, so every refusal after it
    answered 409 « Une autre décision a déjà été prise » and the request could never close."""
    created = _bank(api, alice, "DE89 3704 0044 0532 0130 00")
    pump.drain()
    table = local_stack.outputs["TableName"]
    key = {"pk": {"S": f"MEMBER#{alice.member_id}"}, "sk": {"S": f"BANK#{created['request_id']}"}}
    local_stack.client("dynamodb").delete_item(TableName=table, Key=key)  # as TTL would
    base = f"/backoffice/members/{alice.member_id}/requests/{created['request_id']}"
    accepted = api.post(f"{base}/decision", agent_all, body={"outcome": "accepted"})
    assert (accepted.status, accepted.body["error"]["code"]) == (409, "conflict")
    assert "introuvables" in accepted.body["error"]["message"]
    assert _detail(api, alice, created["request_id"])["status"] == "in_progress"
    refused = api.post(
        f"{base}/decision",
        agent_all,
        body={"outcome": "refused", "message": "Merci de nous adresser un nouveau RIB."},
    )
    assert refused.status == 200, refused.body
    assert refused.body["outcome"] == "refused"
    pump.drain()
    detail = _detail(api, alice, created["request_id"])
    assert (detail["status"], detail["outcome"]) == ("processed", "refused")
    assert [d["title"] for d in detail["documents"]] == [refused.body["letter"]["title"]]
