"""The audit trail as deployed (`make package STAGE=prod`): who may write its items (IAM,
conditions and denials evaluated), and the alarm on a broken chain."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from chalicelib.store import keys
from tests.infra.test_iam import _resources, table

# Plus every svc_<service>; the retention purge dispatches a request's AttachmentsDeleted.
WRITERS = {"app", "router", "outbox_sweeper", "sla_watch", "retention_purge"}
AUDIT_ITEM = keys.audit_pk("2026-11-28", 3)  # a record of one of the day's chains
AUDIT_HEAD = keys.audit_head_key("2026-11-28", 3)["pk"]
MARK = "AUDITED#01JD0000000000000000000001"
MEMBER_ITEM = "MEMBER#0012345601"


class ConditionalRole:
    """A role's statements with their `dynamodb:LeadingKeys` conditions and their denials:
    an action on an item (by its partition key) is allowed when an Allow matches and no Deny."""

    def __init__(self, statements: list[dict[str, Any]]) -> None:
        self.statements = statements

    def _matches(self, statement: dict[str, Any], action: str, leading_key: str) -> bool:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatchcase(action.lower(), a.lower()) for a in actions):
            return False
        if not any(fnmatchcase(table(), r) for r in _resources(statement.get("Resource", []))):
            return False
        for operator, condition in statement.get("Condition", {}).items():
            assert operator in ("ForAnyValue:StringLike", "ForAllValues:StringLike"), operator
            assert list(condition) == ["dynamodb:LeadingKeys"], condition
            # One partition key per write: ForAnyValue and ForAllValues agree.
            if not any(fnmatchcase(leading_key, p) for p in condition["dynamodb:LeadingKeys"]):
                return False
        return True

    def may(self, action: str, leading_key: str) -> bool:
        matching = [s for s in self.statements if self._matches(s, action, leading_key)]
        return any(s["Effect"] == "Allow" for s in matching) and not any(
            s["Effect"] == "Deny" for s in matching
        )


@pytest.fixture(scope="module")
def roles(prod_package: dict[str, Any]) -> dict[str, ConditionalRole]:
    resources = prod_package["app"]["Resources"]
    found = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function":
            role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]
            [policy] = role["Properties"]["Policies"]
            name = resource["Properties"]["Handler"].removeprefix("app.")
            found[name] = ConditionalRole(policy["PolicyDocument"]["Statement"])
    return found


def test_only_the_writers_append_to_the_audit_trail(roles: dict[str, ConditionalRole]) -> None:
    appenders = {name for name, role in roles.items() if role.may("dynamodb:PutItem", AUDIT_ITEM)}
    expected = WRITERS | {name for name in roles if name.startswith("svc_")}
    assert appenders == expected
    heads = {name for name, role in roles.items() if role.may("dynamodb:PutItem", AUDIT_HEAD)}
    assert heads == expected
    marks = {name for name, role in roles.items() if role.may("dynamodb:PutItem", MARK)}
    assert marks == expected
    # The notifications still write their own records; the schedules only audit items.
    assert roles["notifications"].may("dynamodb:PutItem", MEMBER_ITEM)
    for schedule in ("outbox_sweeper", "sla_watch", "retention_purge"):
        assert not roles[schedule].may("dynamodb:PutItem", MEMBER_ITEM), schedule


@pytest.mark.parametrize(
    "action", ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
)
@pytest.mark.parametrize("item", [AUDIT_ITEM, AUDIT_HEAD, keys.audit_pk("2026-11-28"), MARK])
def test_no_function_rewrites_or_deletes_an_audit_record(
    roles: dict[str, ConditionalRole], action: str, item: str
) -> None:
    assert [name for name, role in roles.items() if role.may(action, item)] == []


def test_a_broken_chain_raises_the_alarm(prod_package: dict[str, Any]) -> None:
    alarms = [
        r["Properties"]
        for r in prod_package["app"]["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("MetricName") == "AuditChainBroken"
    ]
    [alarm] = alarms
    # The metric as the daily watch emits it (observability.metric: namespace, dimension).
    assert alarm["Namespace"] == "GenerationDemarches"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "generation-demarches"}]
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Maximum", 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Period"] == 86400  # one check a day
    assert alarm["AlarmActions"] == {
        "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }
