"""Member profiles and beneficiaries: `MEMBER#<id>` / `PROFILE`, `BENEF#<id>`."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.errors import NotFound
from chalicelib.domain.members import Beneficiary, Member
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, serialize, table


class MemberRepository:
    def get(self, member_id: str) -> Member:
        answer = dynamodb().get_item(TableName=table(), Key=serialize(keys.profile_key(member_id)))
        if "Item" not in answer:
            raise NotFound("Adhérent inconnu.")
        return Member.model_validate(_body(answer["Item"]))

    def put(self, member: Member) -> None:
        item = {**keys.profile_key(member.member_id), **member.model_dump(mode="json")}
        dynamodb().put_item(TableName=table(), Item=serialize(item))

    def beneficiaries(self, member_id: str) -> list[Beneficiary]:
        """The member and the people on their contract, in the order they joined."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize(
                {":pk": keys.member_pk(member_id), ":prefix": keys.BENEFICIARY}
            ),
        }
        while True:
            page = dynamodb().query(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [Beneficiary.model_validate(_body(item)) for item in items]

    def put_beneficiary(self, member_id: str, beneficiary: Beneficiary) -> None:
        item = {
            **keys.beneficiary_key(member_id, beneficiary.beneficiary_id),
            **beneficiary.model_dump(mode="json"),
        }
        dynamodb().put_item(TableName=table(), Item=serialize(item))


def _body(item: dict[str, Any]) -> dict[str, Any]:
    body = deserialize(item)
    body.pop("pk", None)
    body.pop("sk", None)
    return body
