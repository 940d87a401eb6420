"""Attachments: presigned POSTs, checks before anything is created, downloads of the same bytes."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    Api,
    SignedIn,
    count_items,
    count_objects,
    post_form,
    upload,
)

MB = 1024 * 1024


def _justificatif(who: SignedIn, upload_ids: list[str]) -> dict[str, Any]:
    return {
        "type": "sante.justificatif",
        "beneficiary_ids": [f"{who.member_id}-01"],
        "data": {
            "care_date": datetime.now(UTC).date().isoformat(),
            "amount": "23.00",
            "care_type": "consultation",
        },
        "upload_ids": upload_ids,
    }


def _policy(fields: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(fields["policy"])))


def test_presigned_post_fixes_key_type_size_and_expiry(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    answer = api.post(
        "/uploads",
        alice,
        body={"filename": "ordonnance.pdf", "content_type": "application/pdf", "size": 123456},
    )
    assert answer.status == 201
    upload = answer.body
    assert len(upload["upload_id"]) == 26
    assert upload["max_size"] == 123456
    key = f"uploads/{alice.member_id}/{upload['upload_id']}"
    assert upload["fields"]["key"] == key
    assert upload["fields"]["Content-Type"] == "application/pdf"
    policy = _policy(upload["fields"])
    conditions = policy["conditions"]
    assert {"key": key} in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert ["content-length-range", 1, 123456] in conditions
    assert {"bucket": local_stack.outputs["BucketName"]} in conditions
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(0) < expiration - datetime.now(UTC) <= timedelta(minutes=15)
    assert upload["expires_at"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"filename": "page.html", "content_type": "text/html", "size": 10}, 415, "content_type"),
        (
            {"filename": "virus.exe", "content_type": "application/octet-stream", "size": 10},
            415,
            "content_type",
        ),
        ({"filename": "scan.pdf", "content_type": "application/pdf", "size": 6 * MB}, 413, "size"),
        ({"filename": "scan.pdf", "content_type": "application/pdf", "size": 0}, 422, "size"),
        ({"filename": "scan.pdf", "content_type": "application/pdf"}, 422, "size"),
        # A size as JSON writes an integer, nothing read into one (domain/model.JsonInt).
        ({"filename": "scan.pdf", "content_type": "application/pdf", "size": "10"}, 422, "size"),
        ({"filename": "scan.pdf", "content_type": "application/pdf", "size": True}, 422, "size"),
        ({"filename": "scan.pdf", "content_type": "application/pdf", "size": 1.5}, 422, "size"),
        (
            {"filename": "a.pdf", "content_type": "application/pdf", "size": 1, "key": "x"},
            400,
            "key",
        ),
    ],
)
def test_refused_uploads(
    api: Api,
    local_stack: LocalStack,
    alice: SignedIn,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    before = count_items(local_stack, alice.member_id or "")
    answer = api.post("/uploads", alice, body=body)
    assert answer.status == status
    assert [f["field"] for f in answer.body["error"]["fields"]] == [field]
    assert not answer.body["error"]["fields"][0]["message"].startswith("Input should")
    assert count_items(local_stack, alice.member_id or "") == before


def test_filename_is_cleaned_and_never_used_in_the_key(api: Api, alice: SignedIn) -> None:
    answer = api.post(
        "/uploads",
        alice,
        body={
            "filename": "..\\..\\windows/../../etc/pass\x07wd\x1b.pdf",
            "content_type": "application/pdf",
            "size": len(PDF_BYTES),
        },
    )
    assert answer.status == 201
    assert "pass" not in answer.body["fields"]["key"]
    upload_id = answer.body["upload_id"]
    post_form(answer.body["url"], answer.body["fields"], PDF_BYTES)
    created = api.post("/requests", alice, body=_justificatif(alice, [upload_id])).body
    assert created["attachments"][0]["filename"] == "passwd.pdf"


@pytest.mark.parametrize("filename", ["\x00\x01", "../..", "\u200b\u202e", "\udb80\udc00"])
def test_a_name_with_nothing_to_show_is_shown_as_a_neutral_one(
    api: Api, alice: SignedIn, filename: str
) -> None:
    """Any name the document allows is taken: one that cleaning empties reads « document.pdf »."""
    answer = api.post(
        "/uploads",
        alice,
        body={"filename": filename, "content_type": "application/pdf", "size": len(PDF_BYTES)},
    )
    assert answer.status == 201, answer.body
    post_form(answer.body["url"], answer.body["fields"], PDF_BYTES)
    body = _justificatif(alice, [answer.body["upload_id"]])
    created = api.post("/requests", alice, body=body).body
    assert created["attachments"][0]["filename"] == "document.pdf"


@pytest.mark.parametrize(
    ("data", "content_type", "filename"),
    [
        (PDF_BYTES + os.urandom(3 * MB), "application/pdf", "facture-optique.pdf"),
        (JPEG_BYTES + os.urandom(4 * MB), "image/jpeg", "ordonnance.jpg"),
        (PNG_BYTES + os.urandom(2 * MB), "image/png", "décompte.png"),
    ],
)
def test_files_of_several_mb_go_all_the_way_and_come_back_identical(
    api: Api,
    local_stack: LocalStack,
    pump: QueuePump,
    alice: SignedIn,
    data: bytes,
    content_type: str,
    filename: str,
) -> None:
    import hashlib

    upload_id = upload(api, alice, data, content_type, filename)
    created = api.post("/requests", alice, body=_justificatif(alice, [upload_id]))
    assert created.status == 201, created.body
    attachment = created.body["attachments"][0]
    assert attachment == {
        "attachment_id": upload_id,
        "filename": filename,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    request_id = created.body["request_id"]
    # Copied under the request, encrypted; the staged object is the router's to remove.
    month = created.body["created_at"][:7]
    staged = f"uploads/{alice.member_id}/{upload_id}"
    assert count_objects(local_stack, staged) == 1
    key = f"requests/{alice.member_id}/{month}/{request_id}/{upload_id}"
    head = local_stack.client("s3").head_object(Bucket=local_stack.outputs["BucketName"], Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == local_stack.outputs["KeyArn"]

    link = api.get(f"/requests/{request_id}/attachments/{upload_id}", alice)
    assert link.status == 200
    assert "X-Amz-Expires=300" in link.body["url"]
    fetched = requests.get(link.body["url"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["Content-Type"] == content_type
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    pump.drain()  # routed: the staged object is gone
    assert count_objects(local_stack, staged) == 0


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "saved_as"),
    [
        ("ordonnance-chimio.pdf", "application/pdf", PDF_BYTES,
         'filename="ordonnance-chimio.pdf"; filename*=UTF-8\'\'ordonnance-chimio.pdf'),
        ("scanner_oncologie_Léa.png", "image/png", PNG_BYTES,
         "filename=\"scanner_oncologie_Lea.png\"; "
         "filename*=UTF-8''scanner_oncologie_L%C3%A9a.png"),
    ],
)  # fmt: skip
def test_a_download_link_names_no_file_and_the_download_keeps_the_members_name(
    api: Api, alice: SignedIn, filename: str, content_type: str, data: bytes, saved_as: str
) -> None:
    """S3's access logs keep every URL a year: the link holds ids only; the name the member
    gave is the object's own, so the browser still saves the file under it."""
    from urllib.parse import unquote

    upload_id = upload(api, alice, data, content_type, filename)
    created = api.post("/requests", alice, body=_justificatif(alice, [upload_id]))
    assert created.status == 201, created.body
    link = api.get(f"/requests/{created.body['request_id']}/attachments/{upload_id}", alice)
    assert link.status == 200
    url = unquote(unquote(link.body["url"]))
    stem = filename.rsplit(".", 1)[0]
    assert stem not in url and "oncologie" not in url and "chimio" not in url
    assert "response-content-disposition" not in url.lower()

    fetched = requests.get(link.body["url"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["Content-Disposition"] == f"attachment; {saved_as}"


def _refused(api: Api, local_stack: LocalStack, who: SignedIn, upload_ids: list[str]) -> list[str]:
    """File with these uploads; assert 422 and that nothing at all was created."""
    objects = count_objects(local_stack, "requests/")
    items = count_items(local_stack, who.member_id or "")
    answer = api.post("/requests", who, body=_justificatif(who, upload_ids))
    assert answer.status == 422, answer.body
    assert count_objects(local_stack, "requests/") == objects
    assert count_items(local_stack, who.member_id or "") == items
    return [f"{f['field']}: {f['message']}" for f in answer.body["error"]["fields"]]


def test_file_lying_about_its_type_is_refused(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    good = upload(api, alice, PDF_BYTES)
    png_as_pdf = upload(api, alice, PNG_BYTES, "application/pdf", "scan.pdf")
    html_as_pdf = upload(api, alice, b"<html><script>alert(1)</script></html>", "application/pdf")
    exe_as_gif = upload(api, alice, b"MZ\x90\x00" + bytes(100), "image/gif", "photo.gif")
    errors = _refused(api, local_stack, alice, [good, png_as_pdf, html_as_pdf, exe_as_gif])
    assert [e.split(":")[0] for e in errors] == ["upload_ids[1]", "upload_ids[2]", "upload_ids[3]"]
    assert png_as_pdf in errors[0]
    assert count_objects(local_stack, f"uploads/{alice.member_id}/{good}") == 1  # still usable


def test_missing_too_large_foreign_and_reused_uploads_are_refused(
    api: Api, local_stack: LocalStack, alice: SignedIn, bob: SignedIn
) -> None:
    never_sent = api.post(
        "/uploads",
        alice,
        body={"filename": "a.pdf", "content_type": "application/pdf", "size": 100},
    ).body["upload_id"]
    assert _refused(api, local_stack, alice, [never_sent])[0].startswith("upload_ids[0]")
    # moto does not enforce the policy's size range: S3 would refuse these bytes, we do too.
    too_big = upload(api, alice, PDF_BYTES + bytes(6 * MB), declared_size=5 * MB)
    assert _refused(api, local_stack, alice, [too_big])[0].startswith("upload_ids[0]")
    bigger_than_declared = upload(api, alice, PDF_BYTES + bytes(2000), declared_size=1000)
    assert _refused(api, local_stack, alice, [bigger_than_declared])[0].startswith("upload_ids[0]")
    bobs = upload(api, bob, PDF_BYTES)
    assert "inconnue" in _refused(api, local_stack, alice, [bobs])[0]
    used = upload(api, alice, PDF_BYTES)
    assert api.post("/requests", alice, body=_justificatif(alice, [used])).status == 201
    assert "déjà utilisée" in _refused(api, local_stack, alice, [used])[0]


def test_ids_in_lower_case_are_the_same_ids(api: Api, pump: QueuePump, alice: SignedIn) -> None:
    """A ULID is one case or the other (the schema takes both): a client that writes ids in
    lower case files, replies and downloads as one that writes capitals (its own upload was
    « inconnue ou expirée », its attachment 404)."""
    first, second = upload(api, alice, PDF_BYTES), upload(api, alice, PDF_BYTES)
    filed = api.post("/requests", alice, body=_justificatif(alice, [first.lower()]))
    assert filed.status == 201, filed.body
    request_id = filed.body["request_id"]
    assert [a["attachment_id"] for a in filed.body["attachments"]] == [first]
    pump.drain()
    reply = {"message": "Le second.", "upload_ids": [second.lower()]}
    replied = api.post(f"/requests/{request_id.lower()}/replies", alice, body=reply)
    assert replied.status == 201, replied.body
    assert replied.body["messages"][-1]["attachment_ids"] == [second]
    for attachment_id in (first, second):
        link = api.get(f"/requests/{request_id}/attachments/{attachment_id.lower()}", alice)
        assert link.status == 200, link.body
        assert requests.get(link.body["url"], timeout=10).content == PDF_BYTES
    third = upload(api, alice, PDF_BYTES)
    twice = api.post("/requests", alice, body=_justificatif(alice, [third, third.lower()]))
    assert twice.status == 422, twice.body
    assert [f["field"] for f in twice.body["error"]["fields"]] == ["upload_ids"]  # a double


def test_limits_five_files_and_fifteen_mb_in_all(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    four_mb = [upload(api, alice, PDF_BYTES + bytes(4 * MB)) for _ in range(4)]
    assert _refused(api, local_stack, alice, four_mb) == [
        "upload_ids: Les pièces jointes dépassent 15 Mo au total."
    ]
    six = [upload(api, alice, PDF_BYTES) for _ in range(6)]
    assert _refused(api, local_stack, alice, six)[0].startswith("upload_ids")
    assert _refused(api, local_stack, alice, [six[0], six[0]])[0].startswith("upload_ids")


def test_required_attachments_and_types_without_attachments(api: Api, alice: SignedIn) -> None:
    answer = api.post("/requests", alice, body=_justificatif(alice, []))
    assert answer.status == 422
    assert [f["field"] for f in answer.body["error"]["fields"]] == ["upload_ids"]
    extra = api.post(
        "/requests",
        alice,
        body={
            "type": "sante.attestation_tiers_payant",
            "beneficiary_ids": [f"{alice.member_id}-01"],
            "upload_ids": [upload(api, alice, PDF_BYTES)],
        },
    )
    assert extra.status == 422
    assert [f["field"] for f in extra.body["error"]["fields"]] == ["upload_ids"]


def test_attachments_are_private_and_closed_once_processed(
    api: Api, local_stack: LocalStack, alice: SignedIn, bob: SignedIn
) -> None:
    upload_id = upload(api, alice, PDF_BYTES)
    created = api.post("/requests", alice, body=_justificatif(alice, [upload_id])).body
    path = f"/requests/{created['request_id']}/attachments/{upload_id}"
    assert api.get(path, bob).status == 404
    assert (
        api.get(
            f"/requests/{created['request_id']}/attachments/01ARZ3NDEKTSV4RRFFQ69G5FAV", alice
        ).status
        == 404
    )
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.outputs["TableName"],
        Key={
            "pk": {"S": f"MEMBER#{alice.member_id}#{created['created_at'][:7]}"},
            "sk": {"S": f"REQ#{created['request_id']}"},
        },
        UpdateExpression="SET #s = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "processed"}},
    )
    closed = api.get(path, alice)
    assert (closed.status, closed.body["error"]["code"]) == (409, "conflict")
