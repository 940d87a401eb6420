"""What a member is told, and when: generic French texts, quiet hours for SMS. Pure.

A notification says that something happened on a démarche of a given date and asks the member
to sign in: never the type of care, an amount, a diagnosis or a beneficiary's name (an e-mail
or an SMS may be read by anyone near the member's screen, and crosses servers we do not run).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ulid import ULID

from chalicelib.domain import clock

# The events a member hears about (`domain/events.py`): something awaits them, or is decided.
NOTIFIED_EVENTS = frozenset({"InformationRequested", "RequestDecided", "LetterIssued"})
REMINDER = "ReminderBeforeDeadline"  # the daily watch's, 7 days before `respond_before`
LETTER_EVENT = "LetterIssued"

# The changes whose letter joins their message (`change_of`).
QUESTION, DECISION = "question", "decision"
QUESTION_LETTERS = frozenset({"demande_pieces"})
# The complaint's acknowledgement: the letter of no notified change (the filing is not one).
LETTERS_OF_THEIR_OWN = frozenset({"accuse_reception_reclamation"})

# SMS only from 08:00 to 20:00 where the member is (`sms_zone`); one due in their night waits
# for their 08:00.
SMS_FROM = time(8, 0)
SMS_UNTIL = time(20, 0)

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip


@dataclass(frozen=True)
class Email:
    subject: str
    text: str


def filed_on(request_id: str) -> date:
    """The démarche's date: its ULID's moment, in Paris."""
    return clock.paris_date(ULID.from_str(request_id).datetime)


def french_date(day: date) -> str:
    """`3 décembre 2026` (`1er` for the first of the month)."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def change_of(detail_type: str, detail: Mapping[str, Any]) -> str | None:
    """The change a notified event is, or whose letter it is (by the letter's `kind`): a
    `QUESTION` (`InformationRequested`, `demande_pieces`) or a `DECISION` (`RequestDecided`,
    every letter that answers). None for an event that is a message of its own, whatever comes
    near it: the complaint's acknowledgement letter, the reminder (a change with no letter)."""
    if detail_type == "InformationRequested":
        return QUESTION
    if detail_type == "RequestDecided":
        return DECISION
    if detail_type != LETTER_EVENT:
        return None
    kind = str(detail["kind"])
    if kind in LETTERS_OF_THEIR_OWN:
        return None
    return QUESTION if kind in QUESTION_LETTERS else DECISION


def email(request_id: str, preferences_url: str, answer_by: date | None = None) -> Email:
    """The e-mail; `answer_by`: a reminder's, the day the member's answer is due (nothing is
    new then: « du nouveau » sent them looking for news that was not there)."""
    on = french_date(filed_on(request_id))
    if answer_by is None:
        subject = f"Du nouveau sur votre démarche du {on}"
        news = (
            f"Il y a du nouveau sur votre démarche du {on}.\n"
            "Connectez-vous à votre espace adhérent pour la consulter.\n\n"
        )
    else:
        subject = f"Rappel : votre réponse est attendue sur votre démarche du {on}"
        news = (
            f"Nous attendons votre réponse sur votre démarche du {on}, au plus tard le "
            f"{french_date(answer_by)}.\n"
            "Connectez-vous à votre espace adhérent pour répondre.\n\n"
        )
    return Email(
        subject=subject,
        text=(
            "Bonjour,\n\n"
            f"{news}"
            "Génération\n\n"
            "Vous recevez ce message car vous avez choisi d'être prévenu par e-mail. "
            f"Pour ne plus l'être : {preferences_url}\n"
        ),
    )


def sms(request_id: str, answer_by: date | None = None) -> str:
    """The SMS (`answer_by`: a reminder's, as for `email`), one GSM-7 segment."""
    on = french_date(filed_on(request_id))
    news = (
        f"du nouveau sur votre démarche du {on}"
        if answer_by is None
        else f"votre démarche du {on} attend votre réponse au plus tard le {french_date(answer_by)}"
    )
    return gsm7(f"Génération : {news}. Connectez-vous à votre espace adhérent.")


# GSM 03.38's basic alphabet: a text written in it alone goes as one SMS of 160 characters;
# a single other character (« û », « ’ », « « ») sends the whole text in UCS-2, 70 a segment.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SMS_SEGMENT = 160
_CLOSEST = {"’": "'", "‘": "'", "«": '"', "»": '"', "\u00a0": " ", "\u202f": " ", "œ": "oe"}


def gsm7(text: str) -> str:
    """The text in GSM-7, each other character as its closest (« août » → « aout », spelt so
    since 1990): the SMS stays one segment (« août » made August's two, at twice the price)."""

    def closest(c: str) -> str:
        if c in GSM7:
            return c
        if c in _CLOSEST:
            return _CLOSEST[c]
        bare = "".join(b for b in unicodedata.normalize("NFD", c) if b in GSM7)
        return bare or "?"

    return "".join(closest(c) for c in text)


def sms_send_at(moment: datetime, zone: ZoneInfo = clock.PARIS) -> datetime | None:
    """None when an SMS may go now; else the moment it may: 08:00 in `zone` (the number's,
    `sms_zone`), that day or the next."""
    local = moment.astimezone(zone)
    if SMS_FROM <= local.time() < SMS_UNTIL:
        return None
    day = local.date() if local.time() < SMS_FROM else local.date() + timedelta(days=1)
    return datetime.combine(day, SMS_FROM, tzinfo=zone)


# The overseas départements share France's ten-digit numbering but not its country code: a
# Réunion mobile is `0692 12 34 56` at home and `+262 692 12 34 56` in E.164, `+33 692…` reaching
# nobody (ARCEP's plan: the first four digits place the number).
OVERSEAS_CODES = {
    "262": "262", "263": "262", "269": "262", "692": "262", "693": "262", "639": "262",
    "590": "590", "690": "590", "691": "590",
    "594": "594", "694": "594",
    "596": "596", "696": "596", "697": "596",
}  # fmt: skip


def e164(phone: str) -> str | None:
    """A French number as SNS takes it (`06 12 34 56 78` → `+33612345678`, `0692 12 34 56` →
    `+262692123456`, `+33 (0)6 12 34 56 78` → `+33612345678`); None if unreadable, or not an
    E.164 number once read."""
    compact = "".join(c for c in phone if c.isdigit() or c == "+")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+330") and len(compact) == 13:  # `+33 (0)6 12 34 56 78`
        compact = "+33" + compact[4:]
    if compact.startswith("0") and len(compact) == 10:
        compact = "+33" + compact[1:]
    if compact.startswith("+33") and len(compact) == 12 and compact[3:6] in OVERSEAS_CODES:
        compact = f"+{OVERSEAS_CODES[compact[3:6]]}{compact[3:]}"
    # E.164: a country code never begins with 0 (`+06 12 34 56 78` is none); 15 digits at most.
    if compact.startswith("+") and compact[1:].isdigit() and compact[1] != "0":
        return compact if 8 <= len(compact) <= 16 else None
    return None


# France's numbering plan, mainland and overseas: nine digits after the country code, a mobile's
# first one 6 or 7 (ARCEP: `06`, `07`; overseas `0639`, `069x`). A landline (`01`…`05`, `0262`,
# `0590`…) or a box's `09` takes no SMS: one sent there is charged and reaches no one.
FRENCH_PLAN = ("+33", "+262", "+590", "+594", "+596")
MOBILE_FIRST_DIGITS = "67"


# Where an overseas mobile rings (`sms_number`'s country codes, Mayotte's mobiles `+262 639`
# before Réunion's): 08:00 in Paris is 03:00 in Martinique in winter, and 20:00 in Paris 23:00 in
# Réunion. Any other number, French or foreign (its zone not known here), keeps Paris's hours.
SMS_ZONES = (
    ("+262639", ZoneInfo("Indian/Mayotte")),
    ("+262", ZoneInfo("Indian/Reunion")),
    ("+590", ZoneInfo("America/Guadeloupe")),  # Saint-Martin and Saint-Barthélemy too
    ("+594", ZoneInfo("America/Cayenne")),
    ("+596", ZoneInfo("America/Martinique")),
)


def sms_zone(number: str) -> ZoneInfo:
    """The time zone whose quiet hours an SMS to `number` (E.164, `sms_number`) keeps."""
    return next((zone for code, zone in SMS_ZONES if number.startswith(code)), clock.PARIS)


def sms_number(phone: str) -> str | None:
    """The number an SMS to the member goes to (`e164`), or None: none on file, unreadable, or
    a French number that is not a mobile. Another country's number is taken as written (its
    plan is not known here). The one rule: the notifications send to it, and `PUT
    /me/preferences` refuses to turn SMS on without it."""
    number = e164(phone)
    if number is None:
        return None
    for code in FRENCH_PLAN:
        if number.startswith(code):
            national = number[len(code) :]
            mobile = len(national) == 9 and national[0] in MOBILE_FIRST_DIGITS
            return number if mobile else None
    return number
