"""The words of each letter, as a list of blocks; `render.py` lays them out on the page.

Pure Python: a template can be read and tested without a PDF. The member's and agents' own
words go in `Quote` blocks, printed exactly as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.domain.contact import CONTACT
from chalicelib.domain.effects import CoverageChange
from chalicelib.domain.members import mask_iban
from chalicelib.letters import french as fr
from chalicelib.letters.model import (
    KIND_SPECS,
    LetterContext,
    LetterKind,
    Outcome,
    letter_title,
    names_mediator,
    needs_appeal,
    resolve_outcome,
)


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Fields:
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """Someone's own words (the member's description, an agent's message), shown as written."""

    label: str
    text: str


@dataclass(frozen=True)
class Notice:
    """A framed box that must stay whole on one page (the mediator's contact details)."""

    title: str
    lines: tuple[str, ...]


Block = Paragraph | Heading | Fields | Bullets | Quote | Notice


@dataclass(frozen=True)
class LetterBody:
    kind: LetterKind
    outcome: Outcome | None
    title: str
    signed_by: str
    blocks: tuple[Block, ...]
    closing: str


def _address(label: str) -> dict[str, Any]:
    address: dict[str, Any] = next(a for a in CONTACT["addresses"] if a["label"] == label)
    return address


def postal_lines(label: str) -> list[str]:
    address = _address(label)
    return [*address["lines"], f"{address['postal_code']} {address['city']}"]


MEMBER_SERVICE_PHONE: dict[str, str] = CONTACT["phones"][0]
MEDIATOR: dict[str, str] = CONTACT["mediator"]
SALUTATION = "Madame, Monsieur,"


class _Facts:
    """What the templates read from a context, already in French."""

    def __init__(self, context: LetterContext) -> None:
        self.context = context
        data = context.filed.get("data")
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        description = context.filed.get("description")
        self.description = description.strip() if isinstance(description, str) else ""
        self.message = (context.message or "").strip()
        self.reference = context.request_id
        self.label = context.request_label

    def on_filed_day(self, prefix: str = "le") -> str:
        """« le 2 novembre 2026 », with a leading space, or nothing when the day is unknown."""
        filed_on = self.context.filed_on
        return f" {prefix} {fr.long_date(filed_on)}" if filed_on else ""

    def data_value(self, key: str) -> str:
        return fr.field_value(key, self.data.get(key), self.data)

    def filed_amount(self) -> Decimal | None:
        return fr.parse_amount(self.data.get("amount"))

    def beneficiary_row(self) -> list[tuple[str, str]]:
        names = fr.beneficiary_names(self.context.beneficiaries)
        if not names:
            return []
        label = "Bénéficiaires" if len(self.context.beneficiaries) > 1 else "Bénéficiaire"
        return [(label, names)]

    def beneficiary_fields(self) -> list[Block]:
        """The beneficiary row as a block of its own, or nothing when none is named."""
        row = self.beneficiary_row()
        return [Fields(tuple(row))] if row else []

    def rows(self, *keys: str) -> list[tuple[str, str]]:
        return [(fr.field_label(key), value) for key in keys if (value := self.data_value(key))]

    def bank_account(self) -> str:
        account = self.context.member.bank_account
        # Kept on one line: a masked IBAN broken across two reads as two numbers.
        return f" n° {mask_iban(account.iban).replace(' ', fr.NBSP)}" if account else ""


def _message(facts: _Facts, label: str) -> list[Block]:
    return [Quote(label, facts.message)] if facts.message else []


def _appeal(facts: _Facts, *, complaint: bool) -> list[Block]:
    """The ways to appeal a decision that refuses in whole or in part (ACPR 2022-R-01)."""
    complaints_address = ", ".join(postal_lines("Réclamations"))
    portal = "Démarches › Échanger avec Génération › Formuler une réclamation"
    phone = MEMBER_SERVICE_PHONE
    mediator_name = MEDIATOR["name"]
    if not complaint:
        return [
            Heading("Vos voies de recours"),
            Paragraph(
                "Si vous n'êtes pas d'accord avec cette décision, vous pouvez adresser une "
                "réclamation à notre Service Réclamations en rappelant la référence "
                f"{facts.reference} :"
            ),
            Bullets(
                (
                    f"depuis votre espace adhérent, rubrique {portal} ;",
                    f"par courrier : {complaints_address} ;",
                    f"par téléphone au {phone['number']} ({phone['note'].lower()}), "
                    f"{phone['hours'][0].lower()}{phone['hours'][1:]}.",
                )
            ),
            Paragraph(
                "Nous en accuserons réception dans un délai de dix jours ouvrables et vous "
                "répondrons dans un délai de deux mois au plus. Si notre réponse ne vous satisfait "
                "pas, ou si vous ne l'avez pas reçue dans ce délai, vous pourrez saisir "
                f"gratuitement le médiateur de la consommation, la {mediator_name}."
            ),
        ]
    return [
        Heading("Vos voies de recours"),
        Paragraph(
            "Si vous disposez d'éléments nouveaux, vous pouvez les adresser à notre Service "
            f"Réclamations en rappelant la référence {facts.reference}, depuis votre espace "
            f"adhérent (rubrique {portal}) ou par courrier : {complaints_address}."
        ),
        Paragraph(
            "Si cette réponse ne vous satisfait pas, vous pouvez saisir gratuitement le "
            "médiateur de la consommation, dans un délai d'un an à compter de votre réclamation "
            "écrite auprès de nos services :"
        ),
        Notice(
            MEDIATOR["label"],
            (mediator_name, MEDIATOR["address"], MEDIATOR["website"]),
        ),
        Paragraph(
            "Le médiateur rend son avis dans un délai de quatre-vingt-dix jours. Le recours à la "
            "médiation ne vous prive pas du droit de saisir, à tout moment, le tribunal compétent."
        ),
    ]


def _acknowledge_complaint(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    context = facts.context
    due = (
        f"au plus tard le {fr.long_date(context.answer_due_on)}"
        if context.answer_due_on
        else "dans un délai de deux mois au plus à compter de sa réception"
    )
    filed: list[tuple[str, str]] = []
    if context.filed_on:
        filed.append(("Déposée le", fr.long_date(context.filed_on)))
    filed += [("Référence", facts.reference), ("Type de demande", facts.label)]
    filed += facts.beneficiary_row()
    filed += fr.filed_rows(facts.data)
    copy: list[Block] = [
        Heading("Copie de votre réclamation"),
        Paragraph("Pour mémoire, voici ce que vous nous avez transmis."),
        Fields(tuple(filed)),
    ]
    if facts.description:
        copy.append(Quote("Votre message", facts.description))
    return [
        Paragraph(
            f"Nous avons bien reçu votre réclamation{facts.on_filed_day('du')}, enregistrée sous "
            f"la référence {facts.reference}, et vous remercions de nous avoir fait part de "
            "votre insatisfaction."
        ),
        Paragraph(
            "Notre Service Réclamations l'examine avec attention. Nous vous apporterons une "
            f"réponse {due}. Si son examen demande des informations complémentaires, nous "
            "reviendrons vers vous."
        ),
        Paragraph(
            "Si vous n'avez pas reçu de réponse dans ce délai, vous pourrez saisir gratuitement "
            f"le médiateur de la consommation, la {MEDIATOR['name']} ({MEDIATOR['website']})."
        ),
        *copy,
    ]


def _answer_complaint(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    verdicts = {
        Outcome.accepted: "Après examen, nous faisons droit à votre réclamation.",
        Outcome.partially_accepted: "Après examen, nous faisons droit à votre réclamation "
        "en partie.",
        Outcome.refused: "Après examen, nous ne sommes malheureusement pas en mesure de faire "
        "droit à votre réclamation.",
    }
    blocks: list[Block] = [
        Paragraph(
            f"Vous nous avez adressé{facts.on_filed_day()} une réclamation, enregistrée sous la "
            f"référence {facts.reference}. Nous l'avons examinée avec attention et vous prions "
            "de trouver ci-dessous notre réponse."
        ),
        *facts.beneficiary_fields(),
        Paragraph(verdicts[outcome or Outcome.accepted]),
        *_message(facts, "Notre réponse"),
    ]
    if facts.context.amount is not None:
        blocks.append(
            Paragraph(
                f"Nous vous versons à ce titre {fr.amount(facts.context.amount)}, par virement "
                f"sur votre compte bancaire{facts.bank_account()}."
            )
        )
    return blocks


def _stay_rows(facts: _Facts) -> list[tuple[str, str]]:
    return [
        *facts.beneficiary_row(),
        *facts.rows("establishment", "finess", "admission_date", "stay_type"),
    ]


def _grant_hospital_cover(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    rows = _stay_rows(facts)
    if facts.context.amount is not None:
        rows.append(("Montant maximal pris en charge", fr.amount(facts.context.amount)))
    partial = outcome is Outcome.partially_accepted
    blocks: list[Block] = [
        Paragraph(
            "Nous avons le plaisir de vous informer que nous accordons notre prise en charge"
            + (", dans les limites précisées ci-dessous," if partial else "")
            + " pour le séjour suivant :"
        ),
        Fields(tuple(rows)),
        *_message(facts, "Limites de notre prise en charge" if partial else "Précisions"),
        Paragraph(
            "Nous avons transmis cet accord directement à l'établissement, qui nous adressera sa "
            "facture : vous n'avez pas à avancer les frais que nous prenons en charge. Les frais "
            "non couverts par votre garantie (suppléments personnels, téléphone, télévision…) "
            "restent à régler à l'établissement."
        ),
        Paragraph(
            "Cet accord vaut pour le séjour décrit ci-dessus, sous réserve de vos droits à la date "
            "d'entrée. Si cette date change, faites-nous une nouvelle demande depuis votre espace "
            "adhérent."
        ),
    ]
    return blocks


def _refuse_hospital_cover(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    return [
        Paragraph(
            f"Vous nous avez demandé{facts.on_filed_day()} une prise en charge pour le séjour "
            "suivant :"
        ),
        Fields(tuple(_stay_rows(facts))),
        Paragraph("Nous ne sommes malheureusement pas en mesure de vous l'accorder."),
        *_message(facts, "Motif"),
        Paragraph(
            "Si vous engagez ces frais, vous pourrez nous adresser la facture acquittée depuis "
            "votre espace adhérent : nous l'examinerons selon les garanties de votre contrat."
        ),
    ]


def _care_rows(facts: _Facts) -> list[tuple[str, str]]:
    rows = [*facts.beneficiary_row(), *facts.rows("care_date", "care_type")]
    if (filed := facts.filed_amount()) is not None:
        rows.append(("Montant présenté", fr.amount(filed)))
    return rows


def _reimburse(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    rows = _care_rows(facts)
    context = facts.context
    if context.amount is not None:
        rows.append(("Montant remboursé", fr.amount(context.amount)))
    when = f"le {fr.long_date(context.effective_on)}" if context.effective_on else "sous 48 heures"
    blocks: list[Block] = [
        Paragraph(
            f"Nous avons traité le justificatif que vous nous avez adressé{facts.on_filed_day()} "
            "et procédé au remboursement suivant :"
        ),
        Fields(tuple(rows)),
        Paragraph(
            f"Ce montant est versé par virement sur votre compte bancaire{facts.bank_account()} "
            f"{when}. Il figurera sur votre prochain relevé de prestations."
        ),
    ]
    if outcome is Outcome.partially_accepted:
        blocks += [
            Paragraph("Une partie de la dépense présentée n'a pas pu être prise en charge."),
            *_message(facts, "Motif"),
        ]
    else:
        blocks += _message(facts, "Précisions")
    return blocks


def _refuse_reimbursement(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    return [
        Paragraph(
            f"Nous avons examiné le justificatif que vous nous avez adressé{facts.on_filed_day()} :"
        ),
        Fields(tuple(_care_rows(facts))),
        Paragraph("Nous ne sommes malheureusement pas en mesure de procéder à son remboursement."),
        *_message(facts, "Motif"),
    ]


def _answer_quote(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    rows = [*facts.beneficiary_row(), *facts.rows("care_type", "practitioner")]
    quoted_amount = facts.filed_amount()
    if quoted_amount is not None:
        rows.append(("Montant du devis", fr.amount(quoted_amount)))
    granted = facts.context.amount
    if outcome is not Outcome.refused and granted is not None:
        rows.append(("Prise en charge Génération", fr.amount(granted)))
        if quoted_amount is not None and quoted_amount >= granted:
            # The quote less Génération's share: the Assurance Maladie's, if any, comes off it
            # too (it is not known here), so it is not « reste à charge ».
            rows.append(("Reste après la part de Génération", fr.amount(quoted_amount - granted)))
    blocks: list[Block] = [
        Paragraph(
            f"Vous nous avez adressé{facts.on_filed_day()} un devis, que nous avons étudié selon "
            "les garanties de votre contrat :"
        ),
        Fields(tuple(rows)),
    ]
    if outcome is Outcome.refused:
        return [
            *blocks,
            Paragraph(
                "Les soins décrits dans ce devis ne sont malheureusement pas couverts par votre "
                "garantie."
            ),
            *_message(facts, "Motif"),
        ]
    if outcome is Outcome.partially_accepted:
        blocks += [
            Paragraph("Une partie des soins décrits dans ce devis n'est pas couverte."),
            *_message(facts, "Motif"),
        ]
    else:
        blocks += _message(facts, "Précisions")
    blocks.append(
        Paragraph(
            "Cette estimation porte sur la part de Génération, selon vos garanties à la date de "
            "ce courrier ; le remboursement de l'Assurance Maladie, s'il y a lieu, réduit encore "
            "ce qui reste à votre charge. Elle est valable six mois et ne vaut pas accord "
            "définitif : le remboursement sera calculé sur la facture acquittée, sous réserve de "
            "vos droits à la date des soins."
        )
    )
    return blocks


def _teletransmission(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    context = facts.context
    if outcome is Outcome.refused:
        return [
            Paragraph(
                "La mise en place de la télétransmission entre votre caisse d'Assurance Maladie "
                "et Génération n'a malheureusement pas pu aboutir."
            ),
            *_message(facts, "Motif"),
            Paragraph(
                "En attendant, adressez-nous vos décomptes de l'Assurance Maladie depuis votre "
                "espace adhérent, rubrique Démarches › Envoi de justificatif de remboursement."
            ),
        ]
    since = f" depuis le {fr.long_date(context.effective_on)}" if context.effective_on else ""
    blocks: list[Block] = [
        Paragraph(
            "Nous avons le plaisir de vous informer que la télétransmission est active entre "
            f"votre caisse d'Assurance Maladie et Génération{since}."
        ),
    ]
    blocks += facts.beneficiary_fields()
    blocks += [
        Paragraph(
            "L'Assurance Maladie nous transmet désormais directement vos décomptes : vous n'avez "
            "plus à nous les adresser. Nos remboursements complémentaires vous sont versés "
            "automatiquement, quelques jours après ceux de l'Assurance Maladie."
        ),
        *_message(facts, "Précisions"),
    ]
    return blocks


def _coverage_sentence(change: CoverageChange, issued_on: date) -> str:
    if change.starts_on is not None:
        return f"{change.name} est couvert(e) par votre contrat à compter du " + (
            f"{fr.long_date(change.starts_on)}."
        )
    assert change.ends_on is not None  # noqa: S101  # a change starts or ends a coverage
    if change.extended:
        return f"La couverture de {change.name} est prolongée jusqu'au " + (
            f"{fr.long_date(change.ends_on)}."
        )
    # A divorce or a death declared after the day: its end is already past when written.
    ends = "a pris fin" if change.ends_on < issued_on else "prend fin"
    return f"La couverture de {change.name} par votre contrat {ends} le " + (
        f"{fr.long_date(change.ends_on)}."
    )


def _confirm_change(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    context = facts.context
    request = fr.quoted(facts.label)
    rows = fr.filed_rows(facts.data)
    if outcome is Outcome.refused:
        recalled = [*facts.beneficiary_row(), *rows]  # which child, which spouse was refused
        refusal: list[Block] = [
            Paragraph(
                f"Nous avons étudié votre demande {request}{facts.on_filed_day('du')}. Nous ne "
                "sommes malheureusement pas en mesure d'y donner suite."
            )
        ]
        if recalled:
            refusal += [Heading("Votre demande"), Fields(tuple(recalled))]
        return [*refusal, *_message(facts, "Motif")]
    # A coverage that starts or ends says its own day below: « à compter du » the decision's
    # day beside it gave a member two dates for one change (a birth five days before).
    effective = (
        f", à compter du {fr.long_date(context.effective_on)}"
        if context.effective_on and not context.coverage_changes
        else ""
    )
    partial = outcome is Outcome.partially_accepted
    blocks: list[Block] = [
        Paragraph(
            f"Nous vous confirmons la prise en compte{' partielle' if partial else ''} de votre "
            f"demande {request}{facts.on_filed_day('du')}{effective}."
        ),
        *facts.beneficiary_fields(),
    ]
    if rows:
        # Only an acceptance applies what was filed (`services/decisions`): a partial one
        # recalls it, the agent's message says what was taken into account.
        heading = "Votre demande" if partial else "Informations enregistrées"
        blocks += [Heading(heading), Fields(tuple(rows))]
    blocks += [
        Paragraph(_coverage_sentence(change, context.issued_on))
        for change in context.coverage_changes
    ]
    if partial:
        blocks += [
            Paragraph("Une partie de votre demande n'a pas pu être prise en compte."),
            *_message(facts, "Motif"),
        ]
    else:
        blocks += _message(facts, "Précisions")
    blocks.append(
        Paragraph(
            "Si l'une de ces informations est inexacte, signalez-le-nous depuis votre espace "
            "adhérent, rubrique Démarches."
        )
    )
    return blocks


def _answer_request(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    verdicts = {
        Outcome.accepted: "Nous y avons donné suite.",
        Outcome.partially_accepted: "Nous n'avons pu y donner suite qu'en partie.",
        Outcome.refused: "Nous ne sommes malheureusement pas en mesure d'y donner une suite "
        "favorable.",
    }
    # A message written to Génération is « Demande » in the catalogue: its subject says more
    # (« une demande « Demande » » read as a stutter).
    subject = facts.data_value("subject") if "subject" in facts.data else ""
    about = f"sur le sujet {fr.quoted(subject)}" if subject else fr.quoted(facts.label)
    blocks: list[Block] = [
        Paragraph(
            f"Vous nous avez adressé{facts.on_filed_day()} une demande {about}, enregistrée "
            f"sous la référence {facts.reference}. {verdicts[outcome or Outcome.accepted]}"
        ),
    ]
    rows = [*facts.beneficiary_row(), *fr.filed_rows(facts.data)]
    if rows:
        blocks.append(Fields(tuple(rows)))
    blocks += _message(facts, "Notre réponse")
    return blocks


def _ask_for_documents(facts: _Facts, outcome: Outcome | None) -> list[Block]:
    context = facts.context
    # Answers are taken all through that day: « avant le » would say a day earlier.
    before = (
        f" au plus tard le {fr.long_date(context.answer_due_on)}" if context.answer_due_on else ""
    )
    portal = "Démarches › Le suivi des demandes"  # the tab, as Génération names it
    blocks: list[Block] = [
        Paragraph(
            f"Vous nous avez adressé{facts.on_filed_day()} une demande "
            f"{fr.quoted(facts.label)}, enregistrée sous la référence {facts.reference}. "
            "Pour pouvoir y donner suite, nous avons besoin d'un complément de votre part."
        ),
    ]
    rows = facts.beneficiary_row()
    if rows:
        blocks.append(Fields(tuple(rows)))
    blocks += _message(facts, "Ce dont nous avons besoin")
    blocks += [
        Paragraph(
            f"Merci de nous répondre{before}, depuis votre espace adhérent, rubrique {portal} : "
            "ouvrez cette demande et joignez-y votre réponse et vos documents. Sans réponse "
            "dans ce délai, nous étudierons votre demande avec les seuls éléments dont nous "
            "disposons."
        ),
    ]
    return blocks


Template = Callable[[_Facts, Outcome | None], list[Block]]

TEMPLATES: dict[LetterKind, Template] = {
    LetterKind.accuse_reception_reclamation: _acknowledge_complaint,
    LetterKind.reponse_reclamation: _answer_complaint,
    LetterKind.prise_en_charge_hospitaliere: _grant_hospital_cover,
    LetterKind.refus_prise_en_charge: _refuse_hospital_cover,
    LetterKind.remboursement: _reimburse,
    LetterKind.refus_remboursement: _refuse_reimbursement,
    LetterKind.reponse_devis: _answer_quote,
    LetterKind.teletransmission: _teletransmission,
    LetterKind.confirmation_modification: _confirm_change,
    LetterKind.reponse_demande: _answer_request,
    LetterKind.demande_pieces: _ask_for_documents,
}


def _signed_by(kind: LetterKind, context: LetterContext) -> str:
    """The kind's service, or the request's when given: a bank details' change is the
    Cotisations service's in the member's history, and its letter signed « Le Service
    Adhérents » named a service the member never saw. A letter signed by a person stays so."""
    signed_by = KIND_SPECS[kind].signed_by
    if context.service_label and signed_by.startswith("Le Service "):
        return f"Le {context.service_label}"
    return signed_by


def compose(kind: LetterKind, context: LetterContext) -> LetterBody:
    """The letter's blocks, from the salutation to the closing formula."""
    if kind not in TEMPLATES:
        raise ValueError(f"{kind.value} is not a letter: render it with its own function")
    outcome = resolve_outcome(kind, context.outcome)
    facts = _Facts(context)
    blocks: list[Block] = [Paragraph(SALUTATION), *TEMPLATES[kind](facts, outcome)]
    if needs_appeal(kind, outcome):
        blocks += _appeal(facts, complaint=names_mediator(kind, outcome))
    # One line: the letterhead and the footer already give the phone number.
    closing = (
        f"Nous vous prions d'agréer, {SALUTATION[:-1]}, l'expression de nos salutations "
        "distinguées."
    )
    return LetterBody(
        kind=kind,
        outcome=outcome,
        title=letter_title(kind, outcome),
        signed_by=_signed_by(kind, context),
        blocks=tuple(blocks),
        closing=closing,
    )
