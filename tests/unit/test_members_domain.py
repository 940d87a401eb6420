from datetime import date

import pytest

from chalicelib.domain.members import Beneficiary, Relationship, mask_iban


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
