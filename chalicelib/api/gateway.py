"""What API Gateway checks itself, in the deployed stack, before the function runs.

Every route but the public ones names the stage's Cognito user-pool authorizer: API Gateway
verifies the ID token's signature, issuer and expiry and answers 401 itself (in our error
shape: `infra/chalice-merge.yaml`), so an anonymous flood never reaches Lambda. The middleware's
check (`api/auth.py`) still runs on every call: it is the one check that runs locally (neither
`chalice local` nor the test client runs a Cognito authorizer; they let the call through), and
the one that reads the member and the agent's groups from the token.
"""

from __future__ import annotations

import copy
from typing import Any

from chalice.app import Authorizer


class CognitoIdToken(Authorizer):
    """API Gateway's Cognito user-pool authorizer. With no scopes, it takes the token as an ID
    token, as the middleware does. The pool is the stage's: `infra/chalice-merge.yaml` fills
    `providerARNs` in from the data stack's export (Chalice cannot name a CloudFormation import)."""

    def __init__(self) -> None:
        self.name = "CognitoIdToken"
        self.scopes: list[str] = []

    def to_swagger(self) -> dict[str, Any]:
        return {
            "in": "header",
            "type": "apiKey",
            "name": "Authorization",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": []},
        }

    def with_scopes(self, scopes: list[str]) -> Authorizer:
        scoped = copy.deepcopy(self)
        scoped.scopes = scopes
        return scoped


GATEWAY_TOKEN_CHECK = CognitoIdToken()
