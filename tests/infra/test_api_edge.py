"""In front of the function, as packaged for prod: API Gateway checks the Cognito ID token on
every route but the public document, and a WAF rule caps the requests of one address."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="module")
def api(prod_package: dict[str, Any]) -> dict[str, Any]:
    return dict(prod_package["app"]["Resources"]["RestAPI"]["Properties"])


def test_api_gateway_checks_the_token_on_every_route_but_the_public_document(
    api: dict[str, Any],
) -> None:
    operations = {
        (method.upper(), path): operation
        for path, methods in api["DefinitionBody"]["paths"].items()
        for method, operation in methods.items()
    }
    assert len(operations) >= 20
    open_ones = {key for key, op in operations.items() if not op.get("security")}
    # and the CORS preflights, which carry no token (tests/infra/test_portal_deployment.py)
    preflights = {key for key in operations if key[0] == "OPTIONS"}
    assert preflights == {("OPTIONS", path) for path in api["DefinitionBody"]["paths"]}
    assert open_ones == {("GET", "/openapi.json")} | preflights
    for key, operation in operations.items():
        if key not in open_ones:
            assert operation["security"] == [{"CognitoIdToken": []}], key

    scheme = api["DefinitionBody"]["securityDefinitions"]["CognitoIdToken"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert (scheme["name"], authorizer["type"]) == ("Authorization", "cognito_user_pools")
    [provider] = authorizer["providerARNs"]
    arn, names = provider["Fn::Sub"]
    assert arn.endswith(":userpool/${PoolId}") and ":cognito-idp:" in arn
    # The stage's own pool: the one the data stack exports, and the middleware reads.
    assert names["PoolId"] == {
        "Fn::ImportValue": {"Fn::Sub": "generation-demarches-${Stage}-user-pool-id"}
    }


def test_the_gateways_refusal_of_a_token_is_in_our_error_shape(api: dict[str, Any]) -> None:
    refused = api["GatewayResponses"]["UNAUTHORIZED"]
    body = json.loads(refused["ResponseTemplates"]["application/json"])
    assert (refused["StatusCode"], body["error"]["code"]) == ("401", "unauthorized")
    assert set(body["error"]) == {"code", "message", "fields"}


def test_a_waf_rule_caps_the_requests_of_one_address_on_the_api_stage(
    prod_package: dict[str, Any],
) -> None:
    template = prod_package["app"]
    [(name, acl)] = _of_type(template, "AWS::WAFv2::WebACL").items()
    assert acl["Scope"] == "REGIONAL" and "Allow" in acl["DefaultAction"]
    [rule] = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP" and rate["EvaluationWindowSec"] == 300
    assert rate["Limit"] == {"Fn::FindInMap": ["AddressRate", {"Ref": "Stage"}, "PerFiveMinutes"]}
    limits = template["Mappings"]["AddressRate"]
    assert all(100 <= stage["PerFiveMinutes"] <= 10_000 for stage in limits.values())

    # Refused over the rate: 429, `Retry-After`, our error shape.
    answer = rule["Action"]["Block"]["CustomResponse"]
    assert answer["ResponseCode"] == 429
    assert {"Name": "Retry-After", "Value": "300"} in answer["ResponseHeaders"]
    body = acl["CustomResponseBodies"][answer["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    assert json.loads(body["Content"])["error"]["code"] == "too_many_requests"

    [association] = _of_type(template, "AWS::WAFv2::WebACLAssociation").values()
    assert association["WebACLArn"] == {"Fn::GetAtt": [name, "Arn"]}
    stage_arn = association["ResourceArn"]["Fn::Sub"]
    assert stage_arn.endswith("/restapis/${RestAPI}/stages/${RestAPI.Stage}")


# What API Gateway writes for each `$context` variable of the access log's format: a variable
# the format adds without a value here fails the test (KeyError), rather than going unread.
_CALL = {
    "requestId": "5f0c2a1e-7d4b-4c1a-9a53-0e6f1b2c3d4e",
    "identity.sourceIp": "203.0.113.7",
    "httpMethod": "POST",
    "resourcePath": "/me/requests",
    "status": "200",
    "error.responseType": "-",  # API Gateway's mark of a variable with no value
    "responseLatency": "84",
    "requestTimeEpoch": "1764400000000",
    "stage": "prod",
}


def _access_line(api: dict[str, Any], **written: str) -> dict[str, Any]:
    """One line of the stage's access log, in its own format, as CloudWatch Logs reads it."""
    values = _CALL | {name.replace("__", "."): value for name, value in written.items()}
    form = api["AccessLogSetting"]["Format"]
    line = re.sub(r"\$context\.([A-Za-z.]+)", lambda m: values[m[1]], form)
    return dict(json.loads(line))


def _matches(pattern: str, event: dict[str, Any]) -> bool:
    """CloudWatch Logs' JSON filter pattern, in the one form used here: `{ $.a = "x" }`, terms
    joined by `&&`, `*` a wildcard. Anything else raises: a pattern this cannot read fails the
    test rather than passing. (moto's `filter_log_events` matches every event to a `{…}`
    pattern, `UnsupportedFilterPattern`: it could not tell a right pattern from a wrong one.)"""
    body = re.fullmatch(r"\s*\{(.*)\}\s*", pattern)
    assert body is not None, pattern
    found = []
    for term in body[1].split("&&"):
        parts = re.fullmatch(r'\s*\$((?:\.\w+)+)\s*=\s*"([^"\\]*)"\s*', term)
        assert parts is not None, f"not a form this matcher reads: {term!r}"
        value: Any = event
        for key in parts[1].split(".")[1:]:
            value = value.get(key) if isinstance(value, dict) else None
        expected = ".*".join(re.escape(piece) for piece in parts[2].split("*"))
        found.append(isinstance(value, str) and re.fullmatch(expected, value) is not None)
    return all(found)


def _alarm_on(template: dict[str, Any], namespace: str, metric: str) -> dict[str, Any]:
    [alarm] = [
        a for a in _of_type(template, "AWS::CloudWatch::Alarm").values()
        if (a["Namespace"], a["MetricName"]) == (namespace, metric)
    ]  # fmt: skip
    # to the topic, as every alarm (tests/infra/test_invariants.py)
    assert alarm["AlarmActions"]["Fn::If"][1] == [{"Ref": "AlarmTopicArn"}]
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    return alarm


def test_the_stages_rate_limit_refusing_members_raises_an_alarm(
    prod_package: dict[str, Any], api: dict[str, Any]
) -> None:
    """API Gateway's 429 was counted only in `4XXError`, with every member's mistake and the
    function's own 429s (a member's limits): the stage at its ceiling said nothing. Its access
    log now names the refusal; a metric filter counts those lines, an alarm reads the count."""
    template = prod_package["app"]
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    [counter] = [
        f for f in _of_type(template, "AWS::Logs::MetricFilter").values()
        if f["LogGroupName"] == {"Ref": "ApiAccessLogs"}
    ]  # fmt: skip
    pattern = counter["FilterPattern"]

    throttled = _access_line(api, status="429", error__responseType="THROTTLED")
    assert _matches(pattern, throttled)
    # The function's own 429 (a member over their limits), whatever API Gateway writes for
    # the type it has none of; a route that does not exist; WAF's 429, should API Gateway log
    # it (its own alarm, below).
    for name, line in {
        "the function's 429": _access_line(api, status="429"),
        "the function's 429, type empty": _access_line(api, status="429", error__responseType=""),
        "no such route": _access_line(
            api, status="404", error__responseType="MISSING_AUTHENTICATION_TOKEN"
        ),
        "WAF's 429": _access_line(api, status="429", error__responseType="WAF_FILTERED"),
        "a call that went through": _access_line(api),
    }.items():
        assert not _matches(pattern, line), name

    # One a line, in the stage's metric, which the alarm reads: prod's own, not dev's.
    [metric] = counter["MetricTransformations"]
    assert metric["MetricValue"] == "1"
    [dimension] = metric["Dimensions"]
    assert dimension["Value"] == "$.stage" and throttled["stage"] == "prod"
    alarm = _alarm_on(template, metric["MetricNamespace"], metric["MetricName"])
    assert alarm["Dimensions"] == [{"Name": dimension["Key"], "Value": {"Ref": "Stage"}}]
    assert alarm["Statistic"] == "Sum" and alarm["TreatMissingData"] == "notBreaching"
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= 300 and alarm["Threshold"] <= 10


def test_wafs_per_address_rule_refusing_calls_raises_an_alarm(
    prod_package: dict[str, Any],
) -> None:
    """WAF's 429 is its rule's, which WAF counts in AWS/WAFV2 (a metric per rule)."""
    template = prod_package["app"]
    [acl] = _of_type(template, "AWS::WAFv2::WebACL").values()
    [rule] = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    alarm = _alarm_on(template, "AWS/WAFV2", "BlockedRequests")
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "WebACL": acl["VisibilityConfig"]["MetricName"],
        "Rule": rule["VisibilityConfig"]["MetricName"],
        "Region": {"Ref": "AWS::Region"},
    }
    assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
    # within the rule's own window
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= 300
