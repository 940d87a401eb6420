"""The member's data export on the in-memory unit of work: one at a time, built once whatever
the deliveries, the zip's contents from the member's own views, the link's 24 hours."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import catalog
from chalicelib.domain.errors import (
    Conflict,
    ExportBuilding,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from chalicelib.domain.exports import BUILD_CLAIM, BUILD_DEADLINE, LINK_LIFETIME, ExportPointer
from chalicelib.domain.members import mask_iban
from chalicelib.domain.uploads import UploadRequest
from chalicelib.services import exporting, filing, serving
from chalicelib.store import keys
from chalicelib.store.queues import INTAKE, service_queue
from infra import seed
from tests.unit.fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
MEMBER, OTHER = "U000000001", "U000000002"
IBAN = "FR7630006000011234567890189"
PDF = b"%PDF-1.4\n% a scan of a receipt\n%%EOF\n"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    for member_id, make in ((MEMBER, seed.alice), (OTHER, seed.bob)):
        member, beneficiaries = make(NOW.date(), member_id)
        fake.members.put(member)
        for beneficiary in beneficiaries:
            fake.members.put_beneficiary(member_id, beneficiary)
    return fake


def _upload(uow: FakeUnitOfWork, filename: str = "facture.pdf") -> str:
    wanted = UploadRequest(filename=filename, content_type="application/pdf", size=len(PDF))
    ticket = filing.create_upload(uow, MEMBER, wanted, NOW - timedelta(minutes=2))
    uow.files.put(ticket["fields"]["key"], PDF, "application/pdf")
    return str(ticket["upload_id"])


def _file_requests(uow: FakeUnitOfWork) -> list[str]:
    """A receipt with its file, and a tiers-payant attestation (its letter issued), served."""
    receipt = {"type": "sante.justificatif", "beneficiary_ids": [f"{MEMBER}-01"],
               "data": {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"},
               "upload_ids": [_upload(uow)]}  # fmt: skip
    tiers = {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{MEMBER}-01"]}
    ids = [
        filing.file_request(uow, MEMBER, body, None, NOW).request_id for body in (receipt, tiers)
    ]
    for pointer, entry in uow.queues.take_delivered(INTAKE):
        serving.route(uow, pointer, NOW, delivered=entry)
    for service in catalog.Service:
        for pointer in uow.queues.take(service_queue(service.value)):
            serving.serve(uow, pointer, NOW)
    return ids


def _deliver(uow: FakeUnitOfWork, at: datetime = NOW) -> list[bool]:
    return [exporting.build_export(uow, pointer, at) for pointer in uow.exports.sent]


def _zip(uow: FakeUnitOfWork, export_id: str) -> zipfile.ZipFile:
    body = uow.files.objects[keys.export_object(MEMBER, export_id)][0]
    return zipfile.ZipFile(io.BytesIO(body))


def test_an_export_is_building_and_its_message_carries_ids_only(uow: FakeUnitOfWork) -> None:
    answer = exporting.start_export(uow, MEMBER, NOW)
    assert (answer.status, answer.url, answer.expires_at) == ("building", None, None)
    assert uow.exports.sent == [ExportPointer(member_id=MEMBER, export_id=answer.export_id)]
    assert set(json.loads(uow.exports.sent[0].model_dump_json())) == {"member_id", "export_id"}


def test_one_export_at_a_time_per_member(uow: FakeUnitOfWork) -> None:
    first = exporting.start_export(uow, MEMBER, NOW)
    with pytest.raises(ExportBuilding) as refused:
        exporting.start_export(uow, MEMBER, NOW + timedelta(minutes=1))
    assert refused.value.export_id == first.export_id  # the one to follow instead
    assert isinstance(refused.value, Conflict)  # a 409
    exporting.start_export(uow, OTHER, NOW)  # another member's is theirs
    assert _deliver(uow, NOW + timedelta(minutes=1)) == [True, True]
    second = exporting.start_export(uow, MEMBER, NOW + timedelta(minutes=2))
    assert second.export_id != first.export_id


def test_the_zip_holds_what_the_members_views_answer(uow: FakeUnitOfWork) -> None:
    receipt_id, tiers_id = _file_requests(uow)
    answer = exporting.start_export(uow, MEMBER, NOW)
    assert _deliver(uow) == [True]

    archive = _zip(uow, answer.export_id)
    names = archive.namelist()
    profile = json.loads(archive.read("profile.json"))
    assert profile["bank_account"]["iban_masked"] == mask_iban(IBAN)
    assert profile["member_id"] == MEMBER
    beneficiaries = json.loads(archive.read("beneficiaries.json"))["beneficiaries"]
    assert [b["beneficiary_id"] for b in beneficiaries] == [
        b.beneficiary_id for b in uow.members.beneficiaries(MEMBER)
    ]
    requests = json.loads(archive.read("requests.json"))["requests"]
    assert [r["request_id"] for r in requests] == [tiers_id, receipt_id]  # newest first
    for detail in requests:
        stored = uow.requests.get(MEMBER, detail["request_id"]).detail()
        assert detail == stored.model_dump(mode="json")
    [letter] = uow.documents.since(MEMBER, "1970-01-01")  # the tiers-payant attestation
    [letter_name] = [n for n in names if n.startswith(f"courriers/{letter.document_id}-")]
    assert archive.read(letter_name) == uow.documents.pdf(
        uow.documents.get(MEMBER, letter.document_id)
    )
    [attachment] = uow.requests.get(MEMBER, receipt_id).attachments
    name = f"pieces-jointes/{receipt_id}/{attachment.attachment_id}-facture.pdf"
    assert archive.read(name) == PDF
    readme = archive.read("README.txt").decode()
    for entry in (
        "profile.json",
        "beneficiaries.json",
        "requests.json",
        "courriers/",
        "pieces-jointes/",
    ):
        assert entry in readme
    assert "2 démarche(s)" in readme and "ne sont plus" not in readme
    # The history's times are UTC: one of 23:30Z is the next day in Paris, which the README says.
    assert "(UTC)" in readme and "2 heures en été" in readme
    for entry in names:
        assert IBAN not in archive.read(entry).decode("latin-1").replace(" ", "")


def test_an_attachment_no_longer_held_is_left_out_and_said(uow: FakeUnitOfWork) -> None:
    receipt_id, _ = _file_requests(uow)
    [attachment] = uow.requests.get(MEMBER, receipt_id).attachments
    uow.files.delete(
        [keys.attachment_object(MEMBER, "2026-11", receipt_id, attachment.attachment_id)]
    )
    answer = exporting.start_export(uow, MEMBER, NOW)
    _deliver(uow)
    archive = _zip(uow, answer.export_id)
    assert not [n for n in archive.namelist() if n.startswith("pieces-jointes/")]
    assert "1 pièce(s) jointe(s) mentionnée(s)" in archive.read("README.txt").decode()


def test_a_redelivered_message_does_not_build_twice_nor_touch_a_ready_export(
    uow: FakeUnitOfWork,
) -> None:
    answer = exporting.start_export(uow, MEMBER, NOW)
    assert _deliver(uow) == [True]
    ready = uow.exports.get(MEMBER, answer.export_id)
    assert _deliver(uow, NOW + timedelta(minutes=30)) == [False]
    assert uow.exports.stored == [keys.export_object(MEMBER, answer.export_id)]
    assert uow.exports.get(MEMBER, answer.export_id) == ready


def test_a_copy_delivered_during_a_build_leaves_it_to_the_first_until_its_claim_lapses(
    uow: FakeUnitOfWork,
) -> None:
    answer = exporting.start_export(uow, MEMBER, NOW)
    # The first delivery claimed it and died before storing anything.
    assert uow.exports.claim(MEMBER, answer.export_id, NOW)
    assert _deliver(uow, NOW + timedelta(minutes=1)) == [False]
    assert uow.exports.stored == []
    # Its own message comes back after the visibility timeout: the claim has lapsed.
    assert _deliver(uow, NOW + BUILD_CLAIM + timedelta(seconds=1)) == [True]
    assert exporting.export_status(uow, MEMBER, answer.export_id, NOW + BUILD_CLAIM).status == (
        "ready"
    )


def test_the_link_lives_24_hours_from_ready_then_the_export_is_expired(
    uow: FakeUnitOfWork,
) -> None:
    answer = exporting.start_export(uow, MEMBER, NOW)
    ready_at = NOW + timedelta(minutes=1)
    _deliver(uow, ready_at)
    ready = exporting.export_status(uow, MEMBER, answer.export_id, ready_at)
    assert ready.status == "ready" and ready.url is not None
    assert ready.expires_at == "2026-11-11T08:01:00.000Z"
    last = exporting.export_status(
        uow, MEMBER, answer.export_id, ready_at + LINK_LIFETIME - timedelta(minutes=2)
    )
    assert last.url is not None and last.url.endswith("expires=120")  # never past expires_at
    expired = exporting.export_status(uow, MEMBER, answer.export_id, ready_at + LINK_LIFETIME)
    assert (expired.status, expired.url, expired.expires_at) == ("expired", None, ready.expires_at)


def test_a_build_that_never_finished_expires_and_frees_the_member(uow: FakeUnitOfWork) -> None:
    answer = exporting.start_export(uow, MEMBER, NOW)
    late = NOW + BUILD_DEADLINE + timedelta(seconds=1)
    assert exporting.export_status(uow, MEMBER, answer.export_id, late).status == "expired"
    again = exporting.start_export(uow, MEMBER, late)
    assert again.status == "building"
    assert exporting.build_export(uow, uow.exports.sent[0], late) is False  # never built late
    assert uow.exports.stored == []


def test_an_export_that_cannot_be_queued_is_not_left_building(uow: FakeUnitOfWork) -> None:
    uow.exports.failing_sends = True
    with pytest.raises(ServiceUnavailable):
        exporting.start_export(uow, MEMBER, NOW)
    [record] = uow.exports.records.values()
    assert record.status_at(NOW) == "expired"
    uow.exports.failing_sends = False
    assert exporting.start_export(uow, MEMBER, NOW).status == "building"


@pytest.mark.parametrize("export_id", ["theirs", "01JC9ZP7Q8W3Y5V2N4M6K8H0GF", "x" * 26])
def test_another_members_export_is_not_found_like_one_that_does_not_exist(
    uow: FakeUnitOfWork, export_id: str
) -> None:
    theirs = exporting.start_export(uow, OTHER, NOW).export_id
    wanted: Any = theirs if export_id == "theirs" else export_id
    with pytest.raises(NotFound):
        exporting.export_status(uow, MEMBER, wanted, NOW)


def test_an_export_that_could_not_be_queued_gives_its_place_of_the_day_back(
    uow: FakeUnitOfWork,
) -> None:
    uow.exports.failing_sends = True
    for _ in range(uow.limits.exports_per_day + 2):
        with pytest.raises(ServiceUnavailable):
            exporting.start_export(uow, MEMBER, NOW)
    uow.exports.failing_sends = False
    for minute in range(uow.limits.exports_per_day):
        exporting.start_export(uow, MEMBER, NOW + timedelta(minutes=minute))
        assert _deliver(uow, NOW + timedelta(minutes=minute)).count(True) == 1
    with pytest.raises(TooManyRequests):
        exporting.start_export(uow, MEMBER, NOW + timedelta(minutes=30))
