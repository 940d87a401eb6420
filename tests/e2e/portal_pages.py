"""What the e2e tests do with the portal's pages: sign in, read what was filed, run axe-core,
take screenshots (`make screenshots`)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

# Of two children (`member_with_children_whose_birthday_is_1_november`): 18 and 26 that day.
BIRTHDAY = date(2026, 11, 1)

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/#/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Se déconnecter").wait_for()


def request_id_after_filing(page: Page) -> str:
    """The ID of the request just filed, read from the confirmation's « Suivre » link."""
    link = page.get_by_role("link", name="Suivre cette demande")
    refused = page.locator(".resume-erreurs, .bandeau-erreur")
    link.or_(refused).first.wait_for()
    assert not refused.count(), refused.all_inner_texts()
    href = link.get_attribute("href") or ""
    match = re.fullmatch(r"#/suivi/([0-9A-Z]{26})", href)
    assert match, href
    return match.group(1)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of WCAG 2.1 A and AA on the page as it is."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # evaluated by the driver: the page's CSP does not apply
    results = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str) -> None:
    """Saved in docs/screenshots/ only when SCREENSHOTS=1 (`make screenshots`)."""
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# A real, if tiny, PDF: the API checks the first bytes against the declared type.
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def a_pdf(name: str = "justificatif.pdf") -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def fill_data(page: Page, data: dict[str, Any], prefix: str = "data") -> None:
    """Fill the generated fields named `data.<field>` (nested: `data.<group>.<field>`)."""
    for name, value in data.items():
        path = f"{prefix}.{name}"
        if isinstance(value, dict):
            fill_data(page, value, path)
            continue
        control = page.locator(f'[name="{path}"]')
        kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
        if kind == "select":
            control.select_option(str(value))
        elif kind == "checkbox":
            control.set_checked(bool(value))
        else:
            control.fill(str(value))


def choose_beneficiary(page: Page) -> None:
    """Tick the first beneficiary offered, unless the form ticked the only one itself."""
    boxes = page.locator('fieldset[data-field="beneficiary_ids"] input[type=checkbox]')
    if boxes.evaluate_all("all => !all.some(b => b.checked)"):
        boxes.first.check()


def api_get(api_url: str, headers: dict[str, str], path: str) -> Any:
    import requests

    answer = requests.get(api_url + path, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def decide_via_api(
    api_url: str, agent_headers: dict[str, str], member_id: str, request_id: str, decision: Any
) -> Any:
    """An agent's decision straight through the API: the answer (its `letter`)."""
    import requests

    path = f"{api_url}/backoffice/members/{member_id}/requests/{request_id}/decision"
    answer = requests.post(path, json=decision, headers=agent_headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def file_via_api(
    api_url: str, headers: dict[str, str], body: dict[str, Any], with_file: bool = False
) -> str:
    """A request filed straight through the API (what a test needs in place, not what it proves)."""
    import requests

    if with_file:
        ticket = requests.post(
            api_url + "/uploads",
            headers=headers,
            json={"filename": "facture.pdf", "content_type": "application/pdf", "size": len(PDF)},
            timeout=30,
        ).json()
        sent = requests.post(
            ticket["url"], data=ticket["fields"], files={"file": ("facture.pdf", PDF)}, timeout=30
        )
        assert sent.status_code in (200, 201, 204), sent.text
        body = {**body, "upload_ids": [ticket["upload_id"]]}
    answer = requests.post(api_url + "/requests", headers=headers, json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["request_id"])


def a_complaint(member_id: str) -> dict[str, Any]:
    """The contact form's complaint about a reimbursement's amount."""
    return {
        "type": "contact.demande",
        "beneficiary_ids": [f"{member_id}-01"],
        "data": {"subject": "remboursements", "detail": "montant_conteste"},
        "description": "Le montant remboursé ne correspond pas.",
        "complaint": True,
    }


def a_reimbursement(member_id: str, care_date: str) -> dict[str, Any]:
    return {
        "type": "sante.justificatif",
        "beneficiary_ids": [f"{member_id}-01"],
        "data": {"care_date": care_date, "amount": "42.50", "care_type": "pharmacie"},
    }
