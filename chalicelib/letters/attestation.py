"""The tiers-payant attestation: the contract, its beneficiaries, the inter-AMC block with its
Data Matrix, and what is covered per care domain. Heavy: imported only when rendered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fpdf import FontFace
from fpdf.enums import Align, TableBordersLayout, TableCellFillMode, XPos, YPos

from chalicelib.domain.members import Beneficiary, Member
from chalicelib.letters import datamatrix
from chalicelib.letters import french as fr
from chalicelib.letters.model import (
    BeneficiaryRights,
    CoverageLine,
    InterAmcBlock,
    LetterKind,
    TiersPayantTerms,
    covered_beneficiaries,
    inter_amc_block,
    letter_title,
)
from chalicelib.letters.render import (
    BRAND,
    GAP,
    LEFT,
    LINE,
    MUTED,
    SHADE,
    WIDTH,
    WINDOW_X,
    Document,
)

PADDING = (1.0, 2.5)
TABLE_LINE = 4.6

MATRIX_SIZE = 30.0  # mm: comfortably above the 0.25 mm module a counter scanner reads

INTER_AMC_LABELS = (
    "N° AMC",
    "Type de convention",
    "Critère de routage",
    "N° d'adhérent",
    "Période de validité",
)


def inter_amc_rows(block: InterAmcBlock) -> list[tuple[str, str]]:
    """Every label, even with an empty value: professionals look for them at fixed places."""
    validity = f"du {fr.short_date(block.valid_from)} au {fr.short_date(block.valid_until)}"
    values = (
        block.amc_number,
        block.convention_type,
        block.routing_criterion,
        block.member_number,
        validity,
    )
    return list(zip(INTER_AMC_LABELS, values, strict=True))


def _inter_amc(pdf: Document, block: InterAmcBlock) -> None:
    rows = inter_amc_rows(block)
    height = max(8 + LINE * len(rows) + 3, MATRIX_SIZE + 6)
    if pdf.will_page_break(height + 2):
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(0.35)
    pdf.rect(LEFT, top, WIDTH, height)
    pdf.set_line_width(0.2)
    pdf.set_xy(LEFT + 4, top + 3)
    pdf.use(9, "B", BRAND)
    pdf.cell(0, 5, "BLOC INTER-AMC", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for label, value in rows:
        pdf.set_x(LEFT + 4)
        pdf.use(10, colour=MUTED)
        pdf.cell(45, LINE, label)
        pdf.use(10.5, "B")
        pdf.cell(WIDTH - 45 - MATRIX_SIZE - 16, LINE, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.image(
        datamatrix.image(block.payload()),
        x=LEFT + WIDTH - MATRIX_SIZE - 4,
        y=top + (height - MATRIX_SIZE) / 2,
        w=MATRIX_SIZE,
        h=MATRIX_SIZE,
        alt_text="Data Matrix du bloc inter-AMC",
    )
    pdf.set_y(top + height + GAP + 2)


def _beneficiaries(pdf: Document, rights: Sequence[BeneficiaryRights]) -> None:
    pdf.use(10)
    pdf.set_fill_color(255, 255, 255)
    with pdf.table(
        width=WIDTH,
        align=Align.L,
        col_widths=(58, 27, 33, 26, 26),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        cell_fill_color=SHADE,
        cell_fill_mode=TableCellFillMode.EVEN_ROWS,
        headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=BRAND),
        text_align=(Align.L, Align.L, Align.L, Align.L, Align.L),
        line_height=TABLE_LINE,
        padding=PADDING,
    ) as table:
        table.row(("Bénéficiaire", "Qualité", "Date de naissance", "Droits du", "au"))
        for right in rights:
            beneficiary = right.beneficiary
            table.row(
                (
                    pdf.printable(fr.full_name(beneficiary.first_name, beneficiary.last_name)),
                    fr.RELATIONSHIP_LABELS[beneficiary.relationship],
                    fr.short_date(beneficiary.birth_date),
                    fr.short_date(right.valid_from),
                    fr.short_date(right.valid_until),
                )
            )
    pdf.ln(GAP + 1)


def _coverage(pdf: Document, lines: Sequence[CoverageLine]) -> None:
    """Two lines of the coverage list per table row, as on a tiers-payant card."""
    half = (len(lines) + 1) // 2
    pairs = [(lines[i], lines[half + i] if half + i < len(lines) else None) for i in range(half)]
    pdf.use(10)
    pdf.set_fill_color(255, 255, 255)
    with pdf.table(
        width=WIDTH,
        align=Align.L,
        col_widths=(14, 42, 29, 14, 42, 29),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        cell_fill_color=SHADE,
        cell_fill_mode=TableCellFillMode.EVEN_ROWS,
        headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=BRAND),
        text_align=(Align.L,) * 6,
        line_height=TABLE_LINE,
        padding=(1.0, 2.0),
    ) as table:
        table.row(("Code", "Domaine de soins", "Prise en charge") * 2)
        for left, right in pairs:
            cells = [left.code, left.label, left.coverage]
            cells += [right.code, right.label, right.coverage] if right else ["", "", ""]
            row = table.row()
            for number, text in enumerate(cells):
                row.cell(text, style=FontFace(emphasis="BOLD") if number % 3 == 0 else None)
    pdf.ln(GAP)


def _member_and_contract(pdf: Document, member: Member, request_id: str | None) -> None:
    """Two label/value pairs a row: who is covered, by which contract."""
    contract = member.contract
    address = member.postal_address
    where = ", ".join(
        part
        for part in (address.line1, address.line2, f"{address.postal_code} {address.city}")
        if part
    )
    pairs = [
        ("Adhérent", fr.full_name(member.first_name, member.last_name)),
        ("N° d'adhérent", member.member_id),
        ("Adresse", where),
        ("Contrat", contract.contract_number),
        ("Organisme", "Génération"),
        ("Formule", contract.formula),
        ("Référence", request_id or ""),
        ("Date d'effet", fr.short_date(contract.start_date)),
    ]
    pdf.use(10)
    pdf.set_fill_color(255, 255, 255)
    with pdf.table(
        width=WIDTH,
        align=Align.L,
        col_widths=(24, 61, 27, 58),
        first_row_as_headings=False,
        borders_layout=TableBordersLayout.NONE,
        cell_fill_color=SHADE,
        cell_fill_mode=TableCellFillMode.ROWS,
        text_align=(Align.L,) * 4,
        line_height=TABLE_LINE,
        padding=PADDING,
    ) as table:
        for i in range(0, len(pairs), 2):
            row = table.row()
            for label, value in pairs[i : i + 2]:
                row.cell(label, style=FontFace(color=MUTED))
                row.cell(pdf.printable(value))  # what a member typed: as the font can draw it
    pdf.ln(GAP + 1)


def render_tiers_payant_attestation(
    member: Member,
    beneficiaries: Sequence[Beneficiary],
    issued_on: date,
    *,
    request_id: str | None = None,
    terms: TiersPayantTerms | None = None,
) -> bytes:
    terms = terms or TiersPayantTerms()
    title = letter_title(LetterKind.attestation_tiers_payant)
    block = inter_amc_block(member, issued_on, terms)
    rights = covered_beneficiaries(member, tuple(beneficiaries), issued_on)

    pdf = Document(
        title=title,
        subject="Édition de l’attestation de Tiers-Payant Santé",
        reference=request_id,
        issued_on=issued_on,
    )
    pdf.add_page()
    pdf.letterhead()
    # Shown at the counter rather than posted: the title takes the address window's place.
    pdf.set_xy(WINDOW_X, 14)
    pdf.use(17, "B", BRAND)
    pdf.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for text in (
        f"Valable du {fr.short_date(block.valid_from)} au {fr.short_date(block.valid_until)}",
        f"Délivrée le {fr.long_date(issued_on)}",
    ):
        pdf.set_x(WINDOW_X)
        pdf.use(10, colour=MUTED)
        pdf.cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(LEFT, 40)

    pdf.heading("Adhérent et contrat")
    _member_and_contract(pdf, member, request_id)

    pdf.heading("Informations pour le professionnel de santé")
    _inter_amc(pdf, block)

    pdf.heading("Bénéficiaires")
    _beneficiaries(pdf, rights)

    pdf.heading("Prestations en tiers-payant")
    _coverage(pdf, terms.coverage)
    pdf.paragraph(
        "PH7 : médicaments remboursables à tous les taux de l'Assurance Maladie. Les "
        "pourcentages portent sur la base de remboursement de l'Assurance Maladie. "
        f"{fr.quoted('Sur accord')} : après notre accord de prise en charge ; "
        f"{fr.quoted('Sur devis')} : selon le devis que nous avons accepté.\n"
        "Présentez cette attestation avec votre carte Vitale : le professionnel de santé "
        "facture directement à Génération la part des soins que nous prenons en charge. Elle ne "
        "vaut que pour les bénéficiaires et la période indiqués. En cas de changement de "
        "situation, prévenez-nous : nous vous en adresserons une nouvelle.",
        size=8.5,
        whole=True,
    )
    return pdf.pdf_bytes()
