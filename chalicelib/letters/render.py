"""Lays letters out as PDF with fpdf2. Heavy: imported only when a letter is rendered.

Every page has the running header (after the first), the footer with Génération's address
and « Page n/N »; the first page has the letterhead, the member's postal address where a
window envelope shows it (NF Z10-011), the references, the date and the subject.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from datetime import date, datetime, time
from functools import cache
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import (
    Align,
    MethodReturnValue,
    TableBordersLayout,
    TableCellFillMode,
    XPos,
    YPos,
)
from fpdf.fonts import TTFFont
from fpdf.util import Padding

from chalicelib.domain.clock import PARIS
from chalicelib.domain.contact import CONTACT
from chalicelib.domain.demarches import OVERSEAS_DEPARTMENTS
from chalicelib.domain.members import COUNTRY_NAMES, Member
from chalicelib.letters import french as fr
from chalicelib.letters.model import LetterContext, LetterKind
from chalicelib.letters.templates import (
    Block,
    Bullets,
    Fields,
    Heading,
    LetterBody,
    Notice,
    Paragraph,
    Quote,
    compose,
    postal_lines,
)

FONT = "SourceSans"

# Page geometry, in millimetres (A4).
LEFT = 20.0
RIGHT = 20.0
TOP = 24.0  # where the text starts on pages after the first, below the running header
BOTTOM = 20.0  # room kept for the footer
WIDTH = 210.0 - LEFT - RIGHT
WINDOW_X = 112.0  # the address window of a DL envelope, right-hand side
LINE = 5.0
GAP = 2.6
SIGNATURE_HEIGHT = 1.5 + 2 * LINE

BRAND = (0, 84, 122)
INK = (33, 37, 41)
MUTED = (98, 106, 115)
RULE = (200, 206, 212)
SHADE = (241, 245, 248)


def sorting_line(text: str) -> str:
    """A last line of an address as La Poste's sorting machines read it (NF Z10-011): capitals,
    digits and single spaces, no accent, hyphen or apostrophe (« 97400 SAINT DENIS »,
    « 78620 L ETANG LA VILLE »); a letter with no unaccented form is kept as it is."""
    capitals = text.upper().replace("Œ", "OE").replace("Æ", "AE")
    bare = unicodedata.normalize("NFKD", capitals)
    kept = (c if c.isalnum() else " " for c in bare if not unicodedata.combining(c))
    return " ".join("".join(kept).split())


@cache
def font_files() -> dict[str, Path]:
    """Source Sans Pro, from the font-source-sans-pro package: no system font is assumed.

    Found through its spec rather than imported, as its `__init__` globs its folder.
    """
    spec = importlib.util.find_spec("font_source_sans_pro")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("font-source-sans-pro is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "files"
    # No italic: fpdf2 parses and subsets every font added, used or not (a third of a render).
    styles = {"": "Regular", "B": "Bold"}
    return {style: folder / f"SourceSansPro-{name}.ttf" for style, name in styles.items()}


class Document(FPDF):
    """An A4 page of Génération: fonts, metadata, running header and footer."""

    def __init__(self, *, title: str, subject: str, reference: str | None, issued_on: date):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.running_title = title
        self.reference = reference
        for style, path in font_files().items():
            self.add_font(FONT, style, path)
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(True, margin=BOTTOM)
        # Dated from the letter, not the clock: the same letter renders to the same bytes.
        self.set_creation_date(datetime.combine(issued_on, time(0, 0), tzinfo=PARIS))
        self.set_title(title)
        self.set_subject(subject)
        self.set_author("Génération")
        self.set_creator("Génération Démarches")
        self.set_lang("fr-FR")
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)

    def printable(self, text: str) -> str:
        """The text as the font can draw it. fpdf2 would drop a glyph the font lacks (an
        emoji, a CJK character) and log a warning: a "?" shows the member something was there.
        Control and zero-width characters go; a tab becomes spaces."""
        font = self.fonts.get(FONT.lower())
        cmap = font.cmap if isinstance(font, TTFFont) else {}
        out = []
        for char in text.replace("\t", "    ").replace("\r\n", "\n"):
            if char == "\n" or ord(char) in cmap:
                out.append(char)
            elif not unicodedata.category(char).startswith("C"):
                out.append("?")
        return "".join(out)

    def running_text(self, text: str) -> str:
        """A paragraph's or a list item's text as drawn, and as measured: French typography's
        no-break spaces (`fr.typographic`), then what the font can draw."""
        return self.printable(fr.typographic(text))

    def use(self, size: float, style: str = "", colour: tuple[int, int, int] = INK) -> None:
        self.set_font(FONT, style, size)
        self.set_text_color(*colour)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(10)
        self.use(8.5, colour=MUTED)
        self.cell(WIDTH / 2, 5, f"Génération — {self.running_title}")
        if self.reference:
            self.cell(WIDTH / 2, 5, f"Référence {self.reference}", align=Align.R)
        self.line(LEFT, 16, LEFT + WIDTH, 16)
        self.set_xy(LEFT, TOP)

    def footer(self) -> None:
        self.set_y(-16)
        self.line(LEFT, self.get_y(), LEFT + WIDTH, self.get_y())
        self.ln(1.5)
        phone = CONTACT["phones"][0]
        address = " · ".join(postal_lines("Demandes et documents"))
        self.use(7.5, colour=MUTED)
        self.cell(WIDTH - 25, 4, f"{address} · {phone['number']} ({phone['note'].lower()})")
        self.cell(25, 4, f"Page {self.page_no()}/{{nb}}", align=Align.R)

    def letterhead(self) -> None:
        """Génération's name and the address members write to, top left of the first page."""
        self.set_fill_color(*BRAND)
        self.rect(LEFT, 14, 2.2, 21, style="F")
        self.set_xy(LEFT + 5, 12.5)
        self.use(24, "B", BRAND)
        self.cell(0, 11, "Génération", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.use(8.5, colour=MUTED)
        lines = postal_lines("Demandes et documents")[1:]
        phone = CONTACT["phones"][0]
        for text in (" · ".join(lines[:-1]), lines[-1], f"{phone['number']} · {phone['note']}"):
            self.set_x(LEFT + 5)
            self.cell(0, 4, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def recipient(self, member: Member, top: float = 46) -> None:
        """The member's name and postal address, placed for the envelope window."""
        address = member.postal_address
        lines = [address.line1, *([address.line2] if address.line2 else [])]
        # The overseas départements are France to the post (`97400 SAINT DENIS` ends it), and so
        # is Monaco (its post is La Poste's, French rules and rates: the convention of 18 May
        # 1963): `98000 MONACO` ends it. Abroad, the town as its post writes it, then the country.
        french_post = address.country in ("FR", "MC") or address.country in OVERSEAS_DEPARTMENTS
        town = f"{address.postal_code} {address.city}"
        lines.append(sorting_line(town) if french_post else town.upper())
        if not french_post:
            lines.append(sorting_line(COUNTRY_NAMES.get(address.country, address.country)))
        self.set_xy(WINDOW_X, top)
        self.window_line(fr.full_name(member.first_name, member.last_name), "B")
        for line in lines:
            self.window_line(line)

    def window_line(self, text: str, style: str = "") -> None:
        """One line of the address, within the window up to the right margin: in smaller type
        when it does not fit (a commune's name stays whole, on its postal code's line), and
        wrapped only past that (an address line may hold 120 characters)."""
        width = LEFT + WIDTH - WINDOW_X
        printable = self.printable(text)
        size = 10.5
        self.use(size, style)
        while self.get_string_width(printable) > width and size > 8:
            size -= 0.5
            self.use(size, style)
        self.set_x(WINDOW_X)
        self.multi_cell(width, 5.2, printable, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def place_and_date(self, issued_on: date, top: float) -> None:
        city = next(a for a in CONTACT["addresses"] if a["label"] == "Demandes et documents")
        place = str(city["city"]).removesuffix(" Cedex")
        self.set_xy(WINDOW_X, top)
        self.use(10)
        self.cell(0, 5, f"{place}, le {fr.long_date(issued_on)}")

    def references(self, rows: list[tuple[str, str]], top: float) -> None:
        self.set_xy(LEFT, top)
        self.use(8, "B", MUTED)
        self.cell(0, 4.5, "VOS RÉFÉRENCES", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for label, value in rows:
            self.use(8.5, colour=MUTED)
            self.cell(29, 4.4, label)
            self.use(8.5)
            self.multi_cell(WINDOW_X - LEFT - 33, 4.4, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str, size: float = 10.5, *, whole: bool = False) -> None:
        """A paragraph; `whole` moves a short one to the next page rather than split it."""
        if whole and self.will_page_break(self.paragraph_height(text, size)):
            self.add_page()
        text = self.running_text(text)
        self.use(size)
        # Ragged right: justified lines gape around long references and URLs.
        self.multi_cell(0, LINE, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(GAP)

    def paragraph_height(self, text: str, size: float = 10.5) -> float:
        """As `paragraph` draws it: a no-break space may take a word to the next line."""
        self.use(size)
        height = self.multi_cell(
            0, LINE, self.running_text(text), dry_run=True, output=MethodReturnValue.HEIGHT
        )
        if not isinstance(height, int | float):
            raise TypeError(f"fpdf2 measured a paragraph as {height!r}")
        return height + GAP

    def heading(self, text: str) -> None:
        # Keep a heading with a few lines of what it announces.
        if self.will_page_break(7 + 4 * LINE):
            self.add_page()
        self.ln(1.5)
        self.use(11.5, "B", BRAND)
        self.cell(0, 6.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*BRAND)
        self.line(LEFT, self.get_y(), LEFT + 18, self.get_y())
        self.set_draw_color(*RULE)
        self.ln(2.2)

    def fields(self, rows: tuple[tuple[str, str], ...], label_width: float = 55) -> None:
        if not rows:
            return
        self.use(10)
        # fpdf2 fills the rows left unshaded with the current fill colour: make it the paper's.
        self.set_fill_color(255, 255, 255)
        with self.table(
            width=WIDTH,
            align=Align.L,
            col_widths=(label_width, WIDTH - label_width),
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.NONE,
            cell_fill_color=SHADE,
            cell_fill_mode=TableCellFillMode.ROWS,
            text_align=(Align.L, Align.L),
            line_height=LINE,
            padding=(1.1, 2.5),
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=FontFace(color=MUTED))
                row.cell(self.printable(value))
        self.ln(GAP + 1)

    def bullets(self, items: tuple[str, ...]) -> None:
        self.use(10.5)
        for item in items:
            self.set_x(LEFT + 3)
            self.cell(4, LINE, "•")
            self.multi_cell(
                WIDTH - 7, LINE, self.running_text(item), align=Align.L,
                new_x=XPos.LMARGIN, new_y=YPos.NEXT,
            )  # fmt: skip
        self.ln(GAP)

    def quote(self, label: str, text: str) -> None:
        if self.will_page_break(6 + 2 * LINE):
            self.add_page()
        self.use(8.5, "B", MUTED)
        self.cell(0, 5, label.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.use(10)
        self.set_fill_color(*SHADE)
        self.multi_cell(
            0,
            LINE,
            self.printable(text),
            align=Align.L,
            fill=True,
            padding=Padding(top=1.5, right=3, bottom=1.5, left=3),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(GAP + 1)

    def notice(self, title: str, lines: tuple[str, ...]) -> None:
        height = 7 + LINE * len(lines) + 3
        if self.will_page_break(height + 2):
            self.add_page()
        top = self.get_y() + 1
        self.set_draw_color(*BRAND)
        self.set_line_width(0.35)
        self.rect(LEFT, top, WIDTH, height)
        self.set_line_width(0.2)
        self.set_draw_color(*RULE)
        self.set_xy(LEFT + 4, top + 2)
        self.use(10, "B", BRAND)
        self.cell(0, 5.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for number, line in enumerate(lines):
            self.set_x(LEFT + 4)
            self.use(10.5, "B" if number == 0 else "")
            self.cell(0, LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(top + height + GAP + 1)

    def block(self, block: Block) -> None:
        match block:
            case Paragraph(text):
                self.paragraph(text)
            case Heading(text):
                self.heading(text)
            case Fields(rows):
                self.fields(rows)
            case Bullets(items):
                self.bullets(items)
            case Quote(label, text):
                self.quote(label, text)
            case Notice(title, lines):
                self.notice(title, lines)

    def signature(self, signed_by: str, closing: str) -> None:
        """The closing formula and the signing service, kept together on one page."""
        if self.will_page_break(self.paragraph_height(closing) + SIGNATURE_HEIGHT):
            self.add_page()
        self.paragraph(closing)
        self.ln(SIGNATURE_HEIGHT - 2 * LINE)
        for text, style in ((signed_by, "B"), ("Génération", "")):
            self.set_x(WINDOW_X)
            self.use(10.5, style)
            self.cell(0, LINE, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pdf_bytes(self) -> bytes:
        return bytes(self.output())


def member_references(member: Member, request_id: str | None, label: str) -> list[tuple[str, str]]:
    rows = [
        ("Adhérent", fr.full_name(member.first_name, member.last_name)),
        ("N° d'adhérent", member.member_id),
        ("Contrat", member.contract.contract_number),
    ]
    if request_id:
        rows.append(("Référence", request_id))
    if label.casefold() != "demande":  # a message to Génération: « Demande  Demande » says nothing
        rows.append(("Demande", label))
    return rows


def render_body(body: LetterBody, context: LetterContext) -> bytes:
    pdf = Document(
        title=body.title,
        subject=context.request_label,
        reference=context.request_id,
        issued_on=context.issued_on,
    )
    pdf.add_page()
    pdf.letterhead()
    pdf.references(member_references(context.member, context.request_id, context.request_label), 46)
    references_end = pdf.get_y()
    pdf.recipient(context.member)
    # Below the address, however many lines it took (a long one, abroad, was drawn over it).
    dated_at = max(78, pdf.get_y() + 6)
    pdf.place_and_date(context.issued_on, dated_at)
    pdf.set_xy(LEFT, max(references_end + 6, dated_at + 14))
    pdf.use(11, "B")
    pdf.cell(13, 6, "Objet :")
    pdf.multi_cell(0, 6, body.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    for block in body.blocks:
        pdf.block(block)
    pdf.signature(body.signed_by, body.closing)
    return pdf.pdf_bytes()


def render_letter(kind: LetterKind, context: LetterContext) -> bytes:
    """A letter from its template; the attestation has a layout of its own (`attestation.py`,
    which builds on this module: this one never imports it)."""
    if kind is LetterKind.attestation_tiers_payant:
        raise ValueError("the tiers-payant attestation is rendered by letters.attestation")
    return render_body(compose(kind, context), context)
