"""A member's data export through the HTTP API and moto: asked (202), building, built by the
`exports` queue's function, the zip downloaded through its link and checked against what the
API answers the member, one at a time, theirs only, expired after 24 hours, built once."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests as http

from chalicelib.domain import clock
from chalicelib.domain.exports import LINK_LIFETIME
from chalicelib.store.exports import ExportRepository
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, drain_queue, upload

NEW_IBAN = "DE89 3704 0044 0532 0130 00"
IBANS = ("FR7630006000011234567890189", NEW_IBAN.replace(" ", ""))


def _file(api: Api, who: SignedIn, body: dict[str, Any]) -> str:
    answer = api.post("/requests", who, body={"beneficiary_ids": [f"{who.member_id}-01"], **body})
    assert answer.status == 201, answer.body
    return str(answer.body["request_id"])


def _file_some(api: Api, who: SignedIn, today: date) -> list[str]:
    """A receipt with a file, a tiers-payant attestation (a letter), and new bank details (an
    IBAN in clear, filed with a RIB)."""
    care = (today - timedelta(days=2)).isoformat()
    data = {"care_date": care, "amount": "80.00", "care_type": "optique"}
    receipt = _file(api, who, {"type": "sante.justificatif", "data": data,
                               "upload_ids": [upload(api, who, PDF_BYTES)]})  # fmt: skip
    tiers = _file(api, who, {"type": "sante.attestation_tiers_payant"})
    rib = upload(api, who, PDF_BYTES, filename="rib.pdf")
    bank = _file(api, who, {"type": "vie.coordonnees_bancaires", "upload_ids": [rib],
                            "data": {"iban": NEW_IBAN, "holder_name": "Alice Martin"}})  # fmt: skip
    return [receipt, tiers, bank]


def _ask(api: Api, who: SignedIn) -> dict[str, Any]:
    answer = api.post("/me/exports", who)
    assert answer.status == 202, answer.body
    assert answer.headers["Location"] == f"/me/exports/{answer.body['export_id']}"
    return dict(answer.body)


def _download(url: str) -> bytes:
    got = http.get(url, timeout=30)
    assert got.status_code == 200, got.text
    return got.content


def test_the_export_is_built_from_the_queue_and_holds_what_the_api_answers(
    api: Api, pump: QueuePump, alice: SignedIn, today: date
) -> None:
    from pypdf import PdfReader

    receipt, tiers, bank = _file_some(api, alice, today)
    pump.drain()
    asked = _ask(api, alice)
    assert asked == {"export_id": asked["export_id"], "status": "building", "url": None,
                     "expires_at": None}  # fmt: skip
    path = f"/me/exports/{asked['export_id']}"
    assert api.get(path, alice).body["status"] == "building"

    pump.drain()
    ready = api.get(path, alice).body
    assert ready["status"] == "ready" and ready["url"]
    assert ready["expires_at"] > clock.iso_z(clock.now() + LINK_LIFETIME - timedelta(minutes=5))
    archive = zipfile.ZipFile(io.BytesIO(_download(ready["url"])))
    names = archive.namelist()

    def read_json(name: str) -> Any:
        return json.loads(archive.read(name))

    assert read_json("profile.json") == api.get("/me", alice).body
    assert read_json("beneficiaries.json") == api.get("/me/beneficiaries", alice).body
    exported = read_json("requests.json")["requests"]
    assert [r["request_id"] for r in exported] == [bank, tiers, receipt]  # newest first
    for detail in exported:
        assert detail == api.get(f"/requests/{detail['request_id']}", alice).body
    assert exported[0]["recall"]["data"]["iban"] != NEW_IBAN  # masked, as the API shows it

    documents = api.get("/documents", alice).body["documents"]
    assert documents  # the attestation, at least
    for document in documents:
        [name] = [n for n in names if n.startswith(f"courriers/{document['document_id']}-")]
        pdf = archive.read(name)
        assert pdf.startswith(b"%PDF")
        link = api.get(f"/documents/{document['document_id']}/download", alice).body["url"]
        assert pdf == _download(link)
    for request_id in (receipt, bank):
        [attachment] = api.get(f"/requests/{request_id}", alice).body["attachments"]
        entry = (
            f"pieces-jointes/{request_id}/{attachment['attachment_id']}-{attachment['filename']}"
        )
        assert archive.read(entry) == PDF_BYTES
    readme = archive.read("README.txt").decode("utf-8")
    assert "3 démarche(s)" in readme and "Ce fichier." in readme
    for listed in ("profile.json", "beneficiaries.json", "requests.json", "courriers/"):
        assert listed in readme

    for name in names:  # never an IBAN in clear, in any file, PDFs' text included
        data = archive.read(name)
        text = (
            "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
            if data.startswith(b"%PDF") and name.startswith("courriers/")
            else data.decode("utf-8", errors="replace")
        )
        for iban in IBANS:
            assert iban not in "".join(text.split()), name


def test_one_export_at_a_time_and_anothers_export_is_not_found(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn
) -> None:
    asked = _ask(api, alice)
    refused = api.post("/me/exports", alice, body={})
    assert refused.status == 409 and refused.body["error"]["code"] == "conflict"
    path = f"/me/exports/{asked['export_id']}"
    assert refused.headers["Location"] == path  # the one building, to follow instead
    for who, wanted in ((bob, path), (alice, "/me/exports/01JC9ZP7Q8W3Y5V2N4M6K8H0GF"),
                        (alice, "/me/exports/nothing")):  # fmt: skip
        answer = api.get(wanted, who)
        assert answer.status == 404 and answer.body["error"]["code"] == "not_found"
    assert api.post("/me/exports", alice, body={"format": "csv"}).status == 400
    pump.drain()
    assert api.get(path, alice).body["status"] == "ready"
    assert _ask(api, alice)["export_id"] != asked["export_id"]  # ready: the next one may start
    pump.drain()


def test_the_link_ends_24_hours_after_the_export_was_ready(
    api: Api, pump: QueuePump, alice: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"/me/exports/{_ask(api, alice)['export_id']}"
    built = clock.now()
    monkeypatch.setattr(clock, "now", lambda: built)
    pump.drain()
    ready = api.get(path, alice).body
    ends = clock.parse_timestamp(ready["expires_at"])
    assert ends == built.replace(microsecond=built.microsecond // 1000 * 1000) + LINK_LIFETIME

    last_minute: datetime = ends - timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: last_minute)
    late = api.get(path, alice).body
    assert late["status"] == "ready" and "Expires=60" in late["url"]  # never past expires_at
    monkeypatch.setattr(clock, "now", lambda: ends)
    expired = api.get(path, alice).body
    assert expired == {"export_id": ready["export_id"], "status": "expired", "url": None,
                       "expires_at": ready["expires_at"]}  # fmt: skip


def test_a_redelivered_message_builds_once_and_leaves_the_ready_export_as_it_is(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn
) -> None:
    asked = _ask(api, alice)
    [message] = drain_queue(local_stack, "exports")
    assert message == {"member_id": alice.member_id, "export_id": asked["export_id"]}  # IDs only
    sqs = local_stack.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{local_stack.outputs['QueuePrefix']}exports")["QueueUrl"]
    for _ in range(2):  # delivered twice in one batch...
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
    pump.drain()
    path = f"/me/exports/{asked['export_id']}"
    ready = api.get(path, alice).body
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))  # ...and once more, later
    pump.drain()

    s3 = local_stack.client("s3")
    key = f"exports/{alice.member_id}/{asked['export_id']}.zip"
    versions = s3.list_object_versions(Bucket=local_stack.outputs["BucketName"], Prefix=key)
    assert len(versions.get("Versions", [])) == 1
    again = api.get(path, alice).body
    assert (again["status"], again["expires_at"]) == ("ready", ready["expires_at"])
    assert zipfile.ZipFile(io.BytesIO(_download(again["url"]))).testzip() is None
    head = s3.head_object(Bucket=local_stack.outputs["BucketName"], Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"


def _unreachable(*_: Any) -> None:
    raise ConnectionError("SQS unreachable")


def test_five_exports_a_day_then_429_until_midnight_in_paris(
    api: Api, pump: QueuePump, alice: SignedIn, bob: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each export reads and copies every file the member has, and its zip is kept 7 days: one
    at a time was the only bound, and a member (or a stolen token) could ask for one a second
    all day. API.md's limits bound the other costly calls; the export has its own."""
    from chalicelib.settings import Settings

    allowed = int(Settings.model_fields["exports_per_day"].default)
    assert allowed == 5
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    with monkeypatch.context() as unreachable:  # not queued: not counted (its place given back)
        unreachable.setattr(ExportRepository, "send", _unreachable)
        for _ in range(allowed + 1):
            assert api.post("/me/exports", alice).status == 503
    for _ in range(allowed):
        _ask(api, alice)
        pump.drain()
    refused = api.post("/me/exports", alice)
    assert refused.status == 429, refused.body
    assert refused.body["error"]["code"] == "too_many_requests"
    assert "5 exports de vos données aujourd'hui" in refused.body["error"]["message"]
    assert int(refused.headers["Retry-After"]) == clock.seconds_until_next_day(now)
    _ask(api, bob)  # another member's day is theirs
    pump.drain()

    midnight = datetime.combine(clock.paris_date(now) + timedelta(days=1),
                                datetime.min.time(), clock.PARIS)  # fmt: skip
    monkeypatch.setattr(clock, "now", lambda: midnight)
    _ask(api, alice)  # a new day in Paris
    pump.drain()


def test_an_abandoned_export_gives_its_place_back_once(
    local_stack: LocalStack, alice: SignedIn
) -> None:
    """The place was given back by a write of its own, made again when its answer was lost
    (botocore's retry): one export more than the day allows. Ended and given back in one
    transaction, a second abandon finds it ended and gives nothing back."""
    from ulid import ULID

    from chalicelib.domain.exports import ExportRecord
    from chalicelib.services.filing import daily_limit
    from chalicelib.store import keys
    from chalicelib.store.dynamo import serialize

    now = clock.now()
    limit = daily_limit("exports", 5, now)
    exports = ExportRepository()
    dynamodb = local_stack.client("dynamodb")

    def count() -> int:
        key = serialize(keys.daily_count_key(alice.member_id or "", "exports", limit.day))
        item = dynamodb.get_item(
            TableName=local_stack.outputs["TableName"], Key=key, ConsistentRead=True
        )["Item"]
        return int(item["count"]["N"])

    kept = ExportRecord.new(alice.member_id or "", str(ULID.from_datetime(now)), now)
    assert exports.start(kept, now, limit) is None
    exports.abandon(kept, limit)
    abandoned = ExportRecord.new(alice.member_id or "", str(ULID()), now)
    assert exports.start(abandoned, now, limit) is None
    assert count() == 1
    exports.abandon(abandoned, limit)
    assert count() == 0
    exports.abandon(abandoned, limit)  # again, as a retry would: nothing more given back
    assert count() == 0
    assert exports.get(alice.member_id or "", abandoned.export_id).status_at(now).value == "expired"
