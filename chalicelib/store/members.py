"""Member profiles and beneficiaries: `MEMBER#<id>` / `PROFILE`, `BENEF#<id>`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.errors import NotFound
from chalicelib.domain.members import Beneficiary, Member, Preferences
from chalicelib.store import keys
from chalicelib.store.dynamo import deserialize, dynamodb, query_all, serialize, table, without_keys


def beneficiaries_of(items: Iterable[dict[str, Any]]) -> dict[str, Beneficiary]:
    """Beneficiaries among items read (by beneficiary id); other items left out."""
    found = [
        Beneficiary.model_validate(without_keys(i))
        for i in items
        if str(i["sk"]).startswith(keys.BENEFICIARY)
    ]
    return {beneficiary.beneficiary_id: beneficiary for beneficiary in found}


class MemberRepository:
    def get(self, member_id: str) -> Member:
        answer = dynamodb().get_item(TableName=table(), Key=serialize(keys.profile_key(member_id)))
        if "Item" not in answer:
            raise NotFound("Adhérent inconnu.")
        return Member.model_validate(without_keys(deserialize(answer["Item"])))

    def put(self, member: Member) -> None:
        item = {**keys.profile_key(member.member_id), **member.model_dump(mode="json")}
        dynamodb().put_item(TableName=table(), Item=serialize(item))

    def set_preferences(self, member_id: str, preferences: Preferences) -> None:
        """On the profile item (`GET`/`PUT /me/preferences`)."""
        dynamodb().update_item(
            TableName=table(),
            Key=serialize(keys.profile_key(member_id)),
            UpdateExpression="SET preferences = :preferences",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=serialize({":preferences": preferences.model_dump()}),
        )

    def beneficiaries(self, member_id: str) -> list[Beneficiary]:
        """The member and the people on their contract, in the order they joined."""
        items = query_all(
            TableName=table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=serialize(
                {":pk": keys.member_pk(member_id), ":prefix": keys.BENEFICIARY}
            ),
        )
        return list(beneficiaries_of(items).values())

    def put_beneficiary(self, member_id: str, beneficiary: Beneficiary) -> None:
        item = {
            **keys.beneficiary_key(member_id, beneficiary.beneficiary_id),
            **beneficiary.model_dump(mode="json"),
        }
        dynamodb().put_item(TableName=table(), Item=serialize(item))

    # -- what a service or an agent changes in the file (`domain.effects.MemberFile`) --------

    def apply_contact(self, member_id: str, changes: Mapping[str, Any]) -> None:
        """Email, phone and postal address, as filed (only those given)."""
        allowed = {k: v for k, v in changes.items() if k in {"email", "phone", "postal_address"}}
        if not allowed:
            return
        names = {f"#{k}": k for k in allowed}
        dynamodb().update_item(
            TableName=table(),
            Key=serialize(keys.profile_key(member_id)),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in allowed),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize({f":{k}": v for k, v in allowed.items()}),
        )

    def held_iban(self, member_id: str, request_id: str) -> str | None:
        answer = dynamodb().get_item(
            TableName=table(), Key=serialize(keys.bank_details_key(member_id, request_id))
        )
        return str(deserialize(answer["Item"])["iban"]) if "Item" in answer else None

    def apply_bank_account(self, member_id: str, iban: str, holder_name: str) -> None:
        dynamodb().update_item(
            TableName=table(),
            Key=serialize(keys.profile_key(member_id)),
            UpdateExpression="SET bank_account = :account",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=serialize(
                {":account": {"iban": iban, "holder_name": holder_name}}
            ),
        )

    def set_coverage_end(self, member_id: str, beneficiary_id: str, until: str) -> None:
        dynamodb().update_item(
            TableName=table(),
            Key=serialize(keys.beneficiary_key(member_id, beneficiary_id)),
            UpdateExpression="SET coverage_end = :until",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=serialize({":until": until}),
        )
