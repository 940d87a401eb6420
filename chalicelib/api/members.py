"""The signed-in member's own data: `GET /me`, `GET /me/beneficiaries`."""

from __future__ import annotations

from datetime import date

from chalice.app import Response
from pydantic import BaseModel

from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.domain.members import (
    Contract,
    MaskedBankAccount,
    Member,
    PostalAddress,
    Relationship,
    mask_iban,
)
from chalicelib.store.members import MemberRepository

blueprint = ApiBlueprint(__name__)


class MeAnswer(BaseModel):
    member_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    postal_address: PostalAddress
    bank_account: MaskedBankAccount | None
    contract: Contract

    @classmethod
    def of(cls, member: Member) -> MeAnswer:
        account = member.bank_account
        return cls(
            **member.model_dump(exclude={"bank_account"}),
            bank_account=MaskedBankAccount(
                iban_masked=mask_iban(account.iban), holder_name=account.holder_name
            )
            if account
            else None,
        )


class BeneficiaryAnswer(BaseModel):
    beneficiary_id: str
    first_name: str
    last_name: str
    relationship: Relationship
    birth_date: date
    coverage_end: date | None


class BeneficiariesAnswer(BaseModel):
    beneficiaries: list[BeneficiaryAnswer]


@blueprint.route("/me", methods=["GET"])
def get_me() -> Response:
    member = MemberRepository().get(current_member_id())
    return json_response(MeAnswer.of(member).model_dump(mode="json"))


@blueprint.route("/me/beneficiaries", methods=["GET"])
def get_my_beneficiaries() -> Response:
    beneficiaries = MemberRepository().beneficiaries(current_member_id())
    answer = BeneficiariesAnswer(
        beneficiaries=[BeneficiaryAnswer.model_validate(b.model_dump()) for b in beneficiaries]
    )
    return json_response(answer.model_dump(mode="json"))
