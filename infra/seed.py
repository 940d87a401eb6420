"""Demo members of the local stack (API.md, "Local stack"): alice, bob and agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from chalicelib.domain.catalog import Service
from chalicelib.domain.members import (
    BankAccount,
    Beneficiary,
    Contract,
    Member,
    PostalAddress,
    Relationship,
)
from chalicelib.store.members import MemberRepository

DEMO_PASSWORD = "Demarches-Locales-2026!"


@dataclass(frozen=True)
class Account:
    username: str
    member_id: str | None
    groups: tuple[str, ...] = field(default_factory=tuple)


def _years_ago(today: date, years: int, months: int = 0) -> date:
    month = today.month - months
    year = today.year - years
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, min(today.day, 28))


def alice(today: date, member_id: str = "0012345601") -> tuple[Member, list[Beneficiary]]:
    member = Member(
        member_id=member_id,
        first_name="Alice",
        last_name="Martin",
        email="alice.martin@example.fr",
        phone="06 12 34 56 78",
        postal_address=PostalAddress(
            line1="12 rue de la Roquette", postal_code="75011", city="Paris", country="FR"
        ),
        bank_account=BankAccount(iban="FR7630006000011234567890189", holder_name="Alice Martin"),
        contract=Contract(
            contract_number="GEN-2019-004512",
            amc_number="775659923",
            formula="Santé Essentielle Famille",
            start_date=date(2019, 1, 1),
        ),
    )
    beneficiaries = [
        Beneficiary(
            beneficiary_id=f"{member_id}-01",
            first_name="Alice",
            last_name="Martin",
            relationship=Relationship.member,
            birth_date=date(1984, 3, 14),
        ),
        Beneficiary(
            beneficiary_id=f"{member_id}-02",
            first_name="Julien",
            last_name="Martin",
            relationship=Relationship.spouse,
            birth_date=date(1982, 9, 2),
        ),
        Beneficiary(
            beneficiary_id=f"{member_id}-03",
            first_name="Léa",
            last_name="Martin",
            relationship=Relationship.child,
            birth_date=_years_ago(today, 19, months=3),  # 19 years old today
            coverage_end=date(today.year, 12, 31),
        ),
        Beneficiary(
            beneficiary_id=f"{member_id}-04",
            first_name="Hugo",
            last_name="Martin",
            relationship=Relationship.child,
            birth_date=_years_ago(today, 12, months=5),
        ),
    ]
    return member, beneficiaries


def bob(today: date, member_id: str = "0012345602") -> tuple[Member, list[Beneficiary]]:
    member = Member(
        member_id=member_id,
        first_name="Bob",
        last_name="Durand",
        email="bob.durand@example.fr",
        phone="07 98 76 54 32",
        postal_address=PostalAddress(
            line1="3 place Bellecour", line2="Bâtiment B", postal_code="69002", city="Lyon"
        ),
        bank_account=BankAccount(iban="FR1420041010050500013M02606", holder_name="Bob Durand"),
        contract=Contract(
            contract_number="GEN-2022-017733",
            amc_number="775659923",
            formula="Santé Confort Solo",
            start_date=date(2022, 6, 1),
        ),
    )
    beneficiaries = [
        Beneficiary(
            beneficiary_id=f"{member_id}-01",
            first_name="Bob",
            last_name="Durand",
            relationship=Relationship.member,
            birth_date=date(1990, 11, 5),
        )
    ]
    return member, beneficiaries


def claire(today: date, member_id: str = "0012345603") -> tuple[Member, list[Beneficiary]]:
    """A member who is also an agent of the remboursements service: she may work everyone's
    requests but her own."""
    member = Member(
        member_id=member_id,
        first_name="Claire",
        last_name="Petit",
        email="claire.petit@example.fr",
        phone="06 45 67 89 01",
        postal_address=PostalAddress(
            line1="27 rue Nationale", postal_code="59000", city="Lille", country="FR"
        ),
        bank_account=BankAccount(iban="FR7630004000031234567890143", holder_name="Claire Petit"),
        contract=Contract(
            contract_number="GEN-2021-008841",
            amc_number="775659923",
            formula="Santé Confort Solo",
            start_date=date(2021, 3, 1),
        ),
    )
    beneficiaries = [
        Beneficiary(
            beneficiary_id=f"{member_id}-01",
            first_name="Claire",
            last_name="Petit",
            relationship=Relationship.member,
            birth_date=date(1979, 6, 21),
        )
    ]
    return member, beneficiaries


DEMO_ACCOUNTS: tuple[Account, ...] = (
    Account("alice", "0012345601"),
    Account("bob", "0012345602"),
    Account("claire", "0012345603", ("agent-remboursements",)),
    Account("agent", None, tuple(f"agent-{service.value}" for service in Service)),
)


def seed_member(member: Member, beneficiaries: list[Beneficiary]) -> None:
    repository = MemberRepository()
    repository.put(member)
    for beneficiary in beneficiaries:
        repository.put_beneficiary(member.member_id, beneficiary)


def seed_demo_members(today: date) -> None:
    for make in (alice, bob, claire):
        seed_member(*make(today))
