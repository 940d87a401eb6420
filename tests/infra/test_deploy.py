"""What `make deploy` gives each stage (`infra/deploy.sh`, run with DRY_RUN=1: the commands it
would run), and what the data stack needs to be created on AWS at all."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


_OURS = {
    "NOTIFICATIONS_FROM",
    "PORTAL_URL",
    "ALARM_TOPIC_ARN",
    "APP_ONLY",
    "DATA_ONLY",
    "ARTIFACT_BUCKET",
}


def _deploy(tmp_path: Path, stage: str, **env: str) -> subprocess.CompletedProcess[str]:
    dist = tmp_path / "dist" / stage
    (dist / "app").mkdir(parents=True, exist_ok=True)
    (dist / "portal").mkdir(exist_ok=True)
    (dist / "stateful.yaml").write_text("{}")
    (dist / "app" / "sam.yaml").write_text("{}")
    return subprocess.run(
        [str(ROOT / "infra" / "deploy.sh"), stage],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in _OURS} | env,
        check=False,
    )


def _command(output: str, stack: str) -> str:
    [found] = [c for c in output.splitlines() if "cloudformation deploy" in c and stack in c]
    return found


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_stage_gets_its_sender_and_its_portal(tmp_path: Path, stage: str) -> None:
    """Without them the data stack's SES identity was `…@generation-demarches.local` (never
    verifiable: every e-mail failed to its DLQ) and dev's e-mails linked to prod's portal."""
    sender = f"notifications@{stage}.generation-demarches.fr"
    answer = _deploy(tmp_path, stage, DRY_RUN="1", NOTIFICATIONS_FROM=sender)
    assert answer.returncode == 0, answer.stderr
    assert f"NotificationsFrom={sender}" in _command(answer.stdout, f"-{stage}-data")
    # By default the first of the stage's portal origins (its CloudFront domain unless set).
    assert "PortalUrl=\\<PortalOrigins\\>" in _command(answer.stdout, f"-{stage}-app")
    given = _deploy(tmp_path, stage, DRY_RUN="1", PORTAL_URL="https://adherent.example")
    assert "PortalUrl=https://adherent.example" in _command(given.stdout, f"-{stage}-app")


def test_a_real_deploy_refuses_to_start_without_a_sender(tmp_path: Path) -> None:
    answer = _deploy(tmp_path, "prod", ARTIFACT_BUCKET="artifacts")
    assert answer.returncode == 2
    assert "NOTIFICATIONS_FROM is not set" in answer.stderr


def test_a_real_prod_deploy_refuses_to_start_without_the_on_call_topic(tmp_path: Path) -> None:
    """Without `ALARM_TOPIC_ARN` prod was deployed with every alarm silent (the DLQs', the
    audit chain's: a security incident told to no one), and nothing said so."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "aws").write_text("#!/bin/sh\nexit 97\n")  # a real run reaches AWS: it stops here
    (stub / "aws").chmod(0o755)
    given = {"ARTIFACT_BUCKET": "artifacts", "NOTIFICATIONS_FROM": "n@generation.fr",
             "PATH": f"{stub}:{os.environ['PATH']}"}  # fmt: skip
    answer = _deploy(tmp_path, "prod", **given)
    assert (answer.returncode, answer.stderr) == (2, _unset("ALARM_TOPIC_ARN"))
    topic = "arn:aws:sns:eu-west-3:111122223333:on-call"
    assert _deploy(tmp_path, "prod", ALARM_TOPIC_ARN=topic, **given).returncode == 97
    assert _deploy(tmp_path, "dev", **given).returncode == 97  # dev may go without a rota


def _unset(name: str) -> str:
    return f"deploy: {name} is not set (see infra/deploy.sh)\n"


@pytest.mark.parametrize(
    ("parameter", "accepted", "refused"),
    [
        ("AlarmTopicArn", ["", "arn:aws:sns:eu-west-3:111122223333:on-call"],
         ["on-call", "arn:aws:sqs:eu-west-3:111122223333:on-call", "arn:aws:sns:::on-call"]),
        ("NotificationsFrom", ["notifications@generation.fr",
                               "notifications@generation-demarches.local"],
         ["generation.fr", "notifications@generation", "a b@generation.fr"]),
    ],
)  # fmt: skip
def test_the_stacks_parameters_refuse_a_malformed_value_before_creating_anything(
    prod_package: dict[str, Any], parameter: str, accepted: list[str], refused: list[str]
) -> None:
    """An alarm topic that is not an ARN was refused by CloudWatch halfway through a first
    creation, and a domain given as the sender made an identity no e-mail could be sent from.
    The rollback keeps what the data stack retains (tables, buckets), whose names then refuse
    the next attempt: a parameter's pattern refuses the value before anything is made."""
    import re

    stacks = [s for s in ("stateful", "app") if parameter in prod_package[s]["Parameters"]]
    assert stacks
    for stack in stacks:
        pattern = prod_package[stack]["Parameters"][parameter]["AllowedPattern"]
        for value in accepted:
            assert re.fullmatch(pattern, value), (stack, value)
        for value in refused:
            assert not re.fullmatch(pattern, value), (stack, value)


def test_the_sender_is_its_domains_identity_signing_with_a_2048_bit_dkim_key(
    prod_package: dict[str, Any],
) -> None:
    """The identity was the sender's address, which SES verifies by a link mailed to it and
    which signs nothing under the domain: a mutuelle's e-mails failing DMARC alignment land in
    spam. It is the domain of `NotificationsFrom` with Easy DKIM (2048 bits), and the data
    stack gives the three CNAMEs ops publish in that domain's DNS."""
    from infra.local_stack import _resolve

    stateful = prod_package["stateful"]
    [(name, identity)] = [
        (n, r) for n, r in stateful["Resources"].items() if r["Type"] == "AWS::SES::EmailIdentity"
    ]
    properties = identity["Properties"]
    for sender in ("notifications@generation.fr", "n@dev.generation-demarches.fr"):
        domain = sender.partition("@")[2]
        assert _resolve(properties["EmailIdentity"], {"NotificationsFrom": sender}) == domain
    assert properties["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert properties.get("DkimAttributes", {}).get("SigningEnabled", True)  # SES's default
    outputs = stateful["Outputs"]
    assert outputs["NotificationsIdentity"]["Value"] == {"Ref": name}
    for i in (1, 2, 3):
        for attribute in (f"DkimDNSTokenName{i}", f"DkimDNSTokenValue{i}"):
            assert outputs[attribute]["Value"] == {"Fn::GetAtt": [name, attribute]}


def test_a_deploy_says_which_cnames_to_publish_and_where_the_identity_stands(
    tmp_path: Path,
) -> None:
    """No e-mail goes out before SES finds the domain's DKIM records: the deploy prints the
    three from the data stack's outputs and asks SES for the identity's status."""
    answer = _deploy(tmp_path, "prod", DRY_RUN="1", NOTIFICATIONS_FROM="n@generation.fr")
    assert answer.returncode == 0, answer.stderr
    lines = answer.stdout.splitlines()
    for i in (1, 2, 3):
        assert f"  <DkimDNSTokenName{i}> CNAME <DkimDNSTokenValue{i}>" in lines
    [status] = [line for line in lines if "sesv2 get-email-identity" in line]
    assert "--email-identity \\<NotificationsIdentity\\>" in status


def test_a_roll_back_deploys_the_app_and_the_portal_never_the_data_stack(tmp_path: Path) -> None:
    """README, "Roll back": the earlier release's app and portal go out, the data stack stays
    as it is. Deploying the earlier data template too would remove what the newer one added
    (an index, a queue and the messages in it), or fail, before reaching the app, on an export
    the running app imports: the documented roll back stopped there."""
    answer = _deploy(tmp_path, "prod", DRY_RUN="1", APP_ONLY="1", NOTIFICATIONS_FROM="n@g.fr")
    assert answer.returncode == 0, answer.stderr
    deploys = [c for c in answer.stdout.splitlines() if "cloudformation deploy" in c]
    assert deploys == [_command(answer.stdout, "-prod-app")]
    assert "aws s3 sync" in answer.stdout and "create-invalidation" in answer.stdout
    whole = _deploy(tmp_path, "prod", DRY_RUN="1", NOTIFICATIONS_FROM="n@g.fr")
    assert _command(whole.stdout, "-prod-data")  # a release goes out with both


def test_a_release_with_a_new_index_can_deploy_its_data_stack_alone(tmp_path: Path) -> None:
    """README, "Deploy": `gsi_requests` is read by the app as soon as the app is deployed; the
    requests filed before it get their keys from the backfill, run between the data stack (which
    makes the index) and the app. The data stack alone goes out, nothing of the app or portal."""
    answer = _deploy(tmp_path, "prod", DRY_RUN="1", DATA_ONLY="1", NOTIFICATIONS_FROM="n@g.fr")
    assert answer.returncode == 0, answer.stderr
    deploys = [c for c in answer.stdout.splitlines() if "cloudformation deploy" in c]
    assert deploys == [_command(answer.stdout, "-prod-data")]
    assert "cloudformation package" not in answer.stdout and "aws s3" not in answer.stdout


def test_the_portals_logs_go_to_a_bucket_cloudfront_can_deliver_to(
    prod_package: dict[str, Any],
) -> None:
    """CloudFront's standard logs are delivered through object ACLs: to a bucket whose ACLs
    are off (`BucketOwnerEnforced`) the distribution is refused and the data stack rolls back."""
    resources = prod_package["stateful"]["Resources"]
    [distribution] = [r for r in resources.values() if r["Type"] == "AWS::CloudFront::Distribution"]
    logging = distribution["Properties"]["DistributionConfig"]["Logging"]
    bucket = resources[logging["Bucket"]["Fn::GetAtt"][0]]["Properties"]
    [rule] = bucket["OwnershipControls"]["Rules"]
    assert rule["ObjectOwnership"] == "BucketOwnerPreferred"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # not KMS


def test_a_rotated_secret_reaches_the_functions_on_the_next_deploy(
    tmp_path: Path, prod_package: dict[str, Any]
) -> None:
    """CloudFormation resolves a dynamic reference again only when it changes: a versionless
    one left the functions on the old secret after `put-secret-value` and `make deploy`
    (an empty change set). Each deploy now names the secrets' current versions."""
    import json

    answer = _deploy(tmp_path, "prod", DRY_RUN="1", NOTIFICATIONS_FROM="n@generation.fr")
    app = _command(answer.stdout, "-prod-app")
    for name, parameter in (("cursor-secret", "CursorSecretVersion"),
                            ("log-pseudonym-secret", "LogPseudonymSecretVersion")):  # fmt: skip
        assert f"{parameter}=\\<generation-demarches-prod-{name}\\ version\\>" in app
        reference = (
            f"{{{{resolve:secretsmanager:generation-demarches-${{Stage}}-{name}"
            f":SecretString:::${{{parameter}}}}}}}"
        )
        assert reference in json.dumps(prod_package["app"]), reference


def _alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]


def _watched(alarm: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(namespace, metric, dimension values) of every metric the alarm reads."""
    if "Metrics" in alarm:
        stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    else:
        stats = [alarm]
    return [
        (m["Namespace"], m["MetricName"], [d["Value"] for d in m.get("Dimensions", [])])
        for m in stats
    ]


@pytest.mark.parametrize("schedule", ["OutboxSweeper", "SlaWatch", "SmsMorning", "RetentionPurge"])
def test_a_failing_schedule_raises_an_alarm(prod_package: dict[str, Any], schedule: str) -> None:
    """A schedule has no queue, so no DLQ: nothing else says it failed (the daily watch's audit
    chain alarm stays quiet when the watch fails before checking it)."""
    watched = [w for a in _alarms(prod_package["app"]) for w in _watched(a)]
    assert ("AWS/Lambda", "Errors", [{"Ref": schedule}]) in watched


@pytest.mark.parametrize(("schedule", "every"), [("SlaWatch", 86400), ("RetentionPurge", 3600)])
def test_a_schedule_that_never_runs_raises_an_alarm(
    prod_package: dict[str, Any], schedule: str, every: int
) -> None:
    invoked = [("AWS/Lambda", "Invocations", [{"Ref": schedule}])]
    [alarm] = [a for a in _alarms(prod_package["app"]) if _watched(a) == invoked]
    assert (alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (
        "LessThanThreshold",
        "breaching",
    )
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= every


def test_the_retention_purge_runs_every_quarter_hour_alone_each_run_ending_before_the_next(
    prod_package: dict[str, Any],
) -> None:
    """A national day's purges (~170,000 entries) take hours: the daily watch (30 s) timed out
    on them every morning, before its audit check. Their own function runs every 15 minutes,
    one run at a time, each stopping `RESERVE_SECONDS` before its timeout, which ends before
    the next run is due (a run never waits behind, nor races, the one before)."""
    from chalicelib.services.retention import RESERVE_SECONDS

    resources = prod_package["app"]["Resources"]
    purge = resources["RetentionPurge"]["Properties"]
    assert purge["Handler"] == "app.retention_purge"
    [event] = purge["Events"].values()
    assert event == {"Type": "Schedule", "Properties": {"Schedule": "rate(15 minutes)"}}
    assert purge["ReservedConcurrentExecutions"] == 1
    assert purge["Timeout"] == 600
    assert 5 * RESERVE_SECONDS <= purge["Timeout"] < 15 * 60
    watch = resources["SlaWatch"]["Properties"]
    # Its own work is small; the audit check of a national day (one chain at a time) takes
    # about a minute of one core, two at 1,024 MB's share of one (design notes, « Stop 24 »).
    assert (watch["Timeout"], watch["MemorySize"]) == (300, 1024)
    assert [e["Properties"]["Schedule"] for e in watch["Events"].values()] == ["cron(0 6 * * ? *)"]


@pytest.mark.parametrize("failure", ["AuditChainBroken", "RetentionPurgeFailures"])
def test_what_a_schedule_counts_as_failed_raises_an_alarm(
    prod_package: dict[str, Any], failure: str
) -> None:
    """The daily watch (the audit chain) and the retention purge (an entry) count these and go
    on, so their own Errors alarms stay quiet. A purge that fails every run left the day
    unfinished and every later day behind it: files kept past their retention, with only a
    metric nobody was told of (README, "Retention")."""
    from chalicelib.observability import NAMESPACE, SERVICE

    watched = [w for a in _alarms(prod_package["app"]) for w in _watched(a)]
    assert (NAMESPACE, failure, [SERVICE]) in watched


def test_throttling_raises_an_alarm(prod_package: dict[str, Any]) -> None:
    """The API's function and the table: members refused, or calls failing after retries."""
    app = [w for a in _alarms(prod_package["app"]) for w in _watched(a)]
    assert ("AWS/Lambda", "Throttles", [{"Ref": "APIHandler"}]) in app
    data = [w for a in _alarms(prod_package["stateful"]) for w in _watched(a)]
    assert ("AWS/DynamoDB", "ReadThrottleEvents", [{"Ref": "Table"}]) in data
    assert ("AWS/DynamoDB", "WriteThrottleEvents", [{"Ref": "Table"}]) in data


def test_every_function_logs_to_a_group_kept_a_year_under_the_stacks_key(
    prod_package: dict[str, Any],
) -> None:
    """Lambda's own groups never expire (docs/retention.md). Each function names a group made
    by the stack, which its role may write to and the key's policy lets CloudWatch Logs use."""
    from fnmatch import fnmatchcase

    from tests.infra.test_iam import PSEUDO, _sub

    resources = prod_package["app"]["Resources"]
    key = prod_package["stateful"]["Resources"]["Key"]["Properties"]["KeyPolicy"]
    [logs] = [s for s in key["Statement"] if s["Sid"] == "LogsEncryptTheApiAccessLogs"]
    allowed = [_sub(a["Fn::Sub"]) for a in
               logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]]  # fmt: skip
    functions = {n: r for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == 16
    for name, function in functions.items():
        group = resources[function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        assert group["Properties"]["RetentionInDays"] == 365, name
        assert "KmsKeyId" in group["Properties"], name
        group_name = group["Properties"]["LogGroupName"]["Fn::Sub"].replace(
            "${AWS::StackName}", PSEUDO["AWS::StackName"]
        )
        arn = f"arn:aws:logs:eu-west-3:{PSEUDO['AWS::AccountId']}:log-group:{group_name}"
        assert any(fnmatchcase(arn, pattern) for pattern in allowed), arn
