"""Which Cognito account is which member: `MEMBER#<id>` / `ACCOUNT`, holding the account's `sub`.

Written once, by whoever creates the account for the insurer (`infra.local_stack.create_account`
locally); read by the token check, which refuses a token whose `custom:member_id` names a
member that is not bound to the token's `sub`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import Conflict
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, serialize, table


class MemberAccounts:
    def __init__(self, client: Any | None = None, table_name: str | None = None) -> None:
        """The app's own client and table by default; provisioning tools pass theirs."""
        self._client = client
        self._table = table_name

    def bind(self, member_id: str, sub: str) -> None:
        """Record the member's account. Binding it again to the same account changes nothing;
        to another account, never (an account is replaced by an administrator, on purpose)."""
        try:
            self._dynamodb().put_item(
                TableName=self._table_name(),
                Item=serialize({**keys.account_key(member_id), "sub": sub}),
                ConditionExpression="attribute_not_exists(pk) OR #sub = :sub",
                ExpressionAttributeNames={"#sub": "sub"},
                ExpressionAttributeValues=serialize({":sub": sub}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict("Cet adhérent a déjà un compte.") from error
            raise

    def bound_sub(self, member_id: str) -> str | None:
        answer = self._dynamodb().get_item(
            TableName=self._table_name(),
            Key=serialize(keys.account_key(member_id)),
            ConsistentRead=True,  # an account used right after its creation is still found
        )
        return str(deserialize(answer["Item"])["sub"]) if "Item" in answer else None

    def _dynamodb(self) -> Any:
        return self._client or dynamodb()

    def _table_name(self) -> str:
        return self._table or table()
