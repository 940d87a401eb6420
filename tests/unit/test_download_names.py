"""Names of downloaded files: written on the object (its `Content-Disposition`), never in a
download URL, which S3's access logs keep a year beside the member id of the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.documents import pdf_filename
from chalicelib.domain.uploads import UploadRequest, clean_filename, content_disposition
from chalicelib.services import filing, following
from chalicelib.services.letters import issue_letter
from chalicelib.store import keys
from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_use_cases import ME, MEMBER, NOW, PDF, uow

__all__ = ["uow"]  # the fixture, shared


def test_an_attachment_keeps_its_name_on_the_object_and_its_link_carries_none(
    uow: FakeUnitOfWork,
) -> None:
    wanted = UploadRequest(
        filename="ordonnance-chimio.pdf", content_type="application/pdf", size=len(PDF)
    )
    ticket = filing.create_upload(uow, MEMBER, wanted, NOW - timedelta(minutes=1))
    uow.files.put(ticket["fields"]["key"], PDF, "application/pdf")
    data = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    body = {"type": "sante.justificatif", "beneficiary_ids": [ME], "data": data,
            "upload_ids": [ticket["upload_id"]]}  # fmt: skip
    request_id = filing.file_request(uow, MEMBER, body, None, NOW).request_id

    record = uow.requests.get(MEMBER, request_id)
    key = keys.attachment_object(MEMBER, record.month, request_id, ticket["upload_id"])
    assert uow.files.download_names[key] == "ordonnance-chimio.pdf"
    link = following.attachment_link(uow, record, ticket["upload_id"], NOW, agent=False)
    assert "chimio" not in link["url"]


def test_a_letter_is_saved_under_its_title_and_paris_date_and_its_link_names_neither(
    uow: FakeUnitOfWork,
) -> None:
    request_id = filing.file_request(
        uow, MEMBER, {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [ME]}, None, NOW
    ).request_id
    # 00:30 on 1 January in Paris is still 31 December in UTC.
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    request = uow.requests.get(MEMBER, request_id)
    letter = issue_letter(uow, "attestation_tiers_payant", request, new_year)
    key = uow.documents.object_key(letter)
    assert uow.files.download_names[key] == "attestation-de-tiers-payant-2027-01-01.pdf"
    link = following.document_link(uow, MEMBER, letter.document_id, new_year)
    assert "attestation" not in link["url"] and "tiers" not in link["url"]


def test_a_letters_file_name_is_its_kinds_title_and_the_paris_day() -> None:
    assert pdf_filename("Refus de prise en charge hospitalière", "2026-06-30T22:15:00.000Z") == (
        "refus-de-prise-en-charge-hospitaliere-2026-07-01.pdf"
    )
    assert pdf_filename("Votre remboursement", "2026-06-30T12:00:00.000Z") == (
        "votre-remboursement-2026-06-30.pdf"
    )


def test_a_name_sent_with_its_windows_path_keeps_only_the_files_name() -> None:
    """The path says whose computer (a Windows account's name): agents never read it."""
    assert clean_filename("C:\\Users\\alice.martin\\Documents\\facture.pdf") == "facture.pdf"


def test_a_long_name_keeps_its_last_120_characters_and_so_its_extension() -> None:
    assert clean_filename("x" * 200 + ".pdf") == "x" * 116 + ".pdf"
    assert clean_filename("y" * 120) == "y" * 120
    assert clean_filename("z" * 121) == "z" * 120


def test_quotes_in_a_name_never_end_the_header_s_filename_early() -> None:
    assert content_disposition('le "devis".pdf') == (
        "attachment; filename=\"le devis.pdf\"; filename*=UTF-8''le%20%22devis%22.pdf"
    )
