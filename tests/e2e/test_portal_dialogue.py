"""The dialogue in two browsers: an agent asks in the console, the member answers with a file,
the agent decides, the letter downloads as a PDF; a complaint contests a request; a
withdrawal."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import expect
from portal_pages import (
    a_complaint,
    a_pdf,
    a_reimbursement,
    api_get,
    decide_via_api,
    file_via_api,
    request_id_after_filing,
    sign_in,
)


def test_an_agent_asks_the_member_answers_with_a_file_the_agent_decides_and_the_letter_is_a_pdf(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any, today: date
) -> None:
    care_date = (today - timedelta(days=3)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    pump.drain()

    console = open_page().page
    sign_in(console, agent_everywhere.username, agent_everywhere.password)
    console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")
    console.get_by_role("heading", name="Envoi de justificatif de remboursement").wait_for()
    download = console.get_by_role("link", name="Télécharger facture.pdf")
    expect(download).to_be_visible()
    console.get_by_label("Message à l'adhérent").fill("Merci d'envoyer la facture détaillée.")
    console.get_by_role("button", name="Envoyer la demande d'informations").click()
    # In the agent's words: the member's « En attente de votre réponse » read as if the agent
    # owed the answer; and a processed request says how it was decided.
    expect(console.locator('dd[data-info="Statut"]')).to_have_text("En attente de l'adhérent")
    # The dossier drawn again, the focus on its title (it fell to the page: the next Tab went
    # to the breadcrumb).
    expect(console.locator("h1.titre-page")).to_be_focused()

    portal = open_page().page
    sign_in(portal, member.username, member.password)
    portal.goto(f"/#/suivi/{request_id}")
    detail = portal.locator(".detail")
    expect(detail).to_contain_text("Merci d'envoyer la facture détaillée.")
    # Answers are taken all through the last day: « avant le » said a day earlier.
    due = re.compile(r"À fournir au plus tard le \d{1,2}(er)? \S+ \d{4}\.")
    expect(detail).to_contain_text(due)
    expect(portal.locator(f'.frise a[data-request="{request_id}"] img')).to_have_attribute(
        "data-icon", "action"
    )
    detail.get_by_label("Votre message").fill("Voici la facture détaillée.")
    detail.locator('input[type=file][name="upload_ids"]').set_input_files(
        [a_pdf("facture-detaillee.pdf")]
    )
    detail.get_by_role("button", name="Envoyer ma réponse").click()
    expect(detail.locator(".messages")).to_contain_text("Voici la facture détaillée.")
    replied = api_get(http_api, member.headers, f"/requests/{request_id}")
    assert replied["status"] == "in_progress"
    assert [a["filename"] for a in replied["attachments"]] == [
        "facture.pdf",
        "facture-detaillee.pdf",
    ]
    pump.drain()

    console.reload()
    console.get_by_role("heading", name="Envoi de justificatif de remboursement").wait_for()
    expect(console.get_by_role("link", name="Télécharger facture-detaillee.pdf")).to_be_visible()
    console.get_by_label("Décision").select_option("accepted")
    console.get_by_label("Montant accordé (€)").fill("42.50")
    console.get_by_role("button", name="Enregistrer la décision").click()
    expect(console.locator('dd[data-info="Statut"]')).to_have_text("Traitée — acceptée")
    expect(console.locator("h1.titre-page")).to_be_focused()
    pump.drain()

    portal.goto("/#/courriers")
    letters = portal.locator(".liste-documents li")
    expect(letters.first).to_be_visible()
    decided = api_get(http_api, member.headers, f"/requests/{request_id}")
    assert decided["status"] == "processed" and decided["outcome"] == "accepted"
    letter = decided["documents"][-1]
    with portal.expect_download() as got:
        portal.locator(f'button[data-document="{letter["document_id"]}"]').click()
    path = got.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert got.value.suggested_filename.endswith(".pdf")
    # The agent reads the same letter from the dossier.
    console.reload()
    with console.expect_download() as got_by_agent:
        console.locator(f'button[data-document="{letter["document_id"]}"]').click()
    with open(got_by_agent.value.path(), "rb") as pdf, open(path, "rb") as members:
        assert pdf.read() == members.read()


def test_a_complaint_contests_a_request_from_its_detail(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any, today: date
) -> None:
    care_date = (today - timedelta(days=5)).isoformat()
    contested = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{contested}")
    page.locator(".detail").get_by_role("link", name="Contester cette demande").click()
    page.get_by_role("heading", name="Formuler une réclamation").wait_for()
    expect(page.get_by_label("Je souhaite formuler une réclamation")).to_be_checked()
    page.get_by_label("Sujet de la demande").select_option(label="Mes remboursements")
    page.get_by_label("Détail").select_option(label="Montant du remboursement contesté")
    page.get_by_label("Décrivez votre demande").fill("Le montant remboursé ne correspond pas.")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    complaint_id = request_id_after_filing(page)
    complaint = api_get(http_api, member.headers, f"/requests/{complaint_id}")
    assert complaint["complaint"] is True
    assert complaint["related_request_id"] == contested
    assert complaint["recall"]["data"] == {
        "subject": "remboursements",
        "detail": "montant_conteste",
    }
    # In the console, the contested request may be reclassified; the complaint may not (it
    # stays a complaint, with the complaints service): it is asked about or decided.
    pump.drain()
    console = open_page().page
    sign_in(console, agent_everywhere.username, agent_everywhere.password)
    for request_id, heading, movable in (
        (contested, "Envoi de justificatif de remboursement", True),
        (complaint_id, "Réclamation", False),
    ):
        console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")
        console.get_by_role("heading", name=heading, exact=True).wait_for()
        expect(console.get_by_role("button", name="Enregistrer la décision")).to_be_visible()
        expect(console.get_by_role("heading", name="Reclasser")).to_have_count(int(movable))


def test_the_complaints_service_opens_the_request_a_complaint_contests(
    open_page: Any,
    member: Any,
    agent_everywhere: Any,
    agent_of_reclamations: Any,
    http_api: str,
    pump: Any,
    today: date,
) -> None:
    """An agent of the complaints service only: the complaint's dossier links the request it
    contests, which opens read-only with its letter (it was out of their reach: 403)."""

    care_date = (today - timedelta(days=5)).isoformat()
    contested = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    pump.drain()
    refusal = {"outcome": "refused", "message": "Le justificatif est illisible."}
    decided = decide_via_api(http_api, agent_everywhere.headers, member.member_id, contested,
                             refusal)  # fmt: skip
    pump.drain()
    complaint = file_via_api(http_api, member.headers, {
        "type": "contact.demande", "complaint": True, "related_request_id": contested,
        "beneficiary_ids": [f"{member.member_id}-01"], "description": "Je conteste le refus.",
        "data": {"subject": "remboursements", "detail": "montant_conteste"},
    })  # fmt: skip
    pump.drain()
    console = open_page().page
    sign_in(console, agent_of_reclamations.username, agent_of_reclamations.password)
    console.goto(f"/#/console/dossier/{member.member_id}/{complaint}")
    console.get_by_role("heading", name="Réclamation", exact=True).wait_for()
    console.get_by_role("link", name="Voir la demande contestée").click()
    console.get_by_role("heading", name="Envoi de justificatif de remboursement").wait_for()
    expect(console.get_by_text("consultation seule")).to_be_visible()
    expect(console.get_by_role("button", name="Enregistrer la décision")).to_have_count(0)
    letter = decided["letter"]["document_id"]
    with console.expect_download() as got:
        console.locator(f'button[data-document="{letter}"]').click()
    with open(got.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    console.get_by_role("link", name="Retour à la réclamation").click()
    console.get_by_role("heading", name="Réclamation", exact=True).wait_for()


def test_a_member_withdraws_a_request(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    care_date = (today - timedelta(days=2)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{request_id}")
    detail = page.locator(".detail")
    detail.get_by_role("button", name="Retirer ma demande").click()
    confirm = detail.get_by_role("button", name="Confirmer le retrait")
    expect(confirm).to_be_focused()
    confirm.click()
    expect(detail.locator("[data-status]").first).to_have_text("Retirée")
    expect(detail.get_by_role("button", name="Retirer ma demande")).to_have_count(0)
    assert api_get(http_api, member.headers, f"/requests/{request_id}")["status"] == "withdrawn"


def test_a_withdrawal_refused_because_the_request_was_decided_meanwhile_says_so_there(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any, today: date
) -> None:
    """The agent decided while the member read the detail. The 409 went to the page's banner,
    above the screen, the focus stayed on « Confirmer le retrait », and the detail still said
    « En cours de traitement » with the reply form. It is said beside the actions, focused,
    and the detail is the request as it now is."""

    care_date = (today - timedelta(days=2)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    pump.drain()
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{request_id}")
    detail = page.locator(".detail")
    detail.get_by_role("button", name="Retirer ma demande").click()
    decide_via_api(http_api, agent_everywhere.headers, member.member_id, request_id,
                   {"outcome": "accepted", "amount": "42.50"})  # fmt: skip
    detail.get_by_role("button", name="Confirmer le retrait").click()
    said = detail.get_by_role("alert")
    expect(said).to_have_text("Cette demande est déjà traitée.")
    expect(said).to_be_focused()
    expect(detail.locator("[data-status]").first).to_have_text("Traitée")
    expect(detail.get_by_role("button", name="Retirer ma demande")).to_have_count(0)
    expect(detail.get_by_role("button", name="Envoyer ma réponse")).to_have_count(0)
    expect(page.locator(f'.frise a[data-request="{request_id}"] [data-status]')).to_have_text(
        "Traitée"
    )


def test_an_agent_hands_a_request_on_to_a_service_they_do_not_work(
    open_page: Any,
    member: Any,
    agent_of_remboursements: Any,
    http_api: str,
    pump: Any,
    today: date,
) -> None:
    """The move succeeds, and the console says so and goes back to the agent's list. It used to
    open the request again, which the agent may no longer read (403): the form showed that
    refusal as if the move had failed, and trying again was a 403 too."""
    agent = agent_of_remboursements
    care_date = (today - timedelta(days=2)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    pump.drain()
    console = open_page().page
    sign_in(console, agent.username, agent.password)
    console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")
    console.get_by_role("heading", name="Envoi de justificatif de remboursement").wait_for()
    console.get_by_label("Ou l'envoyer au service").select_option(label="Devis")
    console.get_by_role("button", name="Reclasser").click()
    console.get_by_role("heading", name="Console des services — Remboursements").wait_for()
    expect(console.locator("#annonce")).to_have_text(
        "La demande est reclassée : elle est désormais au service Devis."
    )
    assert console.locator(".resume-erreurs, .erreur, .alerte").count() == 0
    assert api_get(http_api, member.headers, f"/requests/{request_id}")["service"] == "devis"


def test_the_console_lists_a_work_list_longer_than_a_page(
    open_page: Any, member: Any, another_member: Any, agent_everywhere: Any, http_api: str
) -> None:
    """« Voir plus » goes on with the list's cursor until its end, each request once: the
    console showed the first page only (50), so the rest of a long list, the newest of the
    lists that only grow (processed, withdrawn), was out of the agents' reach."""
    filed = [
        file_via_api(
            http_api,
            who.headers,
            {
                "type": "vie.autre",
                "beneficiary_ids": [f"{who.member_id}-01"],
                "description": f"Question {n}",
            },
        )
        for who in (member, another_member)
        for n in range(26)  # 52: more than a page, within each member's 30 a day
    ]
    console = open_page().page
    sign_in(console, agent_everywhere.username, agent_everywhere.password)
    console.goto("/#/console/adhesion/open")
    console.get_by_role("heading", name="Console des services — Adhésion").wait_for()
    rows = console.locator("table.liste a[data-request]")
    more = console.get_by_role("button", name="Voir plus")
    rows.first.wait_for()
    while more.is_visible():
        shown = rows.count()
        more.click()
        expect(rows).not_to_have_count(shown)
    listed = [rows.nth(i).get_attribute("data-request") for i in range(rows.count())]
    assert len(listed) == len(set(listed))
    assert set(filed) <= set(listed)
    assert listed[-len(filed) :] == filed  # the newest last, oldest first


def test_an_attachment_clicked_after_its_link_expired_is_signed_again(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any, today: date
) -> None:
    """The detail's download links are presigned for 5 minutes (`expires_at`): an agent who
    read the request longer than that followed a dead link (S3's « Request has expired »; moto
    does not check expiry, so the test watches for the new signature). Clicked after its
    `expires_at`, the link is signed again from the detail read anew, and the file comes."""
    care_date = (today - timedelta(days=2)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    pump.drain()
    console = open_page().page
    console.clock.install()
    sign_in(console, agent_everywhere.username, agent_everywhere.password)
    console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")
    console.get_by_role("heading", name="Envoi de justificatif de remboursement").wait_for()
    link = console.get_by_role("link", name="Télécharger facture.pdf")
    console.clock.fast_forward("06:00")  # the agent reads for six minutes
    detail = f"/backoffice/members/{member.member_id}/requests/{request_id}"
    signed_again = console.expect_request(lambda r: r.method == "GET" and r.url.endswith(detail))
    with signed_again, console.expect_download() as got:
        link.click()
    with open(got.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_console_says_why_a_complaint_heads_its_list_and_when_it_is_due(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any, local_stack: Any
) -> None:
    """A complaint whose answer is owed tomorrow heads the complaints' list: the console showed
    it there with nothing to say why (« Urgent » was only for a handler that gave up), and an
    unacknowledged complaint's deadline as « — »."""
    from datetime import UTC, datetime

    from chalicelib.domain.requests import month_of
    from chalicelib.routing.sla import watch
    from chalicelib.store import keys

    request_id = file_via_api(http_api, member.headers, a_complaint(member.member_id))
    console = open_page().page
    sign_in(console, agent_everywhere.username, agent_everywhere.password)
    console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")  # not acknowledged yet
    expect(console.locator('dd[data-info="Échéance"]')).to_contain_text("(accusé de réception)")
    pump.drain()  # acknowledged: its answer is owed in two months
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    key = keys.request_key(member.member_id, month_of(request_id), request_id)
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.outputs["TableName"],
        Key={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}},
        UpdateExpression="SET due_at = :d",
        ExpressionAttributeValues={":d": {"S": tomorrow}},
    )
    watch()  # the daily watch puts it at the head of its list
    console.goto("/#/console/reclamations/open")
    row = console.locator("table.liste tr", has=console.locator(f'a[data-request="{request_id}"]'))
    expect(row).to_contain_text("Échéance proche")
    console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")
    expect(console.locator(".etiquettes")).to_have_text("Échéance proche")


def test_the_console_says_the_member_let_a_question_go_unanswered(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any, today: date
) -> None:
    """Past its question's deadline, a request goes back to the head of its service's open
    list: the console showed it there like any other."""
    from datetime import UTC, datetime

    import requests

    from chalicelib.routing.sla import watch

    care_date = (today - timedelta(days=3)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    pump.drain()
    base = f"/backoffice/members/{member.member_id}/requests/{request_id}"
    asked = requests.post(
        http_api + f"{base}/information-request",
        headers=agent_everywhere.headers,
        json={"message": "Quel acte ?", "respond_within_days": 1},
        timeout=30,
    )
    assert asked.status_code == 200, asked.text
    watch(datetime.now(UTC) + timedelta(days=3))  # the deadline passed unanswered
    console = open_page().page
    sign_in(console, agent_everywhere.username, agent_everywhere.password)
    console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")
    expect(console.locator(".etiquettes")).to_have_text("Sans réponse de l'adhérent")
