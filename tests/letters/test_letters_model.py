"""Kinds, titles, outcomes and French formatting: no PDF needed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain.members import Beneficiary, Member
from chalicelib.letters import (
    KIND_SPECS,
    LetterKind,
    Outcome,
    TiersPayantTerms,
    inter_amc_block,
    letter_title,
    names_mediator,
    needs_appeal,
    resolve_outcome,
)
from chalicelib.letters import french as fr
from chalicelib.letters.model import covered_beneficiaries


def test_every_kind_has_a_spec_and_a_french_title() -> None:
    assert set(KIND_SPECS) == set(LetterKind)
    assert letter_title(LetterKind.refus_remboursement) == "Refus de remboursement"
    assert letter_title(LetterKind.accuse_reception_reclamation) == (
        "Accusé de réception de votre réclamation"
    )
    assert letter_title(LetterKind.attestation_tiers_payant) == "Attestation de tiers-payant"


def test_a_refused_change_is_not_titled_a_confirmation() -> None:
    kind = LetterKind.confirmation_modification
    assert letter_title(kind).startswith("Confirmation")
    assert letter_title(kind, Outcome.refused) == "Réponse à votre demande de modification"


@pytest.mark.parametrize(
    ("kind", "outcome", "appeal"),
    [
        (LetterKind.refus_remboursement, None, True),
        (LetterKind.refus_prise_en_charge, None, True),
        (LetterKind.remboursement, None, False),
        (LetterKind.remboursement, Outcome.partially_accepted, True),
        (LetterKind.reponse_devis, Outcome.accepted, False),
        (LetterKind.reponse_devis, Outcome.refused, True),
        (LetterKind.reponse_reclamation, Outcome.partially_accepted, True),
        (LetterKind.reponse_reclamation, Outcome.accepted, False),
        (LetterKind.accuse_reception_reclamation, None, False),
        (LetterKind.teletransmission, Outcome.refused, True),
        (LetterKind.attestation_tiers_payant, None, False),
    ],
)
def test_letters_that_refuse_in_whole_or_in_part_need_the_appeal(
    kind: LetterKind, outcome: Outcome | None, appeal: bool
) -> None:
    assert needs_appeal(kind, outcome) is appeal


def test_only_a_complaint_answer_that_refuses_names_the_mediator() -> None:
    assert names_mediator(LetterKind.reponse_reclamation, Outcome.refused)
    assert names_mediator(LetterKind.reponse_reclamation, Outcome.partially_accepted)
    assert not names_mediator(LetterKind.reponse_reclamation, Outcome.accepted)
    assert not names_mediator(LetterKind.refus_remboursement)


def test_an_outcome_the_kind_cannot_carry_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        resolve_outcome(LetterKind.refus_remboursement, Outcome.accepted)
    with pytest.raises(ValueError, match="cannot carry"):
        resolve_outcome(LetterKind.accuse_reception_reclamation, Outcome.refused)
    assert resolve_outcome(LetterKind.refus_remboursement, None) is Outcome.refused


def test_dates_and_amounts_are_written_the_french_way() -> None:
    assert fr.long_date(date(2026, 11, 26)) == "26\u00a0novembre 2026"
    assert fr.long_date(date(2027, 3, 1)) == "1er\u00a0mars 2027"
    assert fr.long_date(date(2026, 8, 15)) == "15\u00a0août 2026"
    assert fr.short_date(date(2026, 1, 5)) == "05/01/2026"
    assert fr.amount(Decimal("1234.5")) == "1\u202f234,50\u00a0€"
    assert fr.amount(Decimal("42.50")) == "42,50\u00a0€"
    assert fr.amount(Decimal("1234567")) == "1\u202f234\u202f567,00\u00a0€"


def test_filed_data_reads_as_words_and_the_iban_is_masked() -> None:
    rows = dict(
        fr.filed_rows(
            {
                "care_date": "2026-11-02",
                "amount": "42.50",
                "care_type": "auxiliaires_medicaux",
                "iban": "FR7630006000011234567890189",
                "subject": "remboursements",
                "detail": "montant_conteste",
                "new_beneficiary": {
                    "first_name": "Noé",
                    "last_name": "Lefèvre",
                    "birth_date": "2026-10-01",
                    "relationship": "child",
                },
            }
        )
    )
    assert rows["Date des soins"] == "2\u00a0novembre 2026"
    assert rows["Montant"] == "42,50\u00a0€"
    assert rows["Nature des soins"] == "Auxiliaires médicaux"
    assert rows["IBAN"] == "FR** **** **** **** **** ***0 189"
    assert rows["Sujet"] == "Mes remboursements"
    assert rows["Détail"] == "Montant du remboursement contesté"
    assert rows["Nouveau bénéficiaire"] == "Noé Lefèvre, enfant, né(e) le 1er\u00a0octobre 2026"


def test_rights_run_from_contract_start_or_birth_to_coverage_end_or_year_end(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    newborn = beneficiaries[0].model_copy(
        update={"beneficiary_id": "b5", "first_name": "Zoé", "birth_date": date(2026, 10, 1)}
    )
    leaving = beneficiaries[2].model_copy(update={"coverage_end": date(2026, 12, 15)})
    rights = {
        r.beneficiary.first_name: (r.valid_from, r.valid_until)
        for r in covered_beneficiaries(
            member, [beneficiaries[0], leaving, newborn], date(2026, 11, 26)
        )
    }
    assert rights == {
        "Françoise": (date(2019, 1, 1), date(2026, 12, 31)),
        "Chloé": (date(2019, 1, 1), date(2026, 12, 15)),
        "Zoé": (date(2026, 10, 1), date(2026, 12, 31)),
    }


def test_a_beneficiary_whose_coverage_has_ended_is_left_off(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    gone = beneficiaries[2].model_copy(update={"coverage_end": date(2026, 9, 30)})
    rights = covered_beneficiaries(member, [beneficiaries[0], gone], date(2026, 11, 26))
    assert [r.beneficiary.first_name for r in rights] == ["Françoise"]


def test_inter_amc_block_is_valid_for_the_year_and_encodes_every_field(member: Member) -> None:
    block = inter_amc_block(member, date(2026, 11, 26), TiersPayantTerms())
    assert (block.valid_from, block.valid_until) == (date(2026, 1, 1), date(2026, 12, 31))
    assert block.payload() == (
        "GENTP1|AMC:775659923|CONV:|ROUT:|ADH:0012345601|DU:20260101|AU:20261231"
    )
    recent = member.model_copy(
        update={"contract": member.contract.model_copy(update={"start_date": date(2026, 6, 1)})}
    )
    terms = TiersPayantTerms(convention_type="SP", routing_criterion="TP")
    later = inter_amc_block(recent, date(2026, 11, 26), terms)
    assert later.valid_from == date(2026, 6, 1)
    assert "|CONV:SP|ROUT:TP|" in later.payload()
