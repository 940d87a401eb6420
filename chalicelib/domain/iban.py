"""Bank details a direct debit can use: a valid IBAN (ISO 13616) of a SEPA country, a holder."""

from __future__ import annotations

import re

# Countries and territories of the SEPA schemes (European Payments Council, "EPC list of
# countries and territories of the SEPA schemes", 2024 edition): reference data, not logic.
SEPA_COUNTRIES = frozenset(
    {
        "AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GI",
        "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL",
        "PT", "RO", "SE", "SI", "SK", "SM", "VA", "AL", "MD", "ME", "MK",
    }
)  # fmt: skip
HOLDER_MAX = 70  # what a SEPA mandate's debtor name holds
# Letters (accented too: Latin-1's; Latin Extended-A's, as Łukasz Wiśniewski's; Romanian's
# Ș and Ț; Vietnamese's, as Nguyễn Văn An's: each one the letters' font draws, written
# composed, NFC), spaces, hyphens, points, and both apostrophes: ' and ’; the name stripped of
# the spaces around it is 2 to HOLDER_MAX long.
_HOLDER_CHARACTERS = r"A-Za-zÀ-ÖØ-öø-žƠơƯưȘ-țẠ-ỹ'’.\-"
HOLDER_PATTERN = (
    rf"^ *[{_HOLDER_CHARACTERS}][{_HOLDER_CHARACTERS} ]{{0,{HOLDER_MAX - 2}}}"
    rf"[{_HOLDER_CHARACTERS}] *$"
)
_HOLDER = re.compile(HOLDER_PATTERN)


def iban_problem(iban: str) -> str | None:
    """Why this IBAN cannot be used, in French; None when it can."""
    from stdnum import iban as stdnum_iban
    from stdnum.exceptions import ValidationError

    try:
        compact = stdnum_iban.validate(iban)
    except ValidationError:
        return "L'IBAN communiqué n'est pas valide (clé de contrôle ou format incorrect)."
    if compact[:2] not in SEPA_COUNTRIES:
        return "L'IBAN doit être celui d'un compte d'un pays de la zone SEPA."
    return None


def holder_problem(holder_name: str) -> str | None:
    if not _HOLDER.match(holder_name.strip()):
        return "Le nom du titulaire du compte n'est pas lisible."
    return None
