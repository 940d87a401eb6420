"""What ops rely on, read from the templates themselves: redrive, retention, visibility,
encryption, public access, TLS, recovery, alarms, least privilege."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.local_stack import load_template

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(load_template()["Resources"])


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in resources.items() if r["Type"] == kind}


def _lambda_timeout(stage: str) -> int:
    stage_config = CONFIG["stages"][stage]
    return int(stage_config.get("lambda_timeout", CONFIG.get("lambda_timeout", 60)))


def test_every_queue_redrives_to_a_dlq_that_keeps_messages_longer(
    resources: dict[str, Any],
) -> None:
    queues = _of_type(resources, "AWS::SQS::Queue")
    sources = {n: q for n, q in queues.items() if "RedrivePolicy" in q}
    dead = {n: q for n, q in queues.items() if "RedrivePolicy" not in q}
    assert len(sources) == len(dead) == 11  # intake, 8 services, notifications, exports
    for name, queue in sources.items():
        redrive = queue["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5, name
        dlq = dead[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
        assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600, name
        assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"], name


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_visibility_timeout_is_six_times_the_handlers_timeout(
    resources: dict[str, Any], stage: str
) -> None:
    for name, queue in _of_type(resources, "AWS::SQS::Queue").items():
        if "RedrivePolicy" in queue:
            timeout = _lambda_timeout(stage)
            if name == "ExportsQueue":  # its function has a timeout of its own
                timeout = CONFIG["lambda_functions"]["exports"]["lambda_timeout"]
            assert queue["VisibilityTimeout"] >= 6 * timeout, name


def test_everything_is_encrypted_under_the_stacks_key(resources: dict[str, Any]) -> None:
    key = {"Ref": "Key"}
    assert resources["Key"]["Properties"]["EnableKeyRotation"] is True
    for name, table in _of_type(resources, "AWS::DynamoDB::Table").items():
        assert table["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": key,
        }, name
    for name, queue in _of_type(resources, "AWS::SQS::Queue").items():
        assert queue["KmsMasterKeyId"] == key, name
    [rule] = resources["Bucket"]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_tables_recover_to_any_point_and_prod_cannot_be_deleted(resources: dict[str, Any]) -> None:
    for name, table in _of_type(resources, "AWS::DynamoDB::Table").items():
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, (
            name
        )
        assert table["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}, name
        assert resources[name]["DeletionPolicy"] == "Retain", name
    assert resources["Table"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_bucket_is_private_and_tls_only(resources: dict[str, Any]) -> None:
    bucket = resources["Bucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    [deny] = resources["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_dead_letter_queue_has_an_alarm_to_the_topic(resources: dict[str, Any]) -> None:
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    on_queues = [a for a in alarms.values() if a.get("Namespace") == "AWS/SQS"]
    watched = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in on_queues}
    dead = {
        n for n, q in _of_type(resources, "AWS::SQS::Queue").items() if "RedrivePolicy" not in q
    }
    assert watched == dead
    for alarm in on_queues:
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    for alarm in alarms.values():  # the table's too (tests/infra/test_deploy.py)
        assert alarm["AlarmActions"]["Fn::If"][1] == [{"Ref": "AlarmTopicArn"}]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_iam_is_hand_written_per_function_and_names_only_our_resources(stage: str) -> None:
    """Each function its own policy file (`lambda_functions`), none at the stage level (so a new
    function without one fails to package); what each kind may do: tests/infra/test_iam.py."""
    assert CONFIG["stages"][stage]["autogen_policy"] is False
    assert CONFIG["stages"][stage]["xray"] is True
    assert "iam_policy_file" not in CONFIG["stages"][stage]
    files = {name: f["iam_policy_file"] for name, f in CONFIG["lambda_functions"].items()}
    assert len(files) == 16 and len(set(files.values())) == 16
    for function, file in files.items():
        policy = json.loads((ROOT / ".chalice" / file).read_text())
        for statement in policy["Statement"]:
            sid = f"{function}: {statement['Sid']}"
            # Denials guard the audit trail's keys only (tests/infra/test_audit_infra.py).
            assert statement["Effect"] == "Allow" or (
                statement["Sid"] in ("AuditTrailIsAppendOnly", "NeverWritesTheAuditTrail")
                and "dynamodb:LeadingKeys" in json.dumps(statement["Condition"])
            ), sid
            assert not any(a.endswith(":*") or a == "*" for a in statement["Action"]), sid
            assert "dynamodb:Scan" not in statement["Action"], sid
            if statement["Sid"] == "SmsToMembersPhones":  # a number has no ARN: no topic
                assert statement["Action"] == ["sns:Publish"], sid
                assert statement["NotResource"] == "arn:aws:sns:*:*:*", sid
                continue
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            if statement["Sid"] == "Tracing":  # X-Ray has no resource-level permissions
                assert resources == ["*"]
            elif statement["Sid"] == "TheStacksKey":  # the data stack's key, by its export
                assert resources == [
                    {"Fn::ImportValue": {"Fn::Sub": "generation-demarches-${Stage}-key-arn"}}
                ]
            else:  # this account's, this stage's (CloudFormation fills both in)
                for resource in resources:
                    arn = resource["Fn::Sub"]
                    if isinstance(arn, list):  # the stage's SES identity: its sender's domain
                        arn, names = arn
                        sender = {
                            "Fn::ImportValue": {
                                "Fn::Sub": "generation-demarches-${Stage}-notifications-from"
                            }
                        }
                        split = {"Fn::Split": ["@", sender]}
                        assert names == {"Domain": {"Fn::Select": [1, split]}}, sid
                        arn = arn.replace("${Domain}", "generation-demarches-${Stage}")
                    assert "${AWS::AccountId}" in arn, sid
                    assert "generation-demarches-${Stage}" in arn or "${AWS::StackName}" in arn
