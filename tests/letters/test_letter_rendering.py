"""Every letter rendered to PDF and read back as a member would read it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from letters_support import ISSUED_ON, REFERENCE, pdf_pages, pdf_text
from pypdf import PdfReader

from chalicelib.letters import (
    KIND_SPECS,
    LetterContext,
    LetterKind,
    Outcome,
    letter_title,
    needs_appeal,
    render_letter,
)

ContextFor = Callable[..., LetterContext]
ROOT = Path(__file__).resolve().parents[2]

# Every (kind, outcome) a letter can carry.
CASES = [(kind, outcome) for kind, spec in KIND_SPECS.items() for outcome in spec.outcomes]
REFUSING = [(kind, outcome) for kind, outcome in CASES if needs_appeal(kind, outcome)]
GRANTING = [(kind, outcome) for kind, outcome in CASES if not needs_appeal(kind, outcome)]
# The attestation is shown at the counter, not posted: it has no address window nor salutation.
POSTED = [case for case in CASES if case[0] is not LetterKind.attestation_tiers_payant]


def _id(case: tuple[LetterKind, Outcome | None]) -> str:
    kind, outcome = case
    return f"{kind.value}-{outcome.value if outcome else 'none'}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_letter_names_the_member_the_reference_and_its_pages(
    case: tuple[LetterKind, Outcome | None], context_for: ContextFor
) -> None:
    kind, outcome = case
    pdf = render_letter(kind, context_for(kind, outcome))

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Françoise Lefèvre" in text
    assert REFERENCE in text
    assert letter_title(kind, outcome) in text
    assert "Génération" in text
    assert "26 novembre 2026" in text
    pages = pdf_pages(pdf)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number}/{len(pages)}" in page


@pytest.mark.parametrize("case", POSTED, ids=[_id(c) for c in POSTED])
def test_letters_are_posted_to_the_members_address(
    case: tuple[LetterKind, Outcome | None], context_for: ContextFor
) -> None:
    kind, outcome = case
    text = pdf_text(render_letter(kind, context_for(kind, outcome)))
    assert "8 allée des Œillets Bâtiment C 42000 SAINT ETIENNE" in text
    assert "Madame, Monsieur," in text
    assert "salutations distinguées" in text
    assert KIND_SPECS[kind].signed_by in text


@pytest.mark.parametrize("case", REFUSING, ids=[_id(c) for c in REFUSING])
def test_a_refusal_names_the_ways_to_appeal(
    case: tuple[LetterKind, Outcome | None], context_for: ContextFor
) -> None:
    kind, outcome = case
    text = pdf_text(render_letter(kind, context_for(kind, outcome)))
    assert "Vos voies de recours" in text
    assert "Service Réclamations, TSA 60002, 92099 La Défense Cedex" in text
    assert "médiateur de la consommation" in text
    assert "Médiation de la Mutualité Française" in text


@pytest.mark.parametrize("outcome", [Outcome.refused, Outcome.partially_accepted])
def test_a_complaint_answer_that_refuses_gives_the_mediators_details(
    outcome: Outcome, context_for: ContextFor
) -> None:
    text = pdf_text(
        render_letter(
            LetterKind.reponse_reclamation, context_for(LetterKind.reponse_reclamation, outcome)
        )
    )
    assert "Médiation de la Mutualité Française" in text
    assert "255 rue de Vaugirard, 75719 Paris Cedex 15" in text
    assert "https://www.mediateur-mutualite.fr" in text
    assert "dans un délai d'un an" in text


@pytest.mark.parametrize("case", GRANTING, ids=[_id(c) for c in GRANTING])
def test_a_letter_that_grants_in_full_has_no_appeal(
    case: tuple[LetterKind, Outcome | None], context_for: ContextFor
) -> None:
    kind, outcome = case
    text = pdf_text(render_letter(kind, context_for(kind, outcome)))
    assert "Vos voies de recours" not in text
    assert "255 rue de Vaugirard" not in text


def test_accents_ligatures_quotes_and_euro_survive_the_round_trip(
    context_for: ContextFor,
) -> None:
    message = "Ça nous tient à cœur : « Noël » approche, l'œuvre coûte 12 € et ÉÈÀÇŒ s'écrivent."
    pdf = render_letter(
        LetterKind.reponse_reclamation,
        context_for(LetterKind.reponse_reclamation, Outcome.accepted, message=message),
    )
    assert message in pdf_text(pdf)


def test_the_font_is_embedded_not_borrowed_from_the_reader(context_for: ContextFor) -> None:
    pdf = render_letter(LetterKind.remboursement, context_for(LetterKind.remboursement))
    fonts = PdfReader(BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    for font in fonts.values():
        font = font.get_object()
        assert "SourceSansPro" in font["/BaseFont"]
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor


def test_amounts_and_dates_read_in_french(context_for: ContextFor) -> None:
    text = pdf_text(render_letter(LetterKind.remboursement, context_for(LetterKind.remboursement)))
    assert "Date des soins 2 novembre 2026" in text
    assert "Montant présenté 42,50 €" in text
    assert "Montant remboursé 32,40 €" in text
    assert "FR** **** **** **** **** ***0 189" in text


def test_a_quote_answer_shows_what_is_left_to_pay(context_for: ContextFor) -> None:
    text = pdf_text(render_letter(LetterKind.reponse_devis, context_for(LetterKind.reponse_devis)))
    assert "Montant du devis 520,00 €" in text
    assert "Prise en charge Génération 380,00 €" in text
    # The quote less Génération's share only: not « reste à charge », which the Assurance
    # Maladie's share would lower (the letter said it was counted; it was not).
    assert "Reste après la part de Génération 140,00 €" in text
    assert "porte sur la part de Génération" in " ".join(text.split())


def test_the_complaint_acknowledgement_carries_a_dated_copy_of_what_was_filed(
    context_for: ContextFor,
) -> None:
    kind = LetterKind.accuse_reception_reclamation
    text = pdf_text(render_letter(kind, context_for(kind)))
    assert "réclamation du 20 novembre 2026" in text
    assert "au plus tard le 20 janvier 2027" in text
    assert "Copie de votre réclamation" in text
    assert "Déposée le 20 novembre 2026" in text
    assert "Sujet Mes remboursements" in text
    assert "Détail Remboursement non reçu" in text
    assert "Mon remboursement de lunettes n'est jamais arrivé." in text


def test_a_long_letter_runs_onto_a_second_page(context_for: ContextFor) -> None:
    sentence = "Mes séances de kinésithérapie sont remboursées en retard depuis mars. "
    description = "\n\n".join(sentence * 4 for _ in range(8))
    kind = LetterKind.accuse_reception_reclamation
    pdf = render_letter(kind, context_for(kind, filed={"description": description, "data": {}}))
    pages = pdf_pages(pdf)
    assert len(pages) == 2
    assert "Page 1/2" in pages[0]
    assert "Page 2/2" in pages[1]
    # The following page has the running header, and the signature ends the letter there.
    assert f"Référence {REFERENCE}" in pages[1]
    assert "Le Service Réclamations" in pages[1]
    assert pdf_text(pdf).count(sentence.strip()) == 32


def test_what_the_font_cannot_draw_is_marked_not_dropped(context_for: ContextFor) -> None:
    kind = LetterKind.accuse_reception_reclamation
    pdf = render_letter(
        kind, context_for(kind, filed={"description": "Merci 😀 pour\tvotre aide", "data": {}})
    )
    assert "Merci ? pour votre aide" in pdf_text(pdf)


def test_the_same_letter_renders_to_the_same_bytes_dated_from_its_issue(
    context_for: ContextFor,
) -> None:
    context = context_for(LetterKind.refus_remboursement)
    pdf = render_letter(LetterKind.refus_remboursement, context)
    assert render_letter(LetterKind.refus_remboursement, context) == pdf
    created = PdfReader(BytesIO(pdf)).metadata.creation_date  # type: ignore[union-attr]
    assert created.astimezone(UTC) == datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    assert created.date() == ISSUED_ON


def test_the_same_letter_renders_to_the_same_bytes_in_other_processes(
    context_for: ContextFor,
) -> None:
    """Two deliveries of an owed letter render it in two functions: nothing of the process
    (its hash seed, which orders sets; fpdf2's uuid placeholders) reaches the bytes, the
    trailer's /ID included (a digest of the content). What a letter is rendered from can
    still differ between two renders (the member's address): `DocumentRepository.store`
    writes its PDF once."""
    kind = LetterKind.remboursement
    context = context_for(kind, Outcome.accepted)
    here = hashlib.sha256(render_letter(kind, context)).hexdigest()
    code = (
        "import hashlib, sys\n"
        "from chalicelib.letters import LetterContext, LetterKind, render_letter\n"
        "context = LetterContext.model_validate_json(sys.stdin.read())\n"
        f"pdf = render_letter(LetterKind({kind.value!r}), context)\n"
        "print(hashlib.sha256(pdf).hexdigest())"
    )
    for seed in ("1", "2"):
        elsewhere = subprocess.run(
            [sys.executable, "-c", code],
            input=context.model_dump_json(),
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert elsewhere.stdout.strip() == here


def test_a_letter_refuses_an_outcome_its_kind_cannot_carry(context_for: ContextFor) -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        render_letter(
            LetterKind.refus_remboursement,
            context_for(LetterKind.refus_remboursement, Outcome.accepted),
        )


def test_an_answer_to_a_contact_request_recalls_what_was_asked(context_for: ContextFor) -> None:
    kind = LetterKind.reponse_demande
    text = pdf_text(render_letter(kind, context_for(kind, Outcome.accepted)))
    # Its subject says what it is about: « une demande « Demande » » read as a stutter.
    assert "une demande sur le sujet « Mes cotisations », enregistrée sous la référence" in text
    assert "Demande Demande" not in " ".join(text.split())
    assert "Sujet Mes cotisations" in text
    assert "Détail Attestation fiscale (loi Madelin)" in text
    assert "Votre attestation fiscale est disponible dans votre espace adhérent." in text


def _drawn_runs(pdf: bytes) -> list[tuple[str, float, float]]:
    """Each text run of page 1 with where it starts (mm from the left) and its font size."""
    runs: list[tuple[str, float, float]] = []
    mm = 72 / 25.4

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            runs.append((text.strip(), tm[4] / mm, size * tm[0]))

    PdfReader(BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return runs


def test_a_long_postal_address_wraps_inside_the_page(context_for: ContextFor) -> None:
    """A line the profile accepts (120 characters) and a real commune's name, drawn in the
    envelope window in one piece, ran off the page: the end of the address was lost."""
    from chalicelib.domain.members import PostalAddress
    from chalicelib.letters.render import RIGHT, Document

    address = PostalAddress(
        line1="Résidence Les Jardins de la Roseraie, Bâtiment C, Escalier 4, Appartement 127",
        postal_code="51290",
        city="Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson",
    )
    context = context_for(LetterKind.refus_remboursement, Outcome.refused)
    member = context.member.model_copy(update={"postal_address": address})
    pdf = render_letter(
        LetterKind.refus_remboursement, context.model_copy(update={"member": member})
    )
    measure = Document(title="t", subject="s", reference=None, issued_on=ISSUED_ON)
    measure.add_page()
    for text, x, size in _drawn_runs(pdf):
        measure.use(size)
        assert x + measure.get_string_width(text) <= 210 - RIGHT + 0.5, (text, x)
    text = " ".join(pdf_text(pdf).split())
    for part in ("Appartement 127", "SAINT REMY EN BOUZEMONT SAINT GENEST ET ISSON"):
        assert part in text, part


def test_a_partly_accepted_change_does_not_say_it_was_recorded(context_for: ContextFor) -> None:
    """Only an acceptance applies what was filed: a partial one listed it all the same under
    « Informations enregistrées » (a newborn not added, an IBAN not applied)."""
    kind = LetterKind.confirmation_modification
    partial = pdf_text(render_letter(kind, context_for(kind, Outcome.partially_accepted)))
    assert "Informations enregistrées" not in partial
    assert "Votre demande" in partial
    accepted = pdf_text(render_letter(kind, context_for(kind, Outcome.accepted)))
    assert "Informations enregistrées" in accepted


def test_a_request_for_documents_points_to_the_tab_by_generations_name(
    context_for: ContextFor,
) -> None:
    # Génération's description of the Démarches area names the tab « Le suivi des demandes »
    # (menu Démarches); the letter sent the member to « Suivi de mes demandes ».
    kind = LetterKind.demande_pieces
    text = pdf_text(render_letter(kind, context_for(kind)))
    assert "rubrique Démarches › Le suivi des demandes :" in text


@pytest.mark.parametrize(
    ("country", "postal_code", "city", "last_line"),
    [("RE", "97400", "Saint-Denis", "97400 SAINT DENIS La Défense"),
     ("FR", "97400", "Saint-Denis", "97400 SAINT DENIS La Défense"),
     ("FR", "78620", "L'Étang-la-Ville", "78620 L ETANG LA VILLE La Défense"),
     ("FR", "62500", "Saint-Omer  ", "62500 SAINT OMER La Défense"),
     ("MC", "98000", "Monaco", "98000 MONACO La Défense"),
     ("IT", "00184", "Roma", "00184 ROMA ITALIE La Défense"),
     ("DE", "80331", "München", "80331 MÜNCHEN ALLEMAGNE La Défense")],
)  # fmt: skip
def test_an_address_ends_with_its_town_as_the_post_sorts_it_then_its_country_abroad(
    context_for: ContextFor, country: str, postal_code: str, city: str, last_line: str
) -> None:
    """A profile's `RE` (as the insurer's data may hold La Réunion) printed a last line « RE »
    under the town: to the post, La Réunion is France. A French town line is read by La Poste's
    sorting machines (NF Z10-011): capitals and digits only, « L'Étang-la-Ville » was printed
    « L'ÉTANG-LA-VILLE »; a town abroad is written as its own post writes it (« MÜNCHEN »)."""
    from chalicelib.domain.members import PostalAddress

    address = PostalAddress(line1="3 rue de Paris", postal_code=postal_code, city=city,
                            country=country)  # fmt: skip
    context = context_for(LetterKind.refus_remboursement, Outcome.refused)
    member = context.member.model_copy(update={"postal_address": address})
    text = pdf_text(render_letter(LetterKind.refus_remboursement,
                                  context.model_copy(update={"member": member})))  # fmt: skip
    after = " ".join(text.split("3 rue de Paris", 1)[1].split())
    assert after.startswith(last_line)  # then the place and date of the letter


def test_every_letter_an_account_holder_s_name_may_hold_is_drawn_by_the_letters_font() -> None:
    """The holder's name is printed back on the letters: a letter the font lacks (`Ḑ`, `ſ`)
    was dropped by fpdf2 with a warning, « Ḑavid » printed « avid »."""
    import re

    from fontTools.ttLib import TTFont

    from chalicelib.domain.iban import _HOLDER_CHARACTERS
    from chalicelib.letters.render import font_files

    accepted = re.compile(f"[{_HOLDER_CHARACTERS}]")
    letters = [chr(c) for c in range(0x3000) if accepted.fullmatch(chr(c))]
    assert "ễ" in letters and "Ł" in letters and "ț" in letters
    for path in font_files().values():
        drawn = TTFont(str(path)).getBestCmap()
        assert [c for c in letters if ord(c) not in drawn] == [], path.name


def test_a_long_address_abroad_ends_above_the_date(context_for: ContextFor) -> None:
    """Two address lines of 118 characters and a country: « ALLEMAGNE », the line the post
    reads last, was drawn over « La Défense, le … » (the date sat at 78 mm whatever the
    address). The date, and the subject after it, now come below the address."""
    from chalicelib.domain.members import PostalAddress

    long = "Appartement 12, Résidence des Tilleuls, Escalier B, " * 2
    address = PostalAddress(line1=long[:118], line2=long[:118], postal_code="10115",
                            city="Berlin", country="DE")  # fmt: skip
    context = context_for(LetterKind.refus_remboursement, Outcome.refused)
    member = context.member.model_copy(update={"postal_address": address})
    pdf = render_letter(
        LetterKind.refus_remboursement, context.model_copy(update={"member": member})
    )
    heights: dict[str, float] = {}
    mm = 72 / 25.4

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        for marker in ("ALLEMAGNE", "La Défense, le", "Objet"):
            if marker in text:
                heights.setdefault(marker, 297 - tm[5] / mm)  # from the top of the page

    PdfReader(BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    assert heights["ALLEMAGNE"] + 4 < heights["La Défense, le"] < heights["Objet"]


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (LetterKind.confirmation_modification, Outcome.refused),
        (LetterKind.confirmation_modification, Outcome.accepted),
        (LetterKind.reponse_reclamation, Outcome.refused),
        (LetterKind.accuse_reception_reclamation, None),
    ],
)
def test_every_decision_names_the_beneficiaries_it_concerns(
    context_for: ContextFor, kind: LetterKind, outcome: Outcome | None
) -> None:
    """A refused extension of an adult child's rights named neither the child nor the date
    asked: a parent of two could not tell which one was refused. The changes' letters and the
    complaints' answers now name the beneficiaries, as every other decision does."""
    from chalicelib.letters import french as fr

    context = context_for(kind, outcome)
    names = " ".join(fr.beneficiary_names(context.beneficiaries).split())
    text = " ".join(pdf_text(render_letter(kind, context)).split())
    assert f"Bénéficiaires {names}" in text


def test_a_change_s_letter_gives_one_date_for_each_coverage_and_its_tense(
    context_for: ContextFor,
) -> None:
    """A birth confirmed « à compter du 26 novembre » (the decision's day) above « Zoé est
    couverte … à compter du 21 novembre »: two dates for one change; and a divorce's coverage
    « prend fin le 21 octobre » in a letter of 26 November."""
    from datetime import date

    from chalicelib.domain.effects import CoverageChange

    changes = (
        CoverageChange(name="Zoé Lefèvre", starts_on=date(2026, 11, 21)),
        CoverageChange(name="Jérôme Lefèvre", ends_on=date(2026, 10, 21)),
        CoverageChange(name="Léa Lefèvre", ends_on=date(2027, 1, 31)),
    )
    context = context_for(LetterKind.confirmation_modification, Outcome.accepted,
                          effective_on=ISSUED_ON, coverage_changes=changes)  # fmt: skip
    text = " ".join(pdf_text(render_letter(LetterKind.confirmation_modification, context)).split())
    assert "à compter du 26 novembre 2026" not in text
    assert "Zoé Lefèvre est couvert(e) par votre contrat à compter du 21 novembre 2026" in text
    assert "La couverture de Jérôme Lefèvre par votre contrat a pris fin le 21 octobre 2026" in text
    assert "La couverture de Léa Lefèvre par votre contrat prend fin le 31 janvier 2027" in text


def test_french_typography_s_spaces_never_break() -> None:
    """« sous 48 / heures » broke across two lines in every reimbursement letter to a member
    with a bank account, and a quote's line could hold « : » alone: ordinary spaces before
    « : » and inside « 48 heures » let the line break there."""
    from chalicelib.letters import french as fr

    assert fr.typographic("contrat : sous 48 heures ; n° FR76 « oui » !") == (
        "contrat\u00a0: sous 48\u00a0heures\u202f; n°\u00a0FR76 «\u202foui\u202f»\u202f!"
    )
    assert fr.typographic("https://www.example.fr:443/a?b") == "https://www.example.fr:443/a?b"
    from chalicelib.letters.render import Document

    # The same sentence after 1 to 59 characters: one of them puts the line's end at « 48 »
    # or before « : » (the 42nd did, with ordinary spaces).
    for n in range(1, 60):
        pdf = Document(title="t", subject="s", reference=None, issued_on=ISSUED_ON)
        pdf.add_page()
        pdf.paragraph(f"Le montant {'x' * n} vous sera versé sous 48 heures, selon votre "
                      "contrat : merci.")  # fmt: skip
        lines = [text for text, _, _ in _drawn_runs(pdf.pdf_bytes())]
        assert not [line for line in lines if line.rstrip().endswith("48")], n
        assert not [line for line in lines if line.lstrip().startswith(":")], n
