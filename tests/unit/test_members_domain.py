from datetime import date

import pytest

from chalicelib.domain.members import Beneficiary, Contract, Relationship, mask_iban


@pytest.mark.parametrize(
    ("iban", "masked"),
    [
        ("FR7630006000011234567890189", "FR** **** **** **** **** ***0 189"),
        ("FR76 3000 6000 0112 3456 7890 189", "FR** **** **** **** **** ***0 189"),
        ("DE89370400440532013000", "DE** **** **** **** **30 00"),
        ("abc", "***"),
    ],
)
def test_iban_is_masked_to_country_and_last_four(iban: str, masked: str) -> None:
    assert mask_iban(iban) == masked
    assert sum(c.isdigit() for c in masked) <= 4


def test_age_counts_whole_years_on_the_day() -> None:
    child = Beneficiary(
        beneficiary_id="b",
        first_name="L",
        last_name="M",
        relationship=Relationship.child,
        birth_date=date(2007, 11, 26),
    )
    assert child.age_on(date(2026, 11, 25)) == 18
    assert child.age_on(date(2026, 11, 26)) == 19


def test_a_beneficiary_is_covered_on_the_first_and_the_last_day_and_not_beyond() -> None:
    """A tiers payant attestation is issued for those covered that day: the first and last
    days of a coverage are covered days ("last day covered")."""
    contract = Contract(contract_number="C", amc_number="A", formula="F",
                        start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))  # fmt: skip
    newborn = Beneficiary(
        beneficiary_id="b",
        first_name="L",
        last_name="M",
        relationship=Relationship.child,
        birth_date=date(2026, 3, 2),
        coverage_start=date(2026, 3, 2),
        coverage_end=date(2026, 9, 30),
    )
    assert [newborn.covered_on(day, contract) for day in (
        date(2026, 3, 1), date(2026, 3, 2), date(2026, 9, 30), date(2026, 10, 1)
    )] == [False, True, True, False]  # fmt: skip
    # Covered on their own from before the contract: from the contract's first day only.
    earlier = newborn.model_copy(update={"coverage_start": date(2025, 6, 1)})
    assert not earlier.covered_on(date(2025, 12, 31), contract)
    adult = newborn.model_copy(update={"coverage_start": None, "coverage_end": None})
    assert [adult.covered_on(day, contract) for day in (
        date(2025, 12, 31), date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1)
    )] == [False, True, True, False]  # fmt: skip
