"""The Cognito user pool is the stateful stack's: admin-created accounts, a member id that the
portal reads but never writes, a health insurer's password and MFA policy; the local stack
builds its pool from the same template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.local_stack import LocalStack
from tests.infra.test_template import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def _resource(template: dict[str, Any], kind: str) -> dict[str, Any]:
    [found] = [r for r in template["Resources"].values() if r["Type"] == kind]
    return dict(found)


@pytest.fixture(scope="module")
def pool(prod_package: dict[str, Any]) -> dict[str, Any]:
    return _resource(prod_package["stateful"], "AWS::Cognito::UserPool")


@pytest.fixture(scope="module")
def client(prod_package: dict[str, Any]) -> dict[str, Any]:
    return dict(_resource(prod_package["stateful"], "AWS::Cognito::UserPoolClient")["Properties"])


def test_only_administrators_create_accounts(pool: dict[str, Any]) -> None:
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_portal_reads_the_member_id_and_can_never_write_it(
    pool: dict[str, Any], client: dict[str, Any]
) -> None:
    [member_id] = [a for a in pool["Properties"]["Schema"] if a["Name"] == "member_id"]
    assert member_id["Mutable"] is False
    assert "custom:member_id" in client["ReadAttributes"]
    assert "WriteAttributes" in client  # absent, Cognito would let the client write them all
    assert not any("member_id" in attribute for attribute in client["WriteAttributes"])


def test_passwords_and_mfa_fit_health_data(pool: dict[str, Any], client: dict[str, Any]) -> None:
    properties = pool["Properties"]
    password = properties["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols")
    )
    assert password["TemporaryPasswordValidityDays"] <= 3
    assert properties["MfaConfiguration"] == "ON"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    # No admin flow from a browser, no custom one.
    assert set(client["ExplicitAuthFlows"]) <= {
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"
    }  # fmt: skip
    assert client["GenerateSecret"] is False
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["IdTokenValidity"] <= 60 and client["TokenValidityUnits"]["IdToken"] == "minutes"


def test_every_service_has_its_agent_group(prod_package: dict[str, Any]) -> None:
    groups = {
        r["Properties"]["GroupName"]
        for r in prod_package["stateful"]["Resources"].values()
        if r["Type"] == "AWS::Cognito::UserPoolGroup"
    }
    assert groups == {f"agent-{service}" for service in SERVICES}


def test_the_app_verifies_tokens_of_the_stateful_stacks_pool(prod_package: dict[str, Any]) -> None:
    variables = prod_package["app"]["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["COGNITO_USER_POOL_ID"] == {
        "Fn::ImportValue": {"Fn::Sub": "generation-demarches-${Stage}-user-pool-id"}
    }
    assert variables["COGNITO_APP_CLIENT_ID"] == {
        "Fn::ImportValue": {"Fn::Sub": "generation-demarches-${Stage}-user-pool-client-id"}
    }
    outputs = prod_package["stateful"]["Outputs"].values()
    exports = {o["Export"]["Name"]["Fn::Sub"] for o in outputs if "Export" in o}
    assert {
        "generation-demarches-${Stage}-user-pool-id",
        "generation-demarches-${Stage}-user-pool-client-id",
    } <= exports


def test_the_local_pool_is_built_from_the_template(local_stack: LocalStack) -> None:
    cognito = local_stack.client("cognito-idp")
    described = cognito.describe_user_pool(UserPoolId=local_stack.user_pool_id)["UserPool"]
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert described["Policies"]["PasswordPolicy"]["RequireSymbols"] is True
    assert described["MfaConfiguration"] == "ON"
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=local_stack.user_pool_id)
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    [member_id] = [a for a in described["SchemaAttributes"] if a["Name"] == "custom:member_id"]
    assert member_id["Mutable"] is False
    app_client = cognito.describe_user_pool_client(
        UserPoolId=local_stack.user_pool_id, ClientId=local_stack.app_client_id
    )["UserPoolClient"]
    assert "custom:member_id" in app_client["ReadAttributes"]
    assert app_client["WriteAttributes"] == ["email"]
    assert app_client["ExplicitAuthFlows"] == [
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    groups = cognito.list_groups(UserPoolId=local_stack.user_pool_id)["Groups"]
    assert {g["GroupName"] for g in groups} == {f"agent-{service}" for service in SERVICES}


def test_the_portal_signs_in_with_a_flow_its_deployed_client_allows(client: dict[str, Any]) -> None:
    """The portal signs in with USER_PASSWORD_AUTH; the deployed client allowed SRP only, so on
    AWS every sign-in failed (« La connexion a échoué. »), the portal and the console locked.
    moto enforces no client's flows: the portal's own code is read against the template."""
    import re

    sign_in = (ROOT / "web" / "js" / "auth.js").read_text()
    used = set(re.findall(r'AuthFlow: "([A-Z_]+)"', sign_in))
    assert used == {"USER_PASSWORD_AUTH"}
    flows = client["ExplicitAuthFlows"]
    assert isinstance(flows, list), "the same flows on every stage"
    assert {f"ALLOW_{flow}" for flow in used} <= set(flows)
