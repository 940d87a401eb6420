"""The tiers-payant attestation: beneficiaries, the inter-AMC block and its Data Matrix."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
import zxingcpp
from letters_support import ISSUED_ON, REFERENCE, pdf_pages, pdf_text
from PIL import Image
from pypdf import PdfReader

from chalicelib.domain.members import Beneficiary, Member
from chalicelib.letters import (
    DEFAULT_COVERAGE,
    CoverageLine,
    LetterContext,
    LetterKind,
    TiersPayantTerms,
    datamatrix,
    inter_amc_block,
    render_letter,
    render_tiers_payant_attestation,
)
from chalicelib.letters.attestation import INTER_AMC_LABELS


def _decode(image: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.DataMatrix)
    return [barcode.text for barcode in found]


def test_lists_every_beneficiary_with_the_period_of_their_rights(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    text = pdf_text(render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON))
    assert "Françoise Lefèvre Adhérent 14/03/1984 01/01/2019 31/12/2026" in text
    assert "Jérôme Lefèvre Conjoint 02/09/1982 01/01/2019 31/12/2026" in text
    assert "Chloé Lefèvre Enfant 26/08/2007 01/01/2019 31/12/2026" in text
    assert "Noé Lefèvre Enfant 26/06/2020 26/06/2020 31/12/2026"  # rights from birth in text


def test_a_beneficiary_no_longer_covered_is_not_on_the_attestation(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    beneficiaries[2] = beneficiaries[2].model_copy(update={"coverage_end": date(2026, 6, 30)})
    text = pdf_text(render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON))
    assert "Chloé" not in text
    assert "Noé Lefèvre" in text


def test_shows_the_contract_and_the_validity_of_the_year(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    text = pdf_text(
        render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON, request_id=REFERENCE)
    )
    assert "Attestation de tiers-payant" in text
    assert "Valable du 01/01/2026 au 31/12/2026" in text
    assert "Délivrée le 26 novembre 2026" in text
    assert "Contrat GEN-2019-004512" in text
    assert "Formule Santé Essentielle Famille" in text
    assert "8 allée des Œillets, Bâtiment C, 42000 Saint-Étienne" in text
    assert f"Référence {REFERENCE}" in text


def test_every_inter_amc_label_is_printed_even_when_its_value_is_empty(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    text = pdf_text(render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON))
    assert "BLOC INTER-AMC" in text
    for label in INTER_AMC_LABELS:
        assert label in text
    # No convention nor routing criterion by default: the labels follow each other.
    assert "N° AMC 775659923 Type de convention Critère de routage N° d'adhérent 0012345601" in (
        text
    )
    assert "Période de validité du 01/01/2026 au 31/12/2026" in text


def test_the_convention_and_routing_criterion_are_printed_when_known(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    terms = TiersPayantTerms(convention_type="SP", routing_criterion="TP")
    text = pdf_text(render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON, terms=terms))
    assert "Type de convention SP Critère de routage TP" in text


def test_lists_the_coverage_of_every_care_domain(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    text = pdf_text(render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON))
    for line in DEFAULT_COVERAGE:
        assert f"{line.code} {line.label} {line.coverage}" in text
    for domain in ("Pharmacie", "Laboratoire", "Radiologie", "Hospitalisation", "Optique"):
        assert domain in text
    assert "Dentaire" in text and "Audioprothèse" in text and "Auxiliaires médicaux" in text


def test_a_contract_specific_coverage_replaces_the_default(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    terms = TiersPayantTerms(
        coverage=(CoverageLine(code="PHAR", label="Pharmacie", coverage="PH4"),)
    )
    text = pdf_text(render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON, terms=terms))
    assert "PHAR Pharmacie PH4" in text
    assert "OPTI" not in text


def test_a_family_fits_on_one_page(member: Member, beneficiaries: list[Beneficiary]) -> None:
    pages = pdf_pages(render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON))
    assert len(pages) == 1
    assert "Page 1/1" in pages[0]


def test_the_data_matrix_in_the_pdf_decodes_to_the_inter_amc_block(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    pdf = render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON)
    images = PdfReader(BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    decoded = _decode(images[0].image)  # type: ignore[arg-type]
    expected = inter_amc_block(member, ISSUED_ON, TiersPayantTerms()).payload()
    assert decoded == [expected]
    assert "|ADH:0012345601|DU:20260101|AU:20261231" in expected


def test_the_attestation_is_also_a_letter_kind(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    context = LetterContext(
        member=member,
        request_id=REFERENCE,
        request_label="Édition de l’attestation de Tiers-Payant Santé",
        issued_on=ISSUED_ON,
        beneficiaries=tuple(beneficiaries),
    )
    assert render_letter(LetterKind.attestation_tiers_payant, context) == (
        render_tiers_payant_attestation(member, beneficiaries, ISSUED_ON, request_id=REFERENCE)
    )


@pytest.mark.parametrize(
    "payload",
    [
        "GENTP1|AMC:775659923|CONV:|ROUT:|ADH:0012345601|DU:20260101|AU:20261231",
        "123456",
        "Réclamation n° 42 : œuvre à 12 €",
    ],
)
def test_the_encoder_round_trips_through_an_independent_decoder(payload: str) -> None:
    assert _decode(datamatrix.image(payload)) == [payload]


def test_the_symbol_has_the_data_matrix_finder_pattern() -> None:
    rows = datamatrix.modules("123456")
    quiet = datamatrix.QUIET_ZONE
    symbol = [row[quiet:-quiet] for row in rows[quiet:-quiet]]
    # "123456" is 3 codewords: the smallest ECC 200 symbol, 10 × 10 modules.
    assert len(symbol) == 10
    assert all(len(row) == 10 for row in symbol)
    assert all(row[0] == "1" for row in symbol)  # solid left edge
    assert symbol[-1] == "1" * 10  # solid bottom edge
    assert symbol[0] == "10" * 5  # alternating top edge
    assert "".join(row[-1] for row in symbol) == "01" * 5  # alternating right edge
    assert all(set(row) == {"0"} for row in rows[:quiet])  # quiet zone


def test_what_the_font_cannot_draw_is_marked_not_dropped(
    member: Member, beneficiaries: list[Beneficiary]
) -> None:
    """A name typed in the family-situation form (any text) reaches the attestation: a glyph
    the font lacks was dropped without a trace; the letters print « ? » (`Document.printable`)."""
    newborn = beneficiaries[3].model_copy(update={"first_name": "Noé 李"})
    moved = member.model_copy(
        update={"postal_address": member.postal_address.model_copy(update={"line2": "Bât. 🏠"})}
    )
    text = pdf_text(render_tiers_payant_attestation(moved, [newborn], ISSUED_ON))
    assert "Noé ? Lefèvre" in text
    assert "Bât. ?" in text
