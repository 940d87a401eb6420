"""`infra/template.yaml` creates, on moto, the resources DESIGN.md describes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.local_stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [
    "remboursements",
    "devis",
    "hospitalisation",
    "tiers_payant",
    "adhesion",
    "cotisations",
    "reclamations",
    "relation_adherent",
]


def test_stack_is_created_from_the_template(local_stack: LocalStack) -> None:
    stack = local_stack.client("cloudformation").describe_stacks(StackName=local_stack.stack_name)
    assert stack["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_table_has_the_keys_and_indexes_of_the_design(local_stack: LocalStack) -> None:
    table = local_stack.client("dynamodb").describe_table(
        TableName=local_stack.outputs["TableName"]
    )["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {i["IndexName"]: i["KeySchema"] for i in table["GlobalSecondaryIndexes"]}
    assert [k["AttributeName"] for k in indexes["gsi_pending"]] == ["pending_pk", "pending_sk"]
    assert [k["AttributeName"] for k in indexes["gsi_service"]] == ["svc_pk", "svc_sk"]


def test_every_queue_has_a_dead_letter_queue_after_five_receives(local_stack: LocalStack) -> None:
    sqs = local_stack.client("sqs")
    prefix = local_stack.outputs["QueuePrefix"]
    for name in ["intake", *(f"svc-{s}" for s in SERVICES)]:
        url = sqs.get_queue_url(QueueName=f"{prefix}{name}")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert int(redrive["maxReceiveCount"]) == 5
        assert redrive["deadLetterTargetArn"].endswith(f"{prefix}{name}-dlq")


def test_the_local_stack_sends_from_the_senders_domain_as_deployed(local_stack: LocalStack) -> None:
    """moto's CloudFormation skips the SES identity: the local stack makes the template's own,
    the sender's domain with a 2048-bit DKIM key, not the address (`tests/routing/
    test_notifications.py` sends from the address through it, as SES does)."""
    sesv2 = local_stack.client("sesv2")
    sender = local_stack.outputs["NotificationsFrom"]
    domain = sender.rpartition("@")[2]
    names = {i["IdentityName"] for i in sesv2.list_email_identities()["EmailIdentities"]}
    assert domain in names and sender not in names
    dkim = sesv2.get_email_identity(EmailIdentity=domain)["DkimAttributes"]
    assert (dkim["SigningEnabled"], dkim["NextSigningKeyLength"]) == (True, "RSA_2048_BIT")


def test_bucket_exists_with_public_access_blocked(local_stack: LocalStack) -> None:
    s3 = local_stack.client("s3")
    bucket = local_stack.outputs["BucketName"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_importing_the_app_reads_no_settings_and_touches_no_aws() -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    code = (
        "import sys, app\n"
        "from chalicelib import aws, settings\n"
        "assert settings.get_settings.cache_info().currsize == 0\n"
        "assert aws.client.cache_info().currsize == 0\n"
        "print(sorted(app.app.routes))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "/me" in result.stdout


def test_bucket_expires_staged_uploads_allows_the_portal_and_denies_plain_http(
    local_stack: LocalStack,
) -> None:
    s3 = local_stack.client("s3")
    bucket = local_stack.outputs["BucketName"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    expiring = [
        (r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules if "Expiration" in r
    ]
    assert ("uploads/", 1) in expiring
    assert ("exports/", 7) in expiring  # a member's data export: the zip lives 7 days
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert sorted(cors[0]["AllowedMethods"]) == ["GET", "POST"]  # uploads, letters fetched
    # The TLS-only policy is not applied on loopback HTTP (moto would enforce it): read it.
    from infra.local_stack import load_template

    deny = load_template()["Resources"]["BucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ][0]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_table_expires_items_on_expires_at(local_stack: LocalStack) -> None:
    ttl = local_stack.client("dynamodb").describe_time_to_live(
        TableName=local_stack.outputs["TableName"]
    )
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


def test_template_passes_cfn_lint() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(ROOT / "infra" / "template.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_event_the_bus_cannot_deliver_waits_in_an_alarmed_dead_letter_queue() -> None:
    """EventBridge retries a target for 24 hours, then drops the event: with no dead-letter
    queue, a refused delivery (the queue's policy or key) lost members' notifications and no
    alarm said so. Each rule's queue target names a DLQ that lets the rule send to it, and
    whose alarm fires (README, "Operate": the redrive)."""
    from infra.local_stack import load_template

    resources = load_template()["Resources"]

    def of_type(kind: str) -> dict[str, dict[str, Any]]:
        return {n: r["Properties"] for n, r in resources.items() if r["Type"] == kind}

    alarmed = {
        d["Value"]["Fn::GetAtt"][0]
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
        for d in alarm.get("Dimensions", [])
        if d["Name"] == "QueueName"
    }
    policies = of_type("AWS::SQS::QueuePolicy").values()
    targets = [(n, t) for n, r in of_type("AWS::Events::Rule").items() for t in r["Targets"]]
    assert targets
    for rule, target in targets:
        dead = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        assert resources[dead]["Type"] == "AWS::SQS::Queue", rule
        assert dead in alarmed, rule
        sends = [
            s
            for p in policies
            if {"Ref": dead} in p["Queues"]
            for s in p["PolicyDocument"]["Statement"]
            if s["Principal"] == {"Service": "events.amazonaws.com"}
            and s["Action"] == "sqs:SendMessage"
            and s["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule, "Arn"]}
        ]
        assert sends, rule
