"""How the portal and its CORS are deployed (`make package STAGE=prod`): a private bucket read
only by CloudFront, strict security headers, the origins exported to the app, API Gateway's own
answers naming them, and preflights that no authorizer stands in front of."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import ROOT


def _resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def test_the_portal_bucket_is_private_and_read_by_its_distribution_only(
    prod_package: dict[str, Any],
) -> None:
    stateful = prod_package["stateful"]
    bucket = stateful["Resources"]["PortalBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = stateful["Resources"]["PortalBucketPolicy"]["Properties"]["PolicyDocument"]
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allow["Condition"]["StringEquals"]
    (oac,) = _resources(stateful, "AWS::CloudFront::OriginAccessControl").values()
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    (distribution,) = _resources(stateful, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["PortalOriginAccessControl", "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_the_portal_is_served_with_a_strict_csp_hsts_and_nosniff(
    prod_package: dict[str, Any],
) -> None:
    (policy,) = _resources(
        prod_package["stateful"], "AWS::CloudFront::ResponseHeadersPolicy"
    ).values()
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"][0]
    directives = {
        d.split()[0]: d.split()[1:] for d in csp.replace("\n", " ").split(";") if d.strip()
    }
    assert directives["script-src"] == ["'self'"]  # no inline script, no other host
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"] == {"Override": True}


def test_the_app_reads_the_origins_the_data_stack_exports(prod_package: dict[str, Any]) -> None:
    exported = prod_package["stateful"]["Outputs"]["PortalOrigins"]["Export"]["Name"]
    assert exported == {"Fn::Sub": "generation-demarches-${Stage}-portal-origins"}
    app = prod_package["app"]
    variables = app["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["PORTAL_ORIGINS"] == {"Fn::ImportValue": exported}


def test_api_gateways_own_answers_carry_the_portals_origin(prod_package: dict[str, Any]) -> None:
    """401 from the authorizer, 429 from throttling, 5xx: API Gateway answers before the app."""
    api = prod_package["app"]["Resources"]["RestAPI"]["Properties"]
    for name, response in api["GatewayResponses"].items():
        headers = response["ResponseParameters"]["Headers"]
        assert "Access-Control-Allow-Origin" in headers, name
        assert "Location" in headers["Access-Control-Expose-Headers"], name
        assert headers["Vary"] == "'Origin'", name


def test_preflights_reach_the_app_with_no_authorizer(prod_package: dict[str, Any]) -> None:
    """A browser's preflight carries no token: an authorizer in front of it fails every call."""
    paths = prod_package["app"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, operations in paths.items():
        assert "options" in operations, path
        assert "security" not in operations["options"], path
        assert operations["options"]["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


def test_the_package_holds_the_portal() -> None:
    assert (ROOT / "web" / "index.html").is_file()
