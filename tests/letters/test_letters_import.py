"""The API side imports chalicelib.letters for titles and contexts: it must stay light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a render needs and a listing must not pay for.
HEAVY = ("fpdf", "PIL", "fontTools", "pystrich")

LOADED = "sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY))"


def _run(code: str) -> list[object]:
    """Runs code in a fresh interpreter, which prints one JSON value."""
    completed = subprocess.run(
        [sys.executable, "-c", f"import json, sys\nHEAVY = {HEAVY!r}\n{code}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: list[object] = json.loads(completed.stdout)
    return result


def test_importing_letters_loads_neither_fpdf_nor_the_barcode_encoder() -> None:
    before, after_title = _run(
        f"""
import chalicelib.letters as letters
before = {LOADED}
letters.letter_title(letters.LetterKind.refus_remboursement)
letters.needs_appeal(letters.LetterKind.reponse_devis, letters.Outcome.refused)
print(json.dumps([before, {LOADED}]))
"""
    )
    assert before == []
    assert after_title == []


def test_rendering_loads_them_on_demand() -> None:
    head, loaded = _run(
        f"""
from datetime import date
import chalicelib.letters as letters
from chalicelib.domain.members import Contract, Member, PostalAddress
member = Member(
    member_id="1", first_name="Zoé", last_name="Dupré", email="z@example.fr", phone="0600000000",
    postal_address=PostalAddress(line1="1 rue de la Paix", postal_code="75002", city="Paris"),
    contract=Contract(
        contract_number="C", amc_number="775659923", formula="F", start_date=date(2020, 1, 1)
    ),
)
pdf = letters.render_tiers_payant_attestation(member, [], date(2026, 11, 26))
print(json.dumps([pdf[:5].decode(), {LOADED}]))
"""
    )
    assert head == "%PDF-"
    assert loaded == sorted(HEAVY)
