"""`make run` as the README describes it: what it prints, and what its app is told."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chalicelib.settings import Settings
from infra import token
from infra.local_stack import LocalStack
from infra.seed import DEMO_ACCOUNTS


def test_the_emails_link_to_the_portal_make_run_serves(local_stack: LocalStack) -> None:
    """`make run PORTAL_PORT=8392` serves the portal on 8392: an e-mail's preferences link
    (`PORTAL_URL`, the first portal origin as `make deploy` gives it) must not name 8080."""
    moved = dataclasses.replace(
        local_stack, outputs={**local_stack.outputs, "PortalOrigins": "http://127.0.0.1:8392"}
    )
    assert Settings.model_validate(moved.app_environment()).portal_url == "http://127.0.0.1:8392"


def test_make_token_names_every_demo_account(capsys: object) -> None:
    """`make token USER=…` with an unknown name lists the accounts one may ask for: claire too."""
    assert token.main(["token", "nobody"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    for account in DEMO_ACCOUNTS:
        assert account.username in err


def test_moto_lists_a_prefixs_versions_as_it_did_before_it_was_made_faster(
    local_stack: LocalStack,
) -> None:
    """`make_moto_faithful` gives moto's version listing only the keys under the prefix asked
    (it copied the whole bucket): every page, marker and delimiter answers as moto's own."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import S3Backend, s3_backends

    s3 = local_stack.client("s3")
    bucket = "listing-equivalence"
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": local_stack.region}
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key, versions in (("a/1", 3), ("a/2", 1), ("a/sub/3", 2), ("ab/4", 1), ("b/5", 2)):
        for n in range(versions):
            s3.put_object(Bucket=bucket, Key=key, Body=f"{key} {n}".encode())
    s3.delete_object(Bucket=bucket, Key="a/2")  # a delete marker, latest

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    ours = S3Backend.list_object_versions.__wrapped__  # under the lock of make_moto_faithful
    mothers = ours.__wrapped__  # moto's own

    def seen(answer: Any) -> Any:
        versions, prefixes, markers, next_key, next_version = answer
        named = [(v.name, v.version_id, v.is_latest) for v in (*versions, *markers)]
        return named, sorted(prefixes), next_key, next_version

    asked = 0
    for prefix in ("a/", "a", "ab/", "b/", "zz", "a/sub/"):
        for delimiter in (None, "/"):
            for max_keys in (1, 2, 1000):
                marker: tuple[str | None, str | None] = (None, None)
                while True:
                    kwargs = dict(
                        delimiter=delimiter, key_marker=marker[0], max_keys=max_keys,
                        prefix=prefix, version_id_marker=marker[1],
                    )  # fmt: skip
                    answer = seen(ours(backend, bucket, **kwargs))
                    assert answer == seen(mothers(backend, bucket, **kwargs)), kwargs
                    asked += 1
                    if answer[2] is None:
                        break
                    marker = (answer[2], answer[3])
    assert asked > 36  # pages were followed

    # Through the API, as the retention purge reads it: every version and marker of a/, once.
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix="a/", PaginationConfig={"PageSize": 2}
    )
    listed = [
        (v["Key"], v["VersionId"])
        for page in pages
        for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
    ]
    assert len(listed) == len(set(listed)) == 3 + 1 + 1 + 2
    assert {key for key, _ in listed} == {"a/1", "a/2", "a/sub/3"}


def test_moto_writes_dynamodb_answers_as_its_own_serializer_does(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make_moto_faithful` writes DynamoDB's attribute values directly rather than walking
    botocore's shapes for each (over a third of a replying member's time): every type, nested,
    sets and binaries included, in each data-plane answer, as moto's own walk writes them."""
    import base64
    import json

    from moto.core.serialize import BaseJSONSerializer, XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import dynamo_to_dict

    raw = bytes(range(256))
    wire = {  # as a client sends it (binaries in base64), as moto stores it
        "pk": {"S": "MEMBER#B000000001"}, "sk": {"S": "REQ#2026-11#01J…"}, "empty": {"S": ""},
        "amount": {"N": "42.50"}, "count": {"N": "3"}, "ok": {"BOOL": False},
        "none": {"NULL": True}, "blob": {"B": base64.b64encode(raw).decode()},
        "tags": {"SS": ["a", "é"]}, "numbers": {"NS": ["1", "2.5"]},
        "blobs": {"BS": [base64.b64encode(b"x").decode(), base64.b64encode(raw).decode()]},
        "letters_due": {"L": [{"M": {"kind": {"S": "decision"}, "at": {"N": "1"},
                                     "nested": {"L": [{"NULL": True}, {"BOOL": True},
                                                      {"B": base64.b64encode(b"y").decode()}]}}}]},
        "data": {"M": {"iban": {"S": "FR76…"}, "empty_map": {"M": {}}, "empty_list": {"L": []}}},
    }  # fmt: skip
    item = dynamo_to_dict({name: DynamoType(value) for name, value in wire.items()})
    key = {"pk": item["pk"], "sk": item["sk"]}
    answers = {
        "GetItem": {"Item": item},
        "Query": {"Items": [item, item], "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": key},
        "BatchGetItem": {"Responses": {"table": [item]}, "UnprocessedKeys": {}},
        "UpdateItem": {"Attributes": item},
        "PutItem": {},
        "TransactGetItems": {"Responses": [{"Item": item}]},
        "Scan": {"Items": [{"pk": {"S": None}, "sk": {"S": "x"}}], "Count": 1},  # no value
    }
    model = get_service_model("dynamodb")

    def written() -> dict[str, Any]:
        serializer = get_serializer_class("dynamodb", "json")
        return {
            operation: json.loads(
                serializer(
                    operation_model=model.operation_model(operation),
                    value_picker=XFormedAttributePicker(),
                ).serialize(result)["body"]
            )
            for operation, result in answers.items()
        }

    ours = written()
    for name in ("_serialize_type_structure", "_serialize_type_map"):
        monkeypatch.setattr(BaseJSONSerializer, name, getattr(BaseJSONSerializer, name).__wrapped__)
    assert ours == written()  # moto's own walk
    assert ours["GetItem"]["Item"]["blob"] == {"B": base64.b64encode(raw).decode()}

    # Through the API, binaries and all (boto3 sends them in base64): what was put is read.
    dynamodb = local_stack.client("dynamodb")
    table = local_stack.outputs["TableName"]
    put = {"pk": {"S": "SERIALIZER#1"}, "sk": wire["sk"], "blob": {"B": raw},
           "blobs": {"BS": sorted([b"x", raw])}, "amount": wire["amount"], "tags": wire["tags"],
           "nested": {"L": [{"M": {"b": {"B": b"y"}, "none": {"NULL": True}}}]}}  # fmt: skip
    dynamodb.put_item(TableName=table, Item=put)
    read = dynamodb.get_item(TableName=table, Key={"pk": put["pk"], "sk": put["sk"]})["Item"]
    assert {**read, "blobs": {"BS": sorted(read["blobs"]["BS"])}} == put
    dynamodb.delete_item(TableName=table, Key={"pk": put["pk"], "sk": put["sk"]})


def test_moto_keeps_only_the_mail_and_sms_it_sent_for_make_outbox(local_stack: LocalStack) -> None:
    """moto kept every instance it ever made (objects, versions, messages, items), and
    `make outbox` walked them all at each read: only SES's and SNS's are kept, and read."""
    from moto.core.model_instances import model_data

    from infra.outbox import sent

    def kept() -> dict[tuple[str, str], int]:
        return {
            (service, name): len(model.instances_tracked)
            for service, models in model_data.items()
            if service not in {"ses", "sns"}
            for name, model in models.items()
        }

    # A bucket, a queue and a table of its own: the app's are other tests' to count and read.
    before = kept()
    s3 = local_stack.client("s3")
    s3.create_bucket(
        Bucket="tracking", CreateBucketConfiguration={"LocationConstraint": local_stack.region}
    )
    s3.put_object(Bucket="tracking", Key="x", Body=b"x")
    sqs = local_stack.client("sqs")
    sqs.send_message(QueueUrl=sqs.create_queue(QueueName="tracking")["QueueUrl"], MessageBody="{}")
    dynamodb = local_stack.client("dynamodb")
    dynamodb.create_table(
        TableName="tracking", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )  # fmt: skip
    dynamodb.put_item(TableName="tracking", Item={"pk": {"S": "x"}})
    after = kept()
    assert {model for model, count in after.items() if count > before.get(model, 0)} == set()

    to = "tracking@example.fr"
    local_stack.client("sesv2").send_email(
        FromEmailAddress=local_stack.outputs["NotificationsFrom"],
        Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": "Objet"}, "Body": {"Text": {"Data": "Texte"}}}},
    )
    local_stack.client("sns").publish(PhoneNumber="+33799000001", Message="Un SMS")
    emails, texts = sent(local_stack.endpoint_url)
    assert [e.subject for e in emails if e.to == to] == ["Objet"]
    assert "Un SMS" in [t.text for t in texts if t.phone == "+33799000001"]


def test_moto_projects_index_items_and_expressions_as_its_own_code_does(
    local_stack: LocalStack,
) -> None:
    """`make_moto_faithful` copies the attributes an index (`KEYS_ONLY`, `INCLUDE`) or a
    `ProjectionExpression` of top-level names keeps, where moto rebuilt each from the whole
    item as plain JSON (four fifths of a timeline's Query): the same items, every type, nested,
    sets and binaries included; `ALL` and nested expressions still go moto's own way."""
    import base64

    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import SecondaryIndex

    wire = {
        "pk": {"S": "MEMBER#B000000001"}, "sk": {"S": "REQ#2026-11#01J"},
        "req_pk": {"S": "MEMBER#B000000001"}, "req_sk": {"S": "2026-11#01J"},
        "amount": {"N": "42.50"}, "ok": {"BOOL": False}, "none": {"NULL": True},
        "blob": {"B": base64.b64encode(bytes(range(256))).decode()},
        "tags": {"SS": ["a", "é", "b"]}, "numbers": {"NS": ["1", "2.5"]},
        "history": {"L": [{"M": {"at": {"S": "2026-11-02"}, "by": {"L": [{"S": "x"}]}}}]},
        "data": {"M": {"iban": {"S": "FR76…"}, "empty": {"M": {}}}},
    }  # fmt: skip
    item = Item(DynamoType(wire["pk"]), DynamoType(wire["sk"]), wire)

    def seen(projected: Item) -> Any:
        """Each attribute as the wire has it, a set's members in order (a set has none)."""
        attrs = {name: value.to_json() for name, value in projected.attrs.items()}
        return {name: {kind: sorted(members) if kind in ("SS", "NS", "BS") else members
                       for kind, members in value.items()}
                for name, value in sorted(attrs.items())}  # fmt: skip

    for projection in (
        {"ProjectionType": "KEYS_ONLY"},
        {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["amount", "tags", "history", "gone"]},
        {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["blob", "numbers", "data", "none"]},
        {"ProjectionType": "ALL"},
    ):
        index = SecondaryIndex(
            "gsi_requests",
            [{"AttributeName": "req_pk", "KeyType": "HASH"},
             {"AttributeName": "req_sk", "KeyType": "RANGE"}],
            projection,
            ["pk", "sk"],
        )  # fmt: skip
        ours = index.project(item)
        # moto's own index projection calls `Item.project`, which is patched too: its own,
        # for the reference.
        own_item_project = Item.project
        Item.project = Item.project.__wrapped__  # type: ignore[method-assign]
        try:
            mothers = SecondaryIndex.project.__wrapped__(index, item)
        finally:
            Item.project = own_item_project  # type: ignore[method-assign]
        assert seen(ours) == seen(mothers), projection
        assert (ours.hash_key, ours.range_key) == (mothers.hash_key, mothers.range_key)
    for expressions in (
        [["pk"], ["sk"], ["history"], ["tags"], ["blob"], ["missing"]],
        [["data"], ["amount"], ["ok"], ["none"], ["numbers"]],
        [["data", "iban"], ["amount"]],  # into a map: moto's own way
    ):
        ours = item.project(expressions)
        assert seen(ours) == seen(Item.project.__wrapped__(item, expressions)), expressions
    # A copy: changing what was projected leaves the item as it was.
    item.project([["history"]]).attrs["history"].value.clear()
    assert item.attrs["history"].to_json() == DynamoType(wire["history"]).to_json()

    # Through the API: a Query of an index answers the projected attributes as they were put.
    dynamodb = local_stack.client("dynamodb")
    table = local_stack.outputs["TableName"]
    put = {"pk": {"S": "PROJECTION#1"}, "sk": {"S": "REQ#2026-11#01J"},
           "req_pk": {"S": "PROJECTION#1"}, "req_sk": {"S": "2026-11#01J"},
           "type": {"S": "sante.devis"}, "status": {"S": "in_progress"},
           "beneficiaries": {"L": [{"M": {"name": {"S": "Léa"}}}]},
           "history": {"L": [{"S": "never projected"}]}}  # fmt: skip
    dynamodb.put_item(TableName=table, Item=put)
    found = dynamodb.query(
        TableName=table, IndexName="gsi_requests",
        KeyConditionExpression="req_pk = :pk", ExpressionAttributeValues={":pk": put["req_pk"]},
    )["Items"]  # fmt: skip
    assert found == [{k: v for k, v in put.items() if k != "history"}]
    dynamodb.delete_item(TableName=table, Key={"pk": put["pk"], "sk": put["sk"]})
