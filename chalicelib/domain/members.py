"""Members, their contract and beneficiaries: pure models, no storage."""

from datetime import date
from enum import StrEnum

from pydantic import ConfigDict, Field

from chalicelib.domain.model import Model
from chalicelib.domain.notifications import sms_number
from chalicelib.domain.text import NOT_BLANK


class Relationship(StrEnum):
    member = "member"
    spouse = "spouse"
    child = "child"


# The countries a member's address may be in, by name (the stored address holds any ISO code:
# the insurer's data; a filed one, `demarches.Country`, five of them). Letters print them.
COUNTRY_NAMES: dict[str, str] = {
    "FR": "France", "BE": "Belgique", "CH": "Suisse", "DE": "Allemagne", "ES": "Espagne",
    "GB": "Royaume-Uni", "IT": "Italie", "LU": "Luxembourg", "MC": "Monaco", "PT": "Portugal",
}  # fmt: skip


class PostalAddress(Model):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    line1: str = Field(min_length=1, max_length=120, pattern=NOT_BLANK, title="Adresse")
    line2: str | None = Field(default=None, max_length=120, title="Complément d'adresse")
    postal_code: str = Field(
        pattern=r"^[0-9]{5}$", description="Code postal à 5 chiffres", title="Code postal"
    )
    city: str = Field(min_length=1, max_length=80, pattern=NOT_BLANK, title="Ville")
    country: str = Field(
        default="FR",
        pattern=r"^[A-Z]{2}$",
        description="Code ISO 3166-1 du pays, deux lettres, par ex. « FR »",
        title="Pays",
    )


class BankAccount(Model):
    """As stored in the profile: the only place the full IBAN lives."""

    iban: str
    holder_name: str


class MaskedBankAccount(Model):
    iban_masked: str
    holder_name: str


class Contract(Model):
    contract_number: str
    amc_number: str
    formula: str
    start_date: date
    end_date: date | None = Field(default=None, description="Last day covered, if it ends")

    def active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class Preferences(Model):
    """How the member wants to hear from Génération (`GET`/`PUT /me/preferences`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: bool = Field(default=True, description="Told by e-mail when something needs them")
    sms: bool = Field(default=False, description="Told by SMS too")
    paperless: bool = Field(
        default=True, description="Letters in « Mes courriers » only, none posted"
    )


class Member(Model):
    member_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    postal_address: PostalAddress
    bank_account: BankAccount | None = None
    contract: Contract
    preferences: Preferences = Field(default_factory=Preferences)


class Beneficiary(Model):
    beneficiary_id: str
    first_name: str
    last_name: str
    relationship: Relationship
    birth_date: date
    coverage_start: date | None = Field(
        default=None, description="First day covered, if not the contract's"
    )
    coverage_end: date | None = Field(default=None, description="Last day covered, if it ends")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def covered_on(self, day: date, contract: Contract) -> bool:
        """Covered that day: the contract runs, and the beneficiary's own coverage too."""
        starts = max(contract.start_date, self.coverage_start or contract.start_date)
        ends = min(d for d in (contract.end_date, self.coverage_end, date.max) if d is not None)
        return starts <= day <= ends

    def age_on(self, day: date) -> int:
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    def birthday(self, age: int) -> date:
        """The day they turn `age`, as `age_on` counts it: one born on 29 February turns it on
        1 March in a common year (on 28 February they are not that age yet)."""
        year = self.birth_date.year + age
        try:
            return self.birth_date.replace(year=year)
        except ValueError:  # 29 February, in a common year
            return date(year, 3, 1)


def mask_iban(iban: str) -> str:
    """Country code and last 4 characters, the rest starred, in groups of four."""
    compact = "".join(iban.split()).upper()
    if len(compact) <= 6:
        return "*" * len(compact)
    masked = compact[:2] + "*" * (len(compact) - 6) + compact[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


# What a member reads of their profile (`GET /me`, `GET /me/beneficiaries`, and the same in
# their export's `profile.json` and `beneficiaries.json`).


class MeAnswer(Model):
    member_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    sms_reachable: bool = Field(
        description="`phone` is a mobile, which SMS reach (the notifications' rule): "
        "`sms` may be turned on in the preferences"
    )
    postal_address: PostalAddress
    bank_account: MaskedBankAccount | None
    contract: Contract

    @classmethod
    def of(cls, member: Member) -> "MeAnswer":
        account = member.bank_account
        return cls(
            **member.model_dump(exclude={"bank_account"}),
            sms_reachable=sms_number(member.phone) is not None,
            bank_account=MaskedBankAccount(
                iban_masked=mask_iban(account.iban), holder_name=account.holder_name
            )
            if account
            else None,
        )


class BeneficiaryAnswer(Model):
    beneficiary_id: str
    first_name: str
    last_name: str
    relationship: Relationship
    birth_date: date
    coverage_end: date | None


class BeneficiariesAnswer(Model):
    beneficiaries: list[BeneficiaryAnswer]

    @classmethod
    def of(cls, beneficiaries: list[Beneficiary]) -> "BeneficiariesAnswer":
        return cls(
            beneficiaries=[BeneficiaryAnswer.model_validate(b.model_dump()) for b in beneficiaries]
        )
