"""What an accepted démarche changes in the member's file, one function per kind of change.

Each registry entry (`domain/catalog.py`) names its effect; the store's member repository
implements `MemberFile`, the tests' fakes too. Every effect can run twice harmlessly (a retried
decision applies the same change again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from chalicelib.domain.errors import Conflict
from chalicelib.domain.members import Beneficiary, Relationship


class MemberFile(Protocol):
    def beneficiaries(self, member_id: str) -> list[Beneficiary]: ...

    def apply_contact(self, member_id: str, changes: Mapping[str, Any]) -> None: ...

    def held_iban(self, member_id: str, request_id: str) -> str | None: ...

    def apply_bank_account(self, member_id: str, iban: str, holder_name: str) -> None: ...

    def set_coverage_end(self, member_id: str, beneficiary_id: str, until: str) -> None: ...

    def put_beneficiary(self, member_id: str, beneficiary: Beneficiary) -> None: ...


@dataclass(frozen=True)
class CoverageChange:
    """Whose coverage an acceptance starts or ends, and when: the letter says so."""

    name: str
    starts_on: date | None = None
    ends_on: date | None = None
    extended: bool = False  # the end moves later (an adult child's extension)


@dataclass(frozen=True)
class Accepted:
    """An accepted request, as its effect needs it: whose, which, what was filed, for whom."""

    member_id: str
    request_id: str
    data: Mapping[str, Any]
    beneficiary_ids: Sequence[str]


Effect = Callable[[Accepted, MemberFile], Sequence[CoverageChange]]


def apply_contact_details(accepted: Accepted, file: MemberFile) -> Sequence[CoverageChange]:
    file.apply_contact(accepted.member_id, accepted.data)
    return ()


def apply_bank_details(accepted: Accepted, file: MemberFile) -> Sequence[CoverageChange]:
    # The request holds the IBAN masked; the full one waits beside it until the decision.
    iban = file.held_iban(accepted.member_id, accepted.request_id)
    if iban is None:
        raise Conflict("Les coordonnées bancaires de cette demande sont introuvables.")
    file.apply_bank_account(accepted.member_id, iban, str(accepted.data["holder_name"]))
    return ()


def _concerned(accepted: Accepted, file: MemberFile) -> list[Beneficiary]:
    wanted = set(accepted.beneficiary_ids)
    return [b for b in file.beneficiaries(accepted.member_id) if b.beneficiary_id in wanted]


def extend_child_coverage(accepted: Accepted, file: MemberFile) -> Sequence[CoverageChange]:
    """Moves the child's coverage end to the extension's end, never earlier: an extension filed
    before another one was accepted may be decided after it; the letter then names the end that
    stands."""
    until = date.fromisoformat(str(accepted.data["until"]))
    changes = []
    for beneficiary in _concerned(accepted, file):
        current = beneficiary.coverage_end
        end = until if current is None else max(until, current)
        if end != current:
            file.set_coverage_end(accepted.member_id, beneficiary.beneficiary_id, end.isoformat())
        changes.append(CoverageChange(beneficiary.full_name, ends_on=end, extended=True))
    return changes


# A family event that ends the coverage of the beneficiary it concerns, on the event's day.
ENDING_EVENTS = frozenset({"divorce", "separation", "deces"})


def apply_family_change(accepted: Accepted, file: MemberFile) -> Sequence[CoverageChange]:
    """A birth, an adoption, a marriage or a PACS brings its newcomer onto the contract from the
    event's day; a divorce, a separation or a death ends the coverage of the beneficiary it
    concerns on that day."""
    event = str(accepted.data["event"])
    on = date.fromisoformat(str(accepted.data["event_date"]))
    newcomer = accepted.data.get("new_beneficiary")
    if newcomer:
        beneficiary = Beneficiary(
            # Derived from the request: a second run writes the same beneficiary again.
            beneficiary_id=f"{accepted.member_id}-{accepted.request_id}",
            first_name=newcomer["first_name"],
            last_name=newcomer["last_name"],
            relationship=Relationship(newcomer["relationship"]),
            birth_date=newcomer["birth_date"],
            coverage_start=on,
        )
        file.put_beneficiary(accepted.member_id, beneficiary)
        return [CoverageChange(beneficiary.full_name, starts_on=on)]
    if event not in ENDING_EVENTS:
        return ()
    changes = []
    for beneficiary in _concerned(accepted, file):
        if beneficiary.relationship is Relationship.member:
            continue  # the member's own coverage is the contract's, ended by its own letter
        file.set_coverage_end(accepted.member_id, beneficiary.beneficiary_id, on.isoformat())
        changes.append(CoverageChange(beneficiary.full_name, ends_on=on))
    return changes
