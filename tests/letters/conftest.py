"""A member whose name and address are full of accents, and the context of each letter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from letters_support import FILED, ISSUED_ON, REFERENCE

from chalicelib.domain.members import (
    BankAccount,
    Beneficiary,
    Contract,
    Member,
    PostalAddress,
    Relationship,
)
from chalicelib.letters import LetterContext, LetterKind, Outcome


@pytest.fixture
def member() -> Member:
    return Member(
        member_id="0012345601",
        first_name="Françoise",
        last_name="Lefèvre",
        email="francoise.lefevre@example.fr",
        phone="06 12 34 56 78",
        postal_address=PostalAddress(
            line1="8 allée des Œillets",
            line2="Bâtiment C",
            postal_code="42000",
            city="Saint-Étienne",
        ),
        bank_account=BankAccount(iban="FR7630006000011234567890189", holder_name="F. Lefèvre"),
        contract=Contract(
            contract_number="GEN-2019-004512",
            amc_number="775659923",
            formula="Santé Essentielle Famille",
            start_date=date(2019, 1, 1),
        ),
    )


@pytest.fixture
def beneficiaries() -> list[Beneficiary]:
    return [
        Beneficiary(
            beneficiary_id="b1",
            first_name="Françoise",
            last_name="Lefèvre",
            relationship=Relationship.member,
            birth_date=date(1984, 3, 14),
        ),
        Beneficiary(
            beneficiary_id="b2",
            first_name="Jérôme",
            last_name="Lefèvre",
            relationship=Relationship.spouse,
            birth_date=date(1982, 9, 2),
        ),
        Beneficiary(
            beneficiary_id="b3",
            first_name="Chloé",
            last_name="Lefèvre",
            relationship=Relationship.child,
            birth_date=date(2007, 8, 26),
            coverage_end=date(2026, 12, 31),
        ),
        Beneficiary(
            beneficiary_id="b4",
            first_name="Noé",
            last_name="Lefèvre",
            relationship=Relationship.child,
            birth_date=date(2020, 6, 26),
        ),
    ]


@pytest.fixture
def context_for(member: Member, beneficiaries: list[Beneficiary]) -> Callable[..., LetterContext]:
    """The context of a letter of that kind; keywords override or add fields."""

    def make(kind: LetterKind, outcome: Outcome | None = None, **overrides: Any) -> LetterContext:
        fields: dict[str, Any] = {
            "member": member,
            "request_id": REFERENCE,
            "issued_on": ISSUED_ON,
            "filed_on": date(2026, 11, 20),
            "outcome": outcome,
            "beneficiaries": tuple(beneficiaries),
            **FILED[kind],
            **overrides,
        }
        return LetterContext(**fields)

    return make
