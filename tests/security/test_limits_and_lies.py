"""Limits and lying uploads: refused with the documented codes, never a 5xx, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.local_stack import LocalStack
from tests.conftest import PDF_BYTES, Api, SignedIn, count_items, count_objects, upload

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
HTML = b"<!DOCTYPE html><html><script>document.location='https://evil.example'</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.mark.parametrize(
    ("query", "status"),
    [("limit=100000", 422), ("limit=-1", 422), ("cursor=" + "A" * 5000, 400),
     ("cursor=eyJmb3JnZWQiOnRydWV9", 400), ("month=0000-00", 422)],
)  # fmt: skip
def test_timeline_limits(api: Api, alice: SignedIn, query: str, status: int) -> None:
    assert api.get(f"/requests?{query}", alice).status == status


def test_forged_and_foreign_cursors_are_400_and_only_the_signature_differs(
    api: Api, alice: SignedIn, bob: SignedIn
) -> None:
    """Well-formed cursors, each wrong in one way only; the control proves the payload is one
    the server takes, so the signature (or the owner) is what refuses the others."""
    import base64

    from chalicelib.domain.cursor import encode_cursor
    from chalicelib.settings import get_settings

    payload = {"before": "2026-01", "member": alice.member_id}
    server_key = get_settings().cursor_secret
    control = encode_cursor(payload, server_key)
    assert api.get(f"/requests?cursor={control}", alice).status == 200

    raw = base64.urlsafe_b64decode(control + "=" * (-len(control) % 4))
    edited = raw[:16] + raw[16:].replace(b"2026-01", b"2025-01")  # the body changed, tag kept
    forged = {
        "signed with another key": encode_cursor(payload, "not-the-server-secret"),
        "edited after signing": base64.urlsafe_b64encode(edited).rstrip(b"=").decode(),
        "bob's, validly signed": encode_cursor({**payload, "member": bob.member_id}, server_key),
    }
    for name, cursor in forged.items():
        answer = api.get(f"/requests?cursor={cursor}", alice)
        assert (answer.status, answer.body["error"]["code"]) == (400, "bad_request"), name
        assert [f["field"] for f in answer.body["error"]["fields"]] == ["cursor"], name


def test_limits_on_bodies_and_uploads(api: Api, local_stack: LocalStack, alice: SignedIn) -> None:
    before = count_items(local_stack, alice.member_id or "")
    huge = api.post(
        "/requests", alice, raw='{"type": "vie.autre", "description": "' + "x" * 70_000 + '"}'
    )
    assert (huge.status, huge.body["error"]["code"]) == (413, "payload_too_large")
    six = api.post("/requests", alice, body={
        "type": "vie.autre", "description": "six", "beneficiary_ids": [f"{alice.member_id}-01"],
        "upload_ids": [f"01ARZ3NDEKTSV4RRFFQ69G5FA{n}" for n in range(6)]})  # fmt: skip
    # The list is refused as a whole (its length), before any upload is looked up.
    assert (six.status, [f["field"] for f in six.body["error"]["fields"]]) == (422, ["upload_ids"])
    many = api.post(
        "/requests",
        alice,
        body={
            "type": "vie.autre",
            "description": "x",
            "beneficiary_ids": [f"b{i}" for i in range(500)],
        },
    )
    assert (many.status, [f["field"] for f in many.body["error"]["fields"]]) == (
        422,
        ["beneficiary_ids"],
    )
    assert count_items(local_stack, alice.member_id or "") == before


@pytest.mark.parametrize(
    ("data", "declared", "name"),
    [(PNG, "application/pdf", "scan.pdf"), (HTML, "application/pdf", "facture.pdf"),
     (EXE, "application/pdf", "devis.pdf"), (EICAR, "application/pdf", "eicar.pdf"),
     (EICAR, "image/jpeg", "photo.jpg"), (HTML, "image/png", "photo.png")],
)  # fmt: skip
def test_uploads_that_lie_about_their_type_are_refused_and_nothing_is_stored(
    api: Api, local_stack: LocalStack, alice: SignedIn, data: bytes, declared: str, name: str
) -> None:
    liar = upload(api, alice, data, declared, name)
    honest = upload(api, alice, PDF_BYTES)
    objects = count_objects(local_stack, "requests/")
    items = count_items(local_stack, alice.member_id or "")
    answer = api.post("/requests", alice, body={
        "type": "sante.justificatif", "beneficiary_ids": [f"{alice.member_id}-01"],
        "upload_ids": [honest, liar],
        "data": {"care_date": datetime.now(UTC).date().isoformat(), "amount": "9.99",
                 "care_type": "pharmacie"}})  # fmt: skip
    assert answer.status == 422
    assert [f["field"] for f in answer.body["error"]["fields"]] == ["upload_ids[1]"]
    assert liar in answer.body["error"]["fields"][0]["message"]
    assert count_objects(local_stack, "requests/") == objects
    assert count_items(local_stack, alice.member_id or "") == items


def test_executable_and_html_types_cannot_even_be_asked_for(api: Api, alice: SignedIn) -> None:
    for content_type in (
        "text/html",
        "application/x-msdownload",
        "image/svg+xml",
        "application/zip",
    ):
        answer = api.post(
            "/uploads", alice, body={"filename": "x", "content_type": content_type, "size": 10}
        )
        assert (answer.status, answer.body["error"]["code"]) == (415, "unsupported_media_type")


# A PDF by its first bytes, a web page after them: a browser opening it as a file of its name
# renders the page (its script included) from the agent's disk.
POLYGLOT = b"%PDF-1.7\n<html><body><script>document.title='pris'</script></body></html>\n"


@pytest.mark.parametrize(
    ("data", "declared", "name", "saved_as"),
    [(POLYGLOT, "application/pdf", "releve.html", "releve.html.pdf"),
     (POLYGLOT, "application/pdf", "decompte.SVG", "decompte.SVG.pdf"),
     (PNG, "image/png", "radio.exe", "radio.exe.png"),
     (PNG, "image/png", "radio", "radio.png"),
     (PDF_BYTES, "application/pdf", "Facture.PDF", "Facture.PDF"),
     (b"\xff\xd8\xff\xe0" + bytes(60), "image/jpeg", "photo.jpeg", "photo.jpeg")],
)  # fmt: skip
def test_a_file_is_named_and_saved_as_the_type_its_bytes_were_checked_to_be(
    api: Api,
    local_stack: LocalStack,
    alice: SignedIn,
    data: bytes,
    declared: str,
    name: str,
    saved_as: str,
) -> None:
    """Only the first bytes are checked against the declared type, and the member's name was
    kept as it came: a PDF named « releve.html » was shown to the agent as « Télécharger
    releve.html » and saved by their browser under that name (the object's
    `Content-Disposition`), to open as a web page. A name whose extension is not one of its
    type's now ends with the type's own."""
    from chalicelib.domain.requests import month_of
    from chalicelib.store import keys

    attachment = upload(api, alice, data, declared, name)
    answer = api.post("/requests", alice, body={
        "type": "sante.justificatif", "beneficiary_ids": [f"{alice.member_id}-01"],
        "upload_ids": [attachment],
        "data": {"care_date": datetime.now(UTC).date().isoformat(), "amount": "9.99",
                 "care_type": "pharmacie"}})  # fmt: skip
    assert answer.status == 201, answer.body
    assert [a["filename"] for a in answer.body["attachments"]] == [saved_as]
    request_id = answer.body["request_id"]
    key = keys.attachment_object(
        alice.member_id or "", month_of(request_id), request_id, attachment
    )
    disposition = local_stack.client("s3").head_object(
        Bucket=local_stack.outputs["BucketName"], Key=key
    )["ContentDisposition"]
    assert f'filename="{saved_as}"' in disposition, disposition
