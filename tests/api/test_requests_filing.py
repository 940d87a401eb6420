"""`POST /requests`: every démarche filed, every rule a member would expect, nothing lost."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.store import keys
from infra.local_stack import LocalStack
from tests.aws_expiry import current_objects
from tests.conftest import (
    PDF_BYTES,
    Api,
    SignedIn,
    aws_calls_made,
    count_items,
    drain_queue,
    upload,
)

IBAN = "FR76 3000 6000 0112 3456 7890 189"


def _valid(today: date) -> dict[str, dict[str, Any]]:
    return {
        "sante.justificatif": {
            "care_date": (today - timedelta(days=3)).isoformat(),
            "amount": "42.50",
            "care_type": "pharmacie",
        },
        "sante.devis": {"care_type": "dentaire", "amount": "1250.00", "practitioner": "Dr Roux"},
        "sante.prise_en_charge_hospitaliere": {
            "establishment": "Hôpital Saint-Antoine",
            "finess": "750100125",
            "admission_date": (today + timedelta(days=10)).isoformat(),
            "stay_type": "ambulatoire",
        },
        "sante.attestation_tiers_payant": {},
        "vie.coordonnees": {
            "phone": "06 11 22 33 44",
            "postal_address": {"line1": "5 rue Oberkampf", "postal_code": "75011", "city": "Paris"},
        },
        "vie.coordonnees_bancaires": {"iban": IBAN, "holder_name": "Alice Martin"},
        "vie.prolongation_droits_enfant": {
            "situation": "etudiant",
            "until": date(today.year + 1, 6, 30).isoformat(),  # past Léa's 31 December
        },
        "vie.situation_familiale": {
            "event": "naissance",
            "event_date": (today - timedelta(days=5)).isoformat(),
            "new_beneficiary": {
                "first_name": "Zoé",
                "last_name": "Martin",
                "birth_date": (today - timedelta(days=5)).isoformat(),
                "relationship": "child",
            },
        },
        "vie.autre": {},
        "contact.demande": {"subject": "remboursements", "detail": "decompte"},
    }


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "sante.justificatif": (
        {"care_date": "2999-01-01", "amount": "42.50", "care_type": "pharmacie"},
        "data.care_date",
    ),
    "sante.devis": ({"care_type": "dentaire", "amount": "-3.00"}, "data.amount"),
    "sante.prise_en_charge_hospitaliere": (
        {
            "establishment": "CHU",
            "finess": "750100125",
            "admission_date": "2001-01-01",
            "stay_type": "ambulatoire",
        },
        "data.admission_date",
    ),
    "vie.coordonnees": ({"email": "pas-un-email"}, "data.email"),
    "vie.coordonnees_bancaires": ({"iban": "FR76", "holder_name": "A"}, "data.iban"),
    "vie.prolongation_droits_enfant": (
        {"situation": "etudiant", "until": "2001-01-01"},
        "data.until",
    ),
    "vie.situation_familiale": (
        {"event": "mariage", "event_date": "2999-01-01"},
        "data.event_date",
    ),
    "contact.demande": ({"subject": "remboursements", "detail": "echeancier"}, "data.detail"),
}

NEEDS_UPLOAD = {
    "sante.justificatif",
    "sante.devis",
    "vie.coordonnees_bancaires",
    "vie.prolongation_droits_enfant",
    "vie.situation_familiale",
}


def _body(who: SignedIn, request_type: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    beneficiary = "03" if request_type == "vie.prolongation_droits_enfant" else "01"
    body: dict[str, Any] = {
        "type": request_type,
        "beneficiary_ids": [f"{who.member_id}-{beneficiary}"],
        "data": data,
    }
    if request_type in {"vie.autre", "contact.demande"}:
        body["description"] = "Bonjour, pourriez-vous m'aider ? Merci d'avance."
    return {**body, **extra}


@pytest.mark.parametrize("request_type", sorted(_valid(date.today())))
def test_every_type_is_filed_and_recalled_exactly(
    api: Api, alice: SignedIn, today: date, request_type: str
) -> None:
    data = _valid(today)[request_type]
    body = _body(alice, request_type, data)
    if request_type in NEEDS_UPLOAD:
        body["upload_ids"] = [upload(api, alice, PDF_BYTES)]
    answer = api.post("/requests", alice, body=body)
    assert answer.status == 201, answer.body
    created = answer.body
    assert answer.headers["Location"] == f"/requests/{created['request_id']}"
    assert created["type"] == request_type
    assert created["status"] == "in_progress"
    assert created["history"][0]["status"] == "in_progress"
    assert created["beneficiaries"][0]["last_name"] == "Martin"
    detail = api.get(f"/requests/{created['request_id']}", alice).body
    assert detail == created
    expected = dict(data)
    if request_type == "vie.coordonnees_bancaires":
        expected = {"iban": "FR** **** **** **** **** ***0 189", "holder_name": "Alice Martin"}
    if request_type == "vie.coordonnees":
        expected["postal_address"] = {**data["postal_address"], "country": "FR"}
    assert detail["recall"] == {"description": body.get("description"), "data": expected}


def test_labels_and_services_come_from_the_catalogue(api: Api, alice: SignedIn) -> None:
    body = _body(alice, "contact.demande", {"subject": "cotisations", "detail": "montant"})
    asked = api.post("/requests", alice, body=body).body
    assert (asked["label"], asked["service"], asked["complaint"]) == (
        "Demande",
        "relation_adherent",
        False,
    )
    complaint = api.post("/requests", alice, body={**body, "complaint": True}).body
    assert (complaint["label"], complaint["service"], complaint["complaint"]) == (
        "Réclamation",
        "reclamations",
        True,
    )


@pytest.mark.parametrize("request_type", sorted(INVALID))
def test_invalid_data_of_every_type_names_the_field(
    api: Api, alice: SignedIn, request_type: str
) -> None:
    data, field = INVALID[request_type]
    answer = api.post("/requests", alice, body=_body(alice, request_type, data))
    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_error"
    assert field in [f["field"] for f in answer.body["error"]["fields"]]


def test_beneficiaries_must_be_on_the_contract_once_each(
    api: Api, alice: SignedIn, bob: SignedIn
) -> None:
    base = _body(alice, "sante.attestation_tiers_payant", {})
    mine = f"{alice.member_id}-01"
    cases = {
        (mine, f"{bob.member_id}-01"): "beneficiary_ids[1]",
        (mine, mine): "beneficiary_ids[1]",
        (mine, "inconnu"): "beneficiary_ids[1]",
    }
    for ids, field in cases.items():
        answer = api.post("/requests", alice, body={**base, "beneficiary_ids": list(ids)})
        assert answer.status == 422, ids
        assert [f["field"] for f in answer.body["error"]["fields"]] == [field]
    empty = api.post("/requests", alice, body={**base, "beneficiary_ids": []})
    assert empty.status == 422
    assert empty.body["error"]["fields"][0]["field"] == "beneficiary_ids"


def test_adult_child_extension_only_for_a_child_of_eighteen_or_more(
    api: Api, alice: SignedIn, today: date
) -> None:
    body = _body(
        alice, "vie.prolongation_droits_enfant", _valid(today)["vie.prolongation_droits_enfant"]
    )
    body["upload_ids"] = [upload(api, alice, PDF_BYTES)]
    for young in ("04", "01"):  # a child of 12, the member herself
        answer = api.post(
            "/requests", alice, body={**body, "beneficiary_ids": [f"{alice.member_id}-{young}"]}
        )
        assert answer.status == 422
        assert answer.body["error"]["fields"][0]["field"] == "beneficiary_ids[0]"
    assert api.post("/requests", alice, body=body).status == 201  # Léa, 19


def test_complaint_only_on_the_contact_form(api: Api, alice: SignedIn) -> None:
    answer = api.post(
        "/requests", alice, body=_body(alice, "sante.attestation_tiers_payant", {}, complaint=True)
    )
    assert answer.status == 422
    assert [f["field"] for f in answer.body["error"]["fields"]] == ["complaint"]


@pytest.mark.parametrize("wrong", ["yes", "true", 1, "false", 0])
def test_the_complaint_flag_is_a_json_boolean_never_read_into_one(
    api: Api, local_stack: LocalStack, alice: SignedIn, wrong: Any
) -> None:
    """ "yes" filed a real complaint (the complaints service, its ACPR deadlines)."""
    body = _body(alice, "contact.demande", {"subject": "remboursements", "detail": "decompte"},
                 complaint=wrong)  # fmt: skip
    before = count_items(local_stack, alice.member_id or "")
    answer = api.post("/requests", alice, body=body)
    assert answer.status == 422, answer.body
    assert answer.body["error"]["fields"] == [{"field": "complaint", "message": "Booléen attendu."}]
    assert count_items(local_stack, alice.member_id or "") == before


def test_a_date_is_yyyy_mm_dd_and_nothing_else(api: Api, alice: SignedIn, today: date) -> None:
    """A timestamp, as a number or as text, and a date-time at midnight were read as dates."""
    day = today - timedelta(days=2)
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    for wrong in (midnight, str(midnight), f"{day.isoformat()}T00:00:00Z", day.strftime("%Y%m%d")):
        body = _body(alice, "sante.justificatif",
                     {"care_date": wrong, "amount": "12.00", "care_type": "pharmacie"},
                     upload_ids=[upload(api, alice, PDF_BYTES)])  # fmt: skip
        answer = api.post("/requests", alice, body=body)
        assert answer.status == 422, (wrong, answer.body)
        assert answer.body["error"]["fields"] == [
            {"field": "data.care_date", "message": "Date invalide (AAAA-MM-JJ)."}
        ]
    body = _body(alice, "sante.justificatif",
                 {"care_date": day.isoformat(), "amount": "12.00", "care_type": "pharmacie"},
                 upload_ids=[upload(api, alice, PDF_BYTES)])  # fmt: skip
    assert api.post("/requests", alice, body=body).status == 201


def test_the_contact_forms_subject_and_detail_are_refused_each_on_its_field(
    api: Api, alice: SignedIn
) -> None:
    """Refused on `data` with « sujet inconnu: » or « détail inconnu pour le sujet
    remboursements: », the form had no field to show it beside."""
    cases = [
        ({"subject": "", "detail": ""}, "data.subject", "Choisissez un sujet dans la liste."),
        ({"subject": "remboursements", "detail": ""}, "data.detail",
         "Choisissez un détail de ce sujet dans la liste."),
        ({"subject": "remboursements", "detail": "inconnu"}, "data.detail",
         "Choisissez un détail de ce sujet dans la liste."),
    ]  # fmt: skip
    for data, field, message in cases:
        answer = api.post("/requests", alice, body=_body(alice, "contact.demande", data))
        assert answer.status == 422, answer.body
        assert answer.body["error"]["fields"] == [{"field": field, "message": message}]


def test_description_is_required_where_the_form_asks_and_at_most_4000_characters(
    api: Api, alice: SignedIn
) -> None:
    body = _body(alice, "vie.autre", {})
    missing = api.post("/requests", alice, body={**body, "description": "   "})
    assert missing.status == 422
    assert [f["field"] for f in missing.body["error"]["fields"]] == ["description"]
    too_long = api.post("/requests", alice, body={**body, "description": "é" * 4001})
    assert too_long.status == 422
    assert [f["field"] for f in too_long.body["error"]["fields"]] == ["description"]
    assert api.post("/requests", alice, body={**body, "description": "é" * 4000}).status == 201


def test_unknown_type_is_a_validation_error_on_type(api: Api, alice: SignedIn) -> None:
    for body in (
        {"type": "sante.teleportation", "beneficiary_ids": ["x"]},
        {"beneficiary_ids": ["x"]},
    ):
        answer = api.post("/requests", alice, body=body)
        assert answer.status == 422
        assert answer.body["error"]["fields"][0]["field"] == "type"


@pytest.mark.parametrize(
    "field", ["status", "member_id", "created_at", "outcome", "request_id", "history"]
)
def test_server_owned_fields_are_refused_and_nothing_is_stored(
    api: Api, local_stack: LocalStack, alice: SignedIn, field: str
) -> None:
    before = count_items(local_stack, alice.member_id or "")
    body = _body(alice, "sante.attestation_tiers_payant", {}, **{field: "processed"})
    answer = api.post("/requests", alice, body=body)
    assert answer.status == 400
    assert answer.body["error"]["code"] == "bad_request"
    assert [f["field"] for f in answer.body["error"]["fields"]] == [field]
    assert count_items(local_stack, alice.member_id or "") == before


def test_unknown_fields_are_refused_with_400(api: Api, alice: SignedIn) -> None:
    answer = api.post(
        "/requests", alice, body=_body(alice, "vie.autre", {"couleur": "bleu"}, urgent=True)
    )
    assert answer.status == 400
    assert sorted(f["field"] for f in answer.body["error"]["fields"]) == ["data.couleur", "urgent"]


def test_malformed_oversized_and_non_json_bodies(api: Api, alice: SignedIn) -> None:
    for raw in ("{", "[1, 2", "", "null", "[]", '"texte"'):
        answer = api.post("/requests", alice, raw=raw)
        assert answer.status == 400, raw
        assert answer.body["error"]["code"] == "bad_request"
    big = _body(alice, "vie.autre", {}, description="x" * (70 * 1024))
    assert api.post("/requests", alice, body=big).status == 413
    form = api.post(
        "/requests", alice, raw="a=b", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (form.status, form.body["error"]["code"]) == (415, "unsupported_media_type")
    # The media type, not its first letters; its parameters aside.
    for media_type in ("application/jsonpatch", "application/json-seq"):
        answer = api.post("/requests", alice, raw="{}", headers={"Content-Type": media_type})
        assert answer.status == 415, media_type
    charset = {"Content-Type": "application/json; charset=utf-8"}
    assert api.post("/requests", alice, raw="[]", headers=charset).status == 400  # read: JSON


def test_full_iban_never_comes_back(api: Api, alice: SignedIn, today: date) -> None:
    body = _body(alice, "vie.coordonnees_bancaires", _valid(today)["vie.coordonnees_bancaires"])
    body["upload_ids"] = [upload(api, alice, PDF_BYTES)]
    created = api.post("/requests", alice, body=body)
    for answer in (created, api.get(f"/requests/{created.body['request_id']}", alice)):
        flat = str(answer.body).replace(" ", "")
        assert "30006000011234567890" not in flat


def test_pointer_with_ids_only_reaches_intake(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    drain_queue(local_stack, "intake")
    created = api.post(
        "/requests", alice, body=_body(alice, "sante.attestation_tiers_payant", {})
    ).body
    assert drain_queue(local_stack, "intake") == [
        {"request_id": created["request_id"], "member_id": alice.member_id}
    ]


def test_filing_hands_its_outbox_to_the_router_which_dispatches_and_clears_it(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    """The member's call reads what its checks need in one BatchGetItem (the beneficiaries and
    uploads named, the day's count, the key's record), sends the pointer to intake, naming its
    outbox entry, and nothing else: no read of the request item, no audit record, no event, no
    delete of the staged uploads (docs/performance.md, issue 18). The router, handed that
    message, dispatches the rest (`RequestFiled` before `RequestRouted`), sends no second
    pointer to intake, clears the outbox and removes the staged uploads."""
    from chalicelib.routing.router import handle_intake
    from chalicelib.store.queues import OUTBOX_ENTRY_ATTRIBUTE
    from chalicelib.store.requests import RequestRepository

    drain_queue(local_stack, "intake")
    files = [upload(api, alice, PDF_BYTES), upload(api, alice, PDF_BYTES)]
    body = _body(alice, "vie.autre", {}, upload_ids=files)
    with aws_calls_made() as calls:
        created = api.post(
            "/requests", alice, body=body, headers={"Idempotency-Key": "hand-over"}
        ).body
    request_id = created["request_id"]
    names = [name for name, _ in calls]
    assert [n for n in names if n in {"GetItem", "Query", "BatchGetItem"}] == ["BatchGetItem"]
    [batch] = [p for n, p in calls if n == "BatchGetItem"]
    [wanted] = batch["RequestItems"].values()
    assert len(wanted["Keys"]) == 5  # a beneficiary, two uploads, the day's count, the key's
    assert "PutEvents" not in names and names.count("SendMessage") == 1
    assert "DeleteObjects" not in names
    staged = [keys.staged_object(alice.member_id, f) for f in files]
    assert [k for k in staged if current_objects(local_stack, k)] == staged
    assert not [p for _, p in calls if "AUDIT" in json.dumps(p)]  # no audit record, no head
    assert not [p for n, p in calls if n in {"GetItem", "Query", "BatchGetItem"}
                and f"REQ#{request_id}" in json.dumps(p)]  # fmt: skip
    [intake, filed] = RequestRepository().outbox(alice.member_id, request_id)
    assert (intake["queue"], filed["detail_type"]) == ("intake", "RequestFiled")

    sqs = local_stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{local_stack.outputs['QueuePrefix']}intake")["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert json.loads(message["Body"]) == {"request_id": request_id, "member_id": alice.member_id}
    named = message["MessageAttributes"][OUTBOX_ENTRY_ATTRIBUTE]["StringValue"]
    assert named == intake["id"]

    record_of_lambda = {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"], "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {OUTBOX_ENTRY_ATTRIBUTE: {"stringValue": named,
                                                       "dataType": "String"}},
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-3:123456789012:intake",
        "awsRegion": "eu-west-3", "md5OfBody": "",
    }  # fmt: skip
    assert handle_intake({"Records": [record_of_lambda]}) == {"batchItemFailures": []}
    assert RequestRepository().outbox(alice.member_id, request_id) == []
    assert [k for k in staged if current_objects(local_stack, k)] == []  # the router removed them
    assert drain_queue(local_stack, "intake") == []  # the entry it came for is not sent again
    detail = api.get(f"/requests/{request_id}", alice).body
    assert detail["history"][-1]["label"].startswith("Transmise")


# --- idempotency (Stripe's semantics) -----------------------------------------------------


def _timeline_ids(api: Api, who: SignedIn) -> list[str]:
    months = api.get("/requests?limit=12", who).body["months"]
    return [r["request_id"] for m in months for r in m["requests"]]


def test_same_key_and_body_replays_the_same_answer(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    drain_queue(local_stack, "intake")
    body = _body(alice, "sante.attestation_tiers_payant", {})
    first = api.post("/requests", alice, body=body, headers={"Idempotency-Key": "clé-1"})
    assert first.status == 400  # non-ASCII key
    first = api.post("/requests", alice, body=body, headers={"Idempotency-Key": "key-1"})
    again = api.post(
        "/requests", alice, body=dict(reversed(body.items())), headers={"Idempotency-Key": "key-1"}
    )
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _timeline_ids(api, alice) == [first.body["request_id"]]
    assert len(drain_queue(local_stack, "intake")) == 1


def test_same_key_with_another_body_is_a_conflict(api: Api, alice: SignedIn) -> None:
    body = _body(alice, "sante.attestation_tiers_payant", {})
    assert api.post("/requests", alice, body=body, headers={"Idempotency-Key": "k2"}).status == 201
    other = {**body, "beneficiary_ids": [f"{alice.member_id}-02"]}
    answer = api.post("/requests", alice, body=other, headers={"Idempotency-Key": "k2"})
    assert (answer.status, answer.body["error"]["code"]) == (409, "conflict")
    assert len(_timeline_ids(api, alice)) == 1


def test_a_key_kept_by_a_reply_is_not_replayed_as_a_filing(api: Api, alice: SignedIn) -> None:
    """A reply's key is kept beside the filings' as `reply:<request>:<key>`, a key a filing may
    send too. A filing sent with it and the reply's body (a 422 body, so the key's record
    answers) read the reply's record as a filing's: 500 « Erreur interne. », and an error
    logged, at every call. It is the key's 409, as any key used for another body."""
    filed = api.post("/requests", alice, body=_body(alice, "sante.attestation_tiers_payant", {}))
    request_id = filed.body["request_id"]
    reply = {"message": "Voici la facture détaillée."}
    key = {"Idempotency-Key": "r1"}
    assert api.post(f"/requests/{request_id}/replies", alice, body=reply, headers=key).status == 201

    crafted = {"Idempotency-Key": f"reply:{request_id}:r1"}
    answer = api.post("/requests", alice, body=reply, headers=crafted)
    assert (answer.status, answer.body["error"]["code"]) == (409, "conflict"), answer.body


def test_keys_belong_to_their_member(api: Api, alice: SignedIn, bob: SignedIn) -> None:
    a = api.post(
        "/requests",
        alice,
        body=_body(alice, "sante.attestation_tiers_payant", {}),
        headers={"Idempotency-Key": "shared"},
    )
    b = api.post(
        "/requests",
        bob,
        body=_body(bob, "sante.attestation_tiers_payant", {}),
        headers={"Idempotency-Key": "shared"},
    )
    assert (a.status, b.status) == (201, 201)
    assert a.body["request_id"] != b.body["request_id"]


def test_racing_identical_posts_make_one_request(http_api: str, api: Api, alice: SignedIn) -> None:
    """Ten identical POSTs at once, over HTTP to the threaded local server."""
    import requests

    body = _body(alice, "sante.attestation_tiers_payant", {})
    headers = {**alice.headers, "Idempotency-Key": "race"}

    def post(_: int) -> tuple[int, str]:
        answer = requests.post(f"{http_api}/requests", json=body, headers=headers, timeout=30)
        return answer.status_code, answer.json()["request_id"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(10)))
    assert {status for status, _ in results} == {201}
    assert len({request_id for _, request_id in results}) == 1
    assert _timeline_ids(api, alice) == [results[0][1]]


def test_an_adult_childs_extension_must_end_after_their_current_coverage_end(
    api: Api, alice: SignedIn, today: date
) -> None:
    """Léa is covered to 31 December (the seed): an extension to that day or earlier would
    bring her end no later (accepted, it once brought it earlier under « prolongée »)."""
    covered_to = date(today.year, 12, 31)
    base = _body(alice, "vie.prolongation_droits_enfant", {"situation": "etudiant"})
    on_the_end = {**base, "data": {**base["data"], "until": covered_to.isoformat()}}
    on_the_end["upload_ids"] = [upload(api, alice, PDF_BYTES)]
    answer = api.post("/requests", alice, body=on_the_end)
    assert answer.status == 422, answer.body
    [field] = answer.body["error"]["fields"]
    assert field["field"] == "data.until"
    assert f"déjà jusqu'au 31 décembre {today.year}" in field["message"]
    day_after = covered_to + timedelta(days=1)
    next_day = {**base, "data": {**base["data"], "until": day_after.isoformat()}}
    next_day["upload_ids"] = [upload(api, alice, PDF_BYTES)]
    answer = api.post("/requests", alice, body=next_day)
    assert answer.status == 201, answer.body


@pytest.mark.parametrize(
    ("country", "answer", "kept"),
    [("ZZ", 422, None), ("NC", 422, None), ("RE", 201, "FR"), ("IT", 201, "IT"), (None, 201, "FR")],
)
def test_a_postal_address_is_in_a_country_its_letters_can_write(
    api: Api, bob: SignedIn, country: str | None, answer: int, kept: str | None
) -> None:
    """Any two letters passed as a country (`ZZ`, `NC`), printed as they were on the letters'
    address; La Réunion's `RE` printed « RE » under « 97400 SAINT-DENIS ». A country is one
    of those a five-digit postal code can be in, the overseas départements France."""
    address = {"line1": "3 rue de Paris", "postal_code": "97400", "city": "Saint-Denis"}
    if country is not None:
        address["country"] = country
    body = {"type": "vie.coordonnees", "beneficiary_ids": [f"{bob.member_id}-01"],
            "data": {"postal_address": address}}  # fmt: skip
    filed = api.post("/requests", bob, body=body)
    assert filed.status == answer, filed.body
    if kept is None:
        fields = [f["field"] for f in filed.body["error"]["fields"]]
        assert fields == ["data.postal_address.country"]
    else:
        assert filed.body["recall"]["data"]["postal_address"]["country"] == kept


@pytest.mark.parametrize(
    "phone", ["06.12.34.56.78", "06-12-34-56-78", "+33 (0)6 12 34 56 78", "+33.6.12.34.56.78"]
)
def test_a_phone_number_is_taken_as_members_write_it(api: Api, bob: SignedIn, phone: str) -> None:
    """Points between the pairs, the trunk 0 beside +33: « Format invalide. » on `data.phone`,
    with nothing to say why. Each is a French number, and an SMS reaches it."""
    from chalicelib.domain.notifications import sms_number

    body = {"type": "vie.coordonnees", "beneficiary_ids": [f"{bob.member_id}-01"],
            "data": {"phone": phone}}  # fmt: skip
    filed = api.post("/requests", bob, body=body)
    assert filed.status == 201, filed.body
    assert sms_number(phone) == "+33612345678"


@pytest.mark.parametrize("holder", ["Nguyễn Văn An", "Łukasz Wiśniewski", "Zoë Ça"])
def test_an_account_holder_s_name_may_be_written_in_any_latin_letters(
    api: Api, bob: SignedIn, holder: str
) -> None:
    """« Nguyễn Văn An » and « Łukasz Wiśniewski », as on their RIB, were « Format invalide. »
    (Latin-1's letters only); and a name typed decomposed (`e` and its accent, as some keyboards
    send it) was refused where its composed form passed."""
    import unicodedata

    from chalicelib.domain.iban import holder_problem
    from tests.conftest import PDF_BYTES, upload

    for written in (holder, unicodedata.normalize("NFD", holder)):
        data = {"iban": "FR1420041010050500013M02606", "holder_name": written}
        body = {"type": "vie.coordonnees_bancaires", "beneficiary_ids": [f"{bob.member_id}-01"],
                "data": data, "upload_ids": [upload(api, bob, PDF_BYTES)]}  # fmt: skip
        filed = api.post("/requests", bob, body=body)
        assert filed.status == 201, filed.body
        assert filed.body["recall"]["data"]["holder_name"] == unicodedata.normalize("NFC", holder)
    assert holder_problem(holder) is None
