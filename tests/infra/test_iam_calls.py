"""What each function really calls, allowed by its role as packaged for prod.

`test_iam.py` checks the roles against what we expect of each kind of function; a call the
code makes that nobody thought to expect (moto checks no IAM) would fail only on AWS. Here
the real code runs on moto, a member's and an agent's life through the API, every queue's
handler, the sweeper, the daily watch, the retention purge, the morning SMS and the export
builder, and every AWS call the app's own clients make is turned into the IAM action(s) and
ARN AWS would authorise (an index's Query against the index's ARN, each item of a
transaction against its action), translated to the prod stage in the test's account, and
asked of the role of the function that made it (Allow statements, as `test_iam.py`); and
each item written to the members' table is asked, by its partition key, of the role's
conditions and denials (`test_audit_infra.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote

import pytest

from chalicelib.domain import clock
from chalicelib.store import keys
from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import PDF_BYTES, Api, SignedIn, file_justificatif, upload
from tests.infra.test_audit_infra import ConditionalRole
from tests.infra.test_iam import ACCOUNT, PHONE, SENDER, Role, obj, queue, roles, table

__all__ = ["roles"]  # the fixture, from test_iam.py

# The function whose code is running: the API unless a handler or a schedule says otherwise.
# Not a context variable: s3transfer's threads (the export's upload) start with none. The
# test runs one function at a time (the pump invokes in the test's thread), so one name will do.
_FUNCTION = ["app"]
# Chalice's function names (app.py) → the handler names `roles` is keyed by.
_ROLE_OF = {"exports": "exports_builder"}


class _Calls:
    """(function, action, ARN) of every call, with where it was made."""

    def __init__(self, stack: LocalStack) -> None:
        self.bucket = stack.outputs["BucketName"]
        self.sender = stack.outputs["NotificationsFrom"]
        listed = stack.client("sesv2").list_email_identities()["EmailIdentities"]
        self.identities = {i["IdentityName"] for i in listed}
        self.made: set[tuple[str, str, str]] = set()
        # (function, action, partition key) of every item written to the members' table: the
        # audit trail's keys are conditions of the roles (`test_audit_infra.py`).
        self.writes: set[tuple[str, str, str]] = set()
        self.unknown: list[str] = []  # not raised in the app's call: asserted at the end

    def name(self, local: str) -> str:
        if local == self.bucket:
            return f"generation-demarches-prod-{ACCOUNT}"
        assert local.startswith("generation-demarches-local"), local
        return local.replace("generation-demarches-local", "generation-demarches-prod", 1)

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function = _FUNCTION[-1]
        try:
            authorised = self.authorised(service, operation, params)
        except Exception as error:  # never raised into the app's own call
            self.unknown.append(f"{service}.{operation}: {error!r}")
            return
        for action, arn in authorised:
            self.made.add((_ROLE_OF.get(function, function), action, arn))
        if service == "dynamodb":
            for action, written in _item_writes(operation, params):
                self.writes.add((_ROLE_OF.get(function, function), action, written))

    def authorised(
        self, service: str, operation: str, params: dict[str, Any]
    ) -> list[tuple[str, str]]:
        """What IAM checks for one call (the service authorisation reference's actions)."""
        if service == "dynamodb":
            return self._dynamodb(operation, params)
        if service == "s3":
            return self._s3(operation, params)
        if service == "sqs":
            name = params.get("QueueName") or params["QueueUrl"].rsplit("/", 1)[1]
            return [(f"sqs:{operation}", queue(self.name(name).removeprefix(_PREFIX)))]
        if service == "events" and operation == "PutEvents":
            buses = {self.name(e["EventBusName"]) for e in params["Entries"]}
            return [("events:PutEvents", _bus(b)) for b in buses]
        if service == "sesv2" and operation == "SendEmail":
            return [("ses:SendEmail", self.identity(params["FromEmailAddress"]))]
        if service == "sns" and operation == "Publish" and "PhoneNumber" in params:
            return [("sns:Publish", PHONE)]
        raise AssertionError(f"a call this test cannot authorise: {service}.{operation}")

    def identity(self, sender: str) -> str:
        """The identity SES authorises a send against, as the stack made it (on moto, the
        template's identity): the sender's address if it is an identity (an address's
        precedes its domain's), else its domain's; the prod sender's in the test's account."""
        assert sender == self.sender, sender
        domain = sender.rpartition("@")[2]
        if sender in self.identities:
            return f"arn:aws:ses:eu-west-3:{ACCOUNT}:identity/{SENDER}"
        assert domain in self.identities, f"no identity of the stack sends from {sender}"
        return f"arn:aws:ses:eu-west-3:{ACCOUNT}:identity/{SENDER.rpartition('@')[2]}"

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        def arn(name: str, index: str | None = None) -> str:
            suffix = self.name(name).removeprefix("generation-demarches-prod")
            return table(suffix + (f"/index/{index}" if index else ""))

        if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"):
            return [(f"dynamodb:{operation}", arn(params["TableName"], params.get("IndexName")))]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", arn(name)) for name in params["RequestItems"]]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                       "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}  # fmt: skip
            return [
                (f"dynamodb:{actions[kind]}", arn(part["TableName"]))
                for item in params["TransactItems"]
                for kind, part in item.items()
            ]
        raise AssertionError(f"a DynamoDB call this test cannot authorise: {operation}")

    def _s3(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        assert params["Bucket"] == self.bucket, params["Bucket"]

        def key(name: str) -> str:
            return obj(name)

        if operation in ("GetObject", "HeadObject"):
            return [("s3:GetObject", key(params["Key"]))]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart",
                         "CompleteMultipartUpload"):  # fmt: skip
            return [("s3:PutObject", key(params["Key"]))]
        if operation == "AbortMultipartUpload":
            return [("s3:AbortMultipartUpload", key(params["Key"]))]
        if operation == "CopyObject":
            # botocore has made `{Bucket, Key}` its URL-quoted `bucket/key` by now.
            bucket, _, source = unquote(params["CopySource"]).partition("/")
            assert bucket == self.bucket, bucket
            return [("s3:PutObject", key(params["Key"])), ("s3:GetObject", key(source))]
        if operation == "DeleteObjects":
            return [
                ("s3:DeleteObjectVersion" if "VersionId" in o else "s3:DeleteObject", key(o["Key"]))
                for o in params["Delete"]["Objects"]
            ]
        if operation == "ListObjectVersions":
            return [("s3:ListBucketVersions", obj("")[:-1])]
        if operation == "CreateBucket":  # only as botocore builds a presigned POST's URL
            return []  # the form's PutObject under uploads/: the key is in its policy only
        if operation == "ListObjectsV2":
            return [("s3:ListBucket", obj("")[:-1])]
        raise AssertionError(f"an S3 call this test cannot authorise: {operation}")


_PREFIX = "generation-demarches-prod-"
_WRITES = {"PutItem": "Item", "UpdateItem": "Key", "DeleteItem": "Key"}


def _item_writes(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, partition key) of each item a call writes to the members' table."""
    if operation in ("TransactWriteItems",):
        parts = [(kind, p) for item in params["TransactItems"] for kind, p in item.items()]
        parts = [(f"{kind}Item", p) for kind, p in parts if kind in ("Put", "Update", "Delete")]
    elif operation in _WRITES:
        parts = [(operation, params)]
    else:
        parts = []
    return [
        (f"dynamodb:{action}", part[_WRITES[action]]["pk"]["S"])
        for action, part in parts
        if part["TableName"].endswith("generation-demarches-local")
    ]


def _bus(name: str) -> str:
    return f"arn:aws:events:eu-west-3:{ACCOUNT}:event-bus/{name}"


@contextmanager
def _recording(stack: LocalStack) -> Iterator[_Calls]:
    from chalicelib import aws

    calls = _Calls(stack)

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.record(model.service_model.service_name, model.name, params)

    clients = [aws.client(n) for n in ("dynamodb", "s3", "sqs", "events", "sesv2", "sns")]
    for client in clients:
        client.meta.events.register("before-parameter-build", record)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-parameter-build", record)


@contextmanager
def _as(function: str) -> Iterator[None]:
    _FUNCTION.append(function)
    try:
        yield
    finally:
        _FUNCTION.pop()


@pytest.fixture
def handlers_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue pump's invocations run as the function they invoke."""
    from infra.lambda_client import TimedLambdaClient

    invoke: Callable[..., Any] = TimedLambdaClient.invoke

    def named(self: TimedLambdaClient, function_name: str, *args: Any, **kwargs: Any) -> Any:
        with _as(function_name):
            return invoke(self, function_name, *args, **kwargs)

    monkeypatch.setattr(TimedLambdaClient, "invoke", named)


def _life(
    api: Api, pump: QueuePump, stack: LocalStack, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """A member's and an agent's calls, each function's code on the way."""
    from chalicelib.routing.notifications import morning_sms
    from chalicelib.routing.retention import purge
    from chalicelib.routing.sla import watch
    from chalicelib.routing.sweeper import sweep_pending

    filed = file_justificatif(api, alice, today)
    # Its pointer is sent; the sweeper finds the outbox pending a quarter of an hour on.
    with _as("outbox_sweeper"):
        assert sweep_pending(datetime.now(UTC) + timedelta(minutes=20)) >= 1
    pump.drain()
    member = f"/backoffice/members/{alice.member_id}/requests/{filed}"
    assert api.get("/backoffice/services/remboursements/requests?state=open", agent).status == 200
    detail = api.get(member, agent)
    assert detail.status == 200, detail.body
    body = {"outcome": "refused", "message": "Facture illisible."}
    assert api.post(f"{member}/decision", agent, body=body).status == 200
    pump.drain()
    assert api.get("/requests", alice).status == 200
    assert api.get(f"/requests/{filed}", alice).status == 200
    documents = api.get("/documents?months=24", alice)
    assert documents.status == 200, documents.body
    assert documents.body["documents"], "the refusal's letter"
    letter = documents.body["documents"][0]["document_id"]
    assert api.get(f"/documents/{letter}/download", alice).status == 200
    asked = api.post("/me/exports", alice)
    assert asked.status == 202, asked.body
    pump.drain()
    ready = api.get(f"/me/exports/{asked.body['export_id']}", alice).body
    assert ready["status"] == "ready", ready
    # The daily watch, then the retention purge, with the refused request's attachments due
    # for deletion today.
    dynamodb, name = stack.client("dynamodb"), stack.outputs["TableName"]
    due = clock.paris_date(clock.now()) + timedelta(days=90)
    later = keys.purge_key(due.isoformat(), str(alice.member_id), filed, "attachments")
    entry = dynamodb.get_item(TableName=name, Key={k: {"S": v} for k, v in later.items()})["Item"]
    dynamodb.delete_item(TableName=name, Key={k: {"S": v} for k, v in later.items()})
    entry["pk"] = {"S": keys.purge_partition(clock.today().isoformat())}
    dynamodb.put_item(TableName=name, Item=entry)
    progress = {k: {"S": v} for k, v in keys.purge_progress_key().items()}
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    dynamodb.put_item(TableName=name, Item={**progress, "day": {"S": yesterday}})
    try:
        with _as("sla_watch"):
            watch()
        with _as("retention_purge"):
            assert purge(lambda: 600.0).done >= 1
    finally:
        dynamodb.delete_item(TableName=name, Key=progress)
    assert api.get(f"/requests/{filed}", alice).body["attachments"] == []
    # At 08:30 in Paris whatever the hour the suite runs: in the quiet hours (from 20:00) the
    # function sends nothing and makes no call, and this test failed every evening.
    morning = datetime.combine(
        clock.paris_date(clock.now()) + timedelta(days=1), time(8, 30), tzinfo=clock.PARIS
    )
    with _as("sms_morning"), pytest.MonkeyPatch.context() as patched:
        patched.setattr(clock, "now", lambda: morning)
        morning_sms()
    # At the limit of unused uploads, tickets whose forms expired are looked for among the
    # member's staged files (a listing under `uploads/`).
    ticket = {"filename": "f.pdf", "content_type": "application/pdf", "size": len(PDF_BYTES)}
    while api.post("/uploads", alice, body=ticket).status == 201:
        pass
    later = clock.now() + timedelta(minutes=16)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(clock, "now", lambda: later)
        assert api.post("/uploads", alice, body=ticket).status == 201


def _every_type_and_the_dialogue(
    api: Api, pump: QueuePump, alice: SignedIn, agent: SignedIn, today: date
) -> None:
    """Every type through its service's handler and an agent, then the dialogue's routes and
    the member's reads: each service's role, and the API's on every route it serves."""
    from chalicelib.domain import catalog
    from tests.routing.test_every_type import example

    with_sms = {"email": True, "sms": True, "paperless": False}
    assert api.request("PUT", "/me/preferences", alice, body=with_sms).status == 200
    filed = []
    for kind in catalog.REQUEST_TYPES:
        body = example(api, alice, kind.type, today)
        if kind.attachments is not catalog.Attachments.none:
            body["upload_ids"] = [upload(api, alice, PDF_BYTES)]
        answer = api.post("/requests", alice, body=body)
        assert answer.status == 201, answer.body
        filed.append((answer.body["request_id"], catalog.handling_for(kind.type, complaint=False)))
    pump.drain()
    for request_id, handling in filed:
        path = f"/backoffice/members/{alice.member_id}/requests/{request_id}"
        if api.get(path, agent).body["status"] != "in_progress":
            continue  # its service decided by itself
        decision = {"outcome": "accepted", "message": "Accordé."}
        if handling.amount_required:
            decision["amount"] = "30.00"
        assert api.post(f"{path}/decision", agent, body=decision).status == 200
    pump.drain()

    asked = file_justificatif(api, alice, today)
    pump.drain()
    path = f"/backoffice/members/{alice.member_id}/requests/{asked}"
    question = {"message": "La facture détaillée, s'il vous plaît."}
    assert api.post(f"{path}/information-request", agent, body=question).status == 200
    pump.drain()
    reply = {"message": "La voici.", "upload_ids": [upload(api, alice, PDF_BYTES)]}
    assert api.post(f"/requests/{asked}/replies", alice, body=reply).status == 201
    pump.drain()
    reclassified = api.post(f"{path}/reclassification", agent, body={"complaint": True})
    assert reclassified.status == 200, reclassified.body
    pump.drain()
    detail = api.get(f"/requests/{asked}", alice).body
    attachment = detail["attachments"][0]["attachment_id"]
    assert api.get(f"/requests/{asked}/attachments/{attachment}", alice).status == 200
    assert api.post(f"/requests/{asked}/withdrawal", alice).status == 200
    pump.drain()
    search = "/professionals?specialty=opticien&postal_code=75011"
    for read in ("/me", "/me/beneficiaries", "/catalog", "/contact", "/me/preferences",
                 "/me/access-log", search):  # fmt: skip
        assert api.get(read, alice).status == 200, read


def _conditional_roles(prod_package: dict[str, Any]) -> dict[str, ConditionalRole]:
    """Each function's statements with their conditions and denials (the audit trail's keys)."""
    resources = prod_package["app"]["Resources"]
    found = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function":
            [policy] = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"][
                "Policies"
            ]
            name = resource["Properties"]["Handler"].removeprefix("app.")
            found[name] = ConditionalRole(policy["PolicyDocument"]["Statement"])
    return found


def test_every_call_the_code_makes_is_allowed_by_its_functions_role(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent_all: SignedIn,
    today: date,
    roles: dict[str, Role],
    prod_package: dict[str, Any],
    handlers_named: None,
) -> None:
    """Found by this test: `GET /documents` and the export builder read the member's letters
    from `gsi_documents`, which no role named (the API's named `gsi_service` only): on AWS
    the documents list answered an error and every export ended in its DLQ."""
    with _recording(local_stack) as calls:
        _life(api, pump, local_stack, alice, agent_all, today)
        _every_type_and_the_dialogue(api, pump, alice, agent_all, today)
    assert calls.unknown == []
    functions = {function for function, _, _ in calls.made}
    assert functions == set(roles)  # every function's code ran
    refused = sorted(
        (function, action, arn)
        for function, action, arn in calls.made
        if not roles[function].allows(action, arn)
    )
    assert refused == [], "\n".join(" ".join(call) for call in refused)
    conditional = _conditional_roles(prod_package)
    denied = sorted(w for w in calls.writes if not conditional[w[0]].may(w[1], w[2]))
    assert denied == [], "\n".join(" ".join(write) for write in denied)
