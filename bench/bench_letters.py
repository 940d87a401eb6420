"""`make bench`: time and memory to render each kind of letter to PDF.

Renders every letter kind from a believable context (the demo member alice), once to warm up
(the first render imports fpdf2 and pyStrich: that cost is printed apart, as a Lambda cold
start pays it), then N times: prints the median and slowest render, the peak memory one
render allocates (tracemalloc), the size and the pages of the PDF. Pure CPU, no AWS.

    .venv/bin/python -m bench.bench_letters [--runs N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISSUED_ON = date(2026, 11, 26)
COMPLAINT_SENTENCE = (
    "Depuis le mois de mars, mes séances de kinésithérapie sont remboursées avec plusieurs "
    "semaines de retard, et le montant versé ne correspond pas à ce que prévoit ma garantie. "
)
LONG_COMPLAINT = "\n\n".join(COMPLAINT_SENTENCE * 3 for _ in range(10))


def _contexts() -> dict[str, tuple[Any, Any]]:
    """(kind, context) for each line of the table, from the demo member alice."""
    from chalicelib.letters import LetterContext, LetterKind, Outcome
    from infra.seed import alice

    member, beneficiaries = alice(ISSUED_ON)
    base: dict[str, Any] = {
        "member": member,
        "request_id": "01KAXD3S5V9YB2W6N4QJ8T0RCM",
        "issued_on": ISSUED_ON,
        "filed_on": date(2026, 11, 20),
        "beneficiaries": tuple(beneficiaries[:1]),
    }
    care = {"care_date": "2026-11-02", "amount": "42.50", "care_type": "pharmacie"}
    stay = {
        "establishment": "Hôpital Saint-Joseph",
        "finess": "750000523",
        "admission_date": "2026-12-03",
        "stay_type": "hospitalisation_complete",
    }
    complaint = {"subject": "remboursements", "detail": "montant_conteste"}
    refusal = "Les dépassements d'honoraires au-delà de 200 % de la BR ne sont pas couverts."
    cases: dict[str, tuple[LetterKind, dict[str, Any]]] = {
        "accuse_reception_reclamation": (
            LetterKind.accuse_reception_reclamation,
            {
                "request_label": "Réclamation",
                "filed": {"description": "Remboursement non reçu.", "data": complaint},
            },
        ),
        "  … with a long description": (
            LetterKind.accuse_reception_reclamation,
            {
                "request_label": "Réclamation",
                "filed": {"description": LONG_COMPLAINT, "data": complaint},
            },
        ),
        "reponse_reclamation (refused)": (
            LetterKind.reponse_reclamation,
            {"request_label": "Réclamation", "outcome": Outcome.refused, "message": refusal},
        ),
        "prise_en_charge_hospitaliere": (
            LetterKind.prise_en_charge_hospitaliere,
            {
                "request_label": "Demande de prise en charge hospitalière",
                "amount": Decimal("1450.00"),
                "filed": {"data": stay},
            },
        ),
        "refus_prise_en_charge": (
            LetterKind.refus_prise_en_charge,
            {
                "request_label": "Demande de prise en charge hospitalière",
                "message": refusal,
                "filed": {"data": stay},
            },
        ),
        "remboursement": (
            LetterKind.remboursement,
            {
                "request_label": "Envoi de justificatif de remboursement",
                "amount": Decimal("32.40"),
                "filed": {"data": care},
            },
        ),
        "refus_remboursement": (
            LetterKind.refus_remboursement,
            {
                "request_label": "Envoi de justificatif de remboursement",
                "message": refusal,
                "filed": {"data": care},
            },
        ),
        "reponse_devis": (
            LetterKind.reponse_devis,
            {
                "request_label": "Envoi de devis",
                "amount": Decimal("380.00"),
                "filed": {"data": {"care_type": "optique", "amount": "520.00"}},
            },
        ),
        "teletransmission": (
            LetterKind.teletransmission,
            {"request_label": "Transmission ou obtention d’autres informations"},
        ),
        "confirmation_modification": (
            LetterKind.confirmation_modification,
            {
                "request_label": "Modification de vos coordonnées de contact ou postales",
                "filed": {"data": {"phone": "06 11 22 33 44"}},
            },
        ),
        "reponse_demande (refused)": (
            LetterKind.reponse_demande,
            {
                "request_label": "Demande",
                "outcome": Outcome.refused,
                "message": refusal,
                "filed": {"description": "Changement de formule ?", "data": complaint},
            },
        ),
        "attestation_tiers_payant": (
            LetterKind.attestation_tiers_payant,
            {
                "request_label": "Édition de l’attestation de Tiers-Payant Santé",
                "beneficiaries": tuple(beneficiaries),
            },
        ),
    }
    return {
        name: (kind, LetterContext(**{**base, **fields})) for name, (kind, fields) in cases.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="renders of each kind")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 1000))

    from pypdf import PdfReader

    from chalicelib.letters import render_letter

    contexts = _contexts()
    first_kind, first_context = next(iter(contexts.values()))
    started = time.perf_counter()
    render_letter(first_kind, first_context)
    cold_ms = (time.perf_counter() - started) * 1000

    print(f"Letters: {runs} renders of each kind, after one warm-up render.")
    print(f"First render of the process (imports fpdf2, fonts): {cold_ms:.0f} ms\n")
    header = f"{'kind':<32} {'median ms':>9} {'max ms':>7} {'peak MiB':>8} {'KiB':>5} {'pages':>5}"
    print(header)
    print("-" * len(header))
    for name, (kind, context) in contexts.items():
        pdf = render_letter(kind, context)  # warm: Data Matrix encoder for the attestation
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            render_letter(kind, context)
            timings.append((time.perf_counter() - started) * 1000)
        tracemalloc.start()
        render_letter(kind, context)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(
            f"{name:<32} {statistics.median(timings):>9.1f} {max(timings):>7.1f} "
            f"{peak / 2**20:>8.1f} {len(pdf) / 1024:>5.0f} {pages:>5}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
