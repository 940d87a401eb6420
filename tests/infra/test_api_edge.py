"""In front of the function, as packaged for prod: API Gateway checks the Cognito ID token on
every route but the public document, and a WAF rule caps the requests of one address."""

from __future__ import annotations

import json
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
