"""What on-call engineers read: JSON logs, correlated end to end, with no personal data."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, upload


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def _whole_flow(api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn) -> list[str]:
    """Every démarche alice can file, routed, answered, read back and downloaded."""
    today = datetime.now(UTC).date()
    me = f"{alice.member_id}-01"
    bodies: list[dict[str, Any]] = [
        {
            "type": "sante.justificatif",
            "data": {"care_date": today.isoformat(), "amount": "42.50", "care_type": "pharmacie"},
            "upload": True,
        },
        {
            "type": "sante.devis",
            "data": {"care_type": "dentaire", "amount": "900.00"},
            "upload": True,
        },
        {
            "type": "sante.prise_en_charge_hospitaliere",
            "data": {
                "establishment": "Clinique des Lilas",
                "finess": "930150043",
                "admission_date": (today + timedelta(days=5)).isoformat(),
                "stay_type": "maternite",
            },
        },
        {"type": "sante.attestation_tiers_payant"},
        {
            "type": "vie.coordonnees",
            "data": {
                "phone": "07 55 44 33 22",
                "postal_address": {
                    "line1": "8 impasse des Glycines",
                    "postal_code": "69003",
                    "city": "Lyon",
                },
            },
        },
        {
            "type": "vie.coordonnees_bancaires",
            "upload": True,
            "data": {"iban": "DE89 3704 0044 0532 0130 00", "holder_name": "Alice Martin"},
        },
        {
            "type": "vie.coordonnees_bancaires",
            "upload": True,
            "data": {"iban": "FR7630006000011234567890188", "holder_name": "Alice Martin"},
            "expect": 422,  # wrong check digits: refused when filed, the IBAN in no log
        },
        {
            "type": "vie.prolongation_droits_enfant",
            "beneficiary_ids": [f"{alice.member_id}-03"],
            "data": {"situation": "etudiant", "until": date(today.year + 1, 6, 30).isoformat()},
            "upload": True,
        },
        {
            "type": "vie.situation_familiale",
            "upload": True,
            "data": {
                "event": "naissance",
                "event_date": today.isoformat(),
                "new_beneficiary": {
                    "first_name": "Zoé",
                    "last_name": "Martin",
                    "birth_date": today.isoformat(),
                    "relationship": "child",
                },
            },
        },
        {"type": "vie.autre", "description": "Ma fille Léa entre en licence à Lyon."},
        {
            "type": "contact.demande",
            "complaint": True,
            "description": "Dépassement d'honoraires du Dr Morel pour ma sciatique.",
            "data": {"subject": "remboursements", "detail": "montant_conteste"},
        },
    ]
    filed = []
    for body in bodies:
        body = {"beneficiary_ids": [me], **body}
        if body.pop("upload", False):
            body["upload_ids"] = [upload(api, alice, PDF_BYTES, filename="scan-alice-martin.pdf")]
        expected = body.pop("expect", 201)
        answer = api.post("/requests", alice, body=body)
        assert answer.status == expected, answer.body
        if expected == 201:
            filed.append(answer.body["request_id"])
    pump.drain()
    for request_id in filed:
        detail = api.get(f"/requests/{request_id}", alice).body
        if detail["status"] == "in_progress":
            decided = api.post(
                f"/backoffice/members/{alice.member_id}/requests/{request_id}/decision",
                agent,
                body={"outcome": "refused", "message": "Pièce illisible pour Alice Martin."},
            )
            assert decided.status == 200, decided.body
    for document in api.get("/documents", alice).body["documents"]:
        url = api.get(f"/documents/{document['document_id']}/download", alice).body["url"]
        assert requests.get(url, timeout=30).content.startswith(b"%PDF-")
    assert api.get("/me", alice).status == 200
    assert api.get("/me/beneficiaries", alice).status == 200
    assert api.get("/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV", alice).status == 404
    return filed


PERSONAL_VALUES = [
    "Alice",
    "Martin",
    "Julien",
    "Léa",
    "Hugo",
    "Zoé",
    "alice.martin@example.fr",
    "06 12 34 56 78",
    "07 55 44 33 22",
    "12 rue de la Roquette",
    "8 impasse des Glycines",
    "FR7630006000011234567890189",
    "30006000011234567890",
    "370400440532013000",
    "DE89370400440532013000",
    "sciatique",
    "Morel",
    "licence",
    "Clinique des Lilas",
    "scan-alice-martin",
]


def test_a_whole_run_logs_no_personal_data(
    api: Api,
    pump: QueuePump,
    alice: SignedIn,
    agent_all: SignedIn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    _whole_flow(api, pump, alice, agent_all)
    out = capsys.readouterr().out
    lines = _json_lines(out)
    assert len(lines) > 50  # the run was logged, as JSON
    for value in [*PERSONAL_VALUES, alice.member_id or "?"]:
        assert value not in out, value
    assert any("member_ref" in line for line in lines)  # members are pseudonymised, not absent


def test_each_line_is_written_once_in_json() -> None:
    """Chalice sets up a logger named after the app (plain text, on stdout); Powertools' logger
    bears the same name, the service's. In a function's order (the app imported, then the
    first call makes the Powertools logger), every line went out twice, once not in JSON and
    with an exception's whole text. Run in a fresh interpreter: the tests' own order (the
    logger made before the app's import) hid it."""
    script = (
        "import logging, app\n"
        "from chalicelib.observability import powertools_logger\n"
        "handler = powertools_logger()._logger.powertools_handler\n"
        "for name in ('chalicelib', 'generation-demarches'):\n"
        "    print(name, logging.getLogger(name).handlers == [handler])\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert ran.stdout.split() == ["chalicelib", "True", "generation-demarches", "True"]


def test_a_failure_before_any_route_is_logged_by_type_and_place_not_by_its_text(
    api: Api, alice: SignedIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What fails in the middleware (here, the account binding's read) is answered 500 in our
    shape and logged as the routes' failures are: Chalice's own log of it would quote its
    text, which can hold what failed (here, an e-mail address)."""
    from chalicelib.api import auth

    def broken() -> Any:
        raise RuntimeError("alice.martin@example.org")

    monkeypatch.setattr(auth, "account_bindings", broken)
    capsys.readouterr()
    answer = api._client.http.get("/requests", headers=alice.headers)  # a 500 on purpose
    assert answer.status_code == 500
    assert json.loads(answer.body)["error"]["code"] == "internal_error"
    out = capsys.readouterr().out
    assert "alice.martin@example.org" not in out
    [logged] = [line for line in _json_lines(out) if line.get("message") == "unhandled error"]
    assert logged["error_type"] == "RuntimeError" and "auth.py" in logged["error_at"]


def test_correlation_id_follows_a_request_from_the_api_to_its_service(
    api: Api, pump: QueuePump, alice: SignedIn, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    answer = api.post(
        "/requests",
        alice,
        headers={"X-Correlation-Id": "support-ticket-4711"},
        body={
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-01"],
        },
    )
    assert answer.headers["X-Correlation-Id"] == "support-ticket-4711"
    pump.drain()
    lines = [
        line
        for line in _json_lines(capsys.readouterr().out)
        if line.get("correlation_id") == "support-ticket-4711"
    ]
    functions = {line.get("function") for line in lines}
    assert {"router", "svc_tiers_payant"} <= functions
    assert any(line.get("message", "").startswith("letter issued") for line in lines)
    metrics = [line for line in _json_lines(capsys.readouterr().out) if "_aws" in line]
    assert metrics == [] or all("CloudWatchMetrics" in m["_aws"] for m in metrics)


def test_metrics_are_emitted_as_emf(
    api: Api, pump: QueuePump, alice: SignedIn, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    api.post(
        "/requests",
        alice,
        body={
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-01"],
        },
    )
    pump.drain()
    emitted = {}
    for line in _json_lines(capsys.readouterr().out):
        for metric in line.get("_aws", {}).get("CloudWatchMetrics", [{}])[0].get("Metrics", []):
            emitted[metric["Name"]] = line
    assert emitted["RequestsFiled"]["type"] == "sante.attestation_tiers_payant"
    assert emitted["RequestsRouted"]["Service"] == "tiers_payant"
    assert emitted["LettersIssued"]["kind"] == "attestation_tiers_payant"


def test_a_reclassified_request_is_counted_filed_once(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """A request routed again after an agent's reclassification was counted in `RequestsFiled`
    a second time (the router counted every routing): the dashboard's filings overstated by
    every request handed on. Counted once a filing; each routing in `RequestsRouted`."""
    from tests.conftest import file_justificatif

    capsys.readouterr()
    request_id = file_justificatif(api, alice, datetime.now(UTC).date())
    pump.drain()
    moved = api.post(
        f"/backoffice/members/{alice.member_id}/requests/{request_id}/reclassification",
        agent,
        body={"service": "devis"},
    )
    assert moved.status == 200, moved.body
    pump.drain()
    counted: dict[str, list[dict[str, Any]]] = {}
    for line in _json_lines(capsys.readouterr().out):
        for metric in line.get("_aws", {}).get("CloudWatchMetrics", [{}])[0].get("Metrics", []):
            counted.setdefault(metric["Name"], []).append(line)
    assert [m["type"] for m in counted["RequestsFiled"]] == ["sante.justificatif"]
    assert [m["Service"] for m in counted["RequestsRouted"]] == ["remboursements", "devis"]


def test_a_filing_with_files_keeps_its_correlation_id_on_the_request(
    api: Api, alice: SignedIn
) -> None:
    """A filing's write is built on a pool thread while its files are copied: the request still
    carries the call's correlation id, for the sweeper to send it on with it."""
    from chalicelib import aws
    from chalicelib.domain.requests import month_of
    from chalicelib.store import keys
    from chalicelib.store.dynamo import deserialize, serialize, table

    data = {"care_date": datetime.now(UTC).date().isoformat(), "amount": "42.50",
            "care_type": "pharmacie"}  # fmt: skip
    files = [upload(api, alice, PDF_BYTES), upload(api, alice, PDF_BYTES)]
    body = {"type": "sante.justificatif", "beneficiary_ids": [f"{alice.member_id}-01"],
            "data": data, "upload_ids": files}  # fmt: skip
    answer = api.post(
        "/requests", alice, headers={"X-Correlation-Id": "support-ticket-4712"}, body=body
    )
    assert answer.status == 201, answer.body
    request_id = answer.body["request_id"]
    key = keys.request_key(alice.member_id or "", month_of(request_id), request_id)
    item = aws.client("dynamodb").get_item(TableName=table(), Key=serialize(key))["Item"]
    assert deserialize(item)["correlation_id"] == "support-ticket-4712"
    assert len(answer.body["attachments"]) == 2
