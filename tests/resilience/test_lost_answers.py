"""Lost answers: a write DynamoDB made whose answer never reached the app (a read timeout).
botocore retries it with the same arguments: a conditional write then fails its own condition,
and a transaction (retried under its token) leaves the app unsure. Nothing may be lost for it:
a claim is still this call's, a filing or a reply still has its files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, count_objects, file_justificatif, upload
from tests.routing.test_notifications import _emails, member

__all__ = ["member"]


@contextmanager
def answer_lost(
    operation: str, matching: Callable[[str], bool], *, every_attempt: bool = False
) -> Iterator[dict[str, int]]:
    """DynamoDB's answer to the first `operation` whose body `matching` accepts is lost: the
    write reaches moto, the app hears a read timeout. botocore's retry (the same arguments) is
    answered, as AWS answers a PutItem or an UpdateItem made again. With `every_attempt`, each
    attempt of that call is lost too, and none after the first reaches moto: AWS answers a
    transaction's retry from its token (moto ignores the token), here the app never hears."""
    from chalicelib import aws

    session = URLLib3Session()
    seen = {"made": 0, "lost": 0}

    def hook(request: Any, **_: Any) -> Any:
        target = str(request.headers.get("X-Amz-Target", b"").decode())
        text = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if not target.endswith(f".{operation}") or not matching(text):
            return None
        if seen["lost"] and not every_attempt:
            seen["made"] += 1
            return None  # sent, and answered
        if not seen["lost"]:
            session.send(request)
            seen["made"] += 1
        seen["lost"] += 1
        raise ReadTimeoutError(endpoint_url=request.url)

    events = aws.client("dynamodb").meta.events
    events.register_first("before-send.dynamodb", hook)
    try:
        yield seen
    finally:
        events.unregister("before-send.dynamodb", hook)


def test_a_claim_made_whose_answer_was_lost_is_still_this_calls_own(
    local_stack: LocalStack,
) -> None:
    """The first attempt made the claim, the retry found it made: `made_once` reads its own
    token on the item and says made; another call's claim says not."""
    from chalicelib.store.dynamo import dynamodb, made_once, serialize, table

    def claim() -> bool:
        return made_once(
            dynamodb().put_item,
            TableName=table(),
            Item=serialize({"pk": "TEST#lost", "sk": "CLAIM"}),
            ConditionExpression="attribute_not_exists(pk)",
        )

    with answer_lost("PutItem", lambda text: "TEST#lost" in text) as seen:
        assert claim() is True
    assert seen == {"made": 2, "lost": 1}  # the write, then botocore's retry failing its condition
    assert claim() is False  # another call: taken

    def take() -> bool:
        return made_once(
            dynamodb().update_item,
            TableName=table(),
            Key=serialize({"pk": "TEST#lost", "sk": "CLAIM"}),
            UpdateExpression="ADD taken :one",
            ConditionExpression="attribute_not_exists(taken)",
            ExpressionAttributeValues=serialize({":one": 1}),
        )

    with answer_lost("UpdateItem", lambda text: "TEST#lost" in text):
        assert take() is True
    assert take() is False


def _claim_of_an_event_by_email(text: str) -> bool:
    return '"NOTIFIED#' in text and "NOTIFIED#REQ#" not in text and '#email"' in text


def test_a_notification_whose_claims_answer_was_lost_is_still_sent_once(
    api: Api, pump: QueuePump, local_stack: LocalStack, member: SignedIn
) -> None:
    """A complaint's acknowledgement is one event: its claim's answer lost once, the retry
    failed the claim's own condition, the handler took it for a repeat and sent nothing."""
    body = {"type": "contact.demande", "complaint": True, "description": "Réclamation.",
            "beneficiary_ids": [f"{member.member_id}-01"],
            "data": {"subject": "autre", "detail": "autre"}}  # fmt: skip
    assert api.post("/requests", member, body=body).status == 201
    with answer_lost("PutItem", _claim_of_an_event_by_email) as seen:
        pump.drain()
    assert seen == {"made": 2, "lost": 1}
    assert len(_emails(local_stack, member)) == 1


def test_an_export_whose_claims_answer_was_lost_is_still_built(
    api: Api, pump: QueuePump, alice: SignedIn
) -> None:
    """The build's claim answered lost: the build took it for another's and stopped; the export
    stayed « building » for 3 hours, the member's next one refused meanwhile."""
    asked = api.post("/me/exports", alice)
    assert asked.status == 202
    with answer_lost("UpdateItem", lambda text: "claimed_until" in text):
        pump.drain()
    path = f"/me/exports/{asked.body['export_id']}"
    assert api.get(path, alice).body["status"] == "ready"


def _transaction_of(request_part: str) -> Callable[[str], bool]:
    return lambda text: request_part in text


def test_a_filing_whose_write_was_made_but_its_answer_lost_is_filed_with_its_files(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, today: date
) -> None:
    """Every attempt's answer lost, the transaction made: the copies of its files were deleted
    as after a refused write, and the request listed a file that no longer existed."""
    upload_id = upload(api, alice, PDF_BYTES)
    data = {"care_date": today.isoformat(), "amount": "10.00", "care_type": "pharmacie"}
    body = {"type": "sante.justificatif", "beneficiary_ids": [f"{alice.member_id}-01"],
            "data": data, "upload_ids": [upload_id]}  # fmt: skip
    with answer_lost("TransactWriteItems", _transaction_of(upload_id), every_attempt=True):
        filed = api.post("/requests", alice, body=body, headers={"Idempotency-Key": "lost-1"})
    assert filed.status == 201, filed.body  # written: filed, as the answer would have said
    request_id = filed.body["request_id"]
    [attachment] = filed.body["attachments"]
    assert count_objects(local_stack, f"requests/{alice.member_id}/") == 1
    link = api.get(f"/requests/{request_id}/attachments/{attachment['attachment_id']}", alice)
    assert link.status == 200
    pump.drain()  # handed over at once, not a quarter of an hour later by the sweeper
    assert (
        api.get(f"/requests/{request_id}", alice)
        .body["history"][-1]["label"]
        .startswith("Reçue par le Service")
    )
    again = api.post("/requests", alice, body=body, headers={"Idempotency-Key": "lost-1"})
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert count_objects(local_stack, f"requests/{alice.member_id}/") == 1


def test_a_reply_whose_write_was_made_but_its_answer_lost_keeps_its_file(
    api: Api, pump: QueuePump, local_stack: LocalStack, alice: SignedIn, agent: SignedIn,
    today: date,
) -> None:  # fmt: skip
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}/information-request"
    assert api.post(path, agent, body={"message": "La facture ?"}).status == 200
    upload_id = upload(api, alice, PDF_BYTES)
    reply = {"message": "La voici.", "upload_ids": [upload_id]}
    with answer_lost("TransactWriteItems", _transaction_of(upload_id), every_attempt=True):
        answered = api.post(f"/requests/{request_id}/replies", alice, body=reply)
    assert answered.status == 201, answered.body
    assert answered.body["status"] == "in_progress"
    assert [m["attachment_ids"] for m in answered.body["messages"]][-1] == [upload_id]
    assert count_objects(local_stack, f"requests/{alice.member_id}/") == 2  # filing's and reply's


def test_a_write_not_made_whose_answer_was_lost_leaves_no_copy(
    api: Api, local_stack: LocalStack, alice: SignedIn, today: date
) -> None:
    """The same failure, the write not made (every attempt times out before DynamoDB): the
    copies go, as for any write not made, and the member is told to retry."""
    from chalicelib import aws

    upload_id = upload(api, alice, PDF_BYTES)
    data = {"care_date": today.isoformat(), "amount": "10.00", "care_type": "pharmacie"}
    body = {"type": "sante.justificatif", "beneficiary_ids": [f"{alice.member_id}-01"],
            "data": data, "upload_ids": [upload_id]}  # fmt: skip

    def never_reaches(request: Any, **_: Any) -> Any:
        if str(request.headers.get("X-Amz-Target", b"").decode()).endswith(".TransactWriteItems"):
            raise ReadTimeoutError(endpoint_url=request.url)
        return None

    events = aws.client("dynamodb").meta.events
    events.register_first("before-send.dynamodb", never_reaches)
    try:
        answer = api.post("/requests", alice, body=body)
    finally:
        events.unregister("before-send.dynamodb", never_reaches)
    assert answer.status >= 500
    assert count_objects(local_stack, f"requests/{alice.member_id}/") == 0
    assert api.get("/requests", alice).body["months"] == []


def test_an_agents_change_whose_answer_was_lost_is_handed_over_at_once(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """A question's update made, its answer lost once: the retry failed the change's own
    condition, the question was taken for one asked already, and its letter waited a quarter
    of an hour for the sweeper."""
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}/information-request"
    with answer_lost("UpdateItem", lambda text: "information_request" in text) as seen:
        asked = api.post(path, agent, body={"message": "La facture détaillée ?"})
    assert seen == {"made": 2, "lost": 1}
    assert asked.status == 200 and asked.body["status"] == "waiting_for_member"
    pump.drain()  # its letter rendered now, not by the sweeper later
    documents = api.get("/documents?months=1", alice).body["documents"]
    assert [d["title"] for d in documents] == ["Demande de pièces complémentaires"]
