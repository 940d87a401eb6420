"""Every démarche type filed through the forms the portal generates from the catalogue, with
real files sent from the browser to the bucket, then followed on the timeline."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import expect
from portal_pages import (
    PDF,
    a_pdf,
    a_reimbursement,
    api_get,
    axe_violations,
    choose_beneficiary,
    file_via_api,
    fill_data,
    request_id_after_filing,
    sign_in,
)

from chalicelib.domain.catalog import REQUEST_TYPES


def _catalog_entry(catalog: dict[str, Any], code: str) -> dict[str, Any]:
    return next(t for c in catalog["categories"] for t in c["types"] if t["type"] == code)


def test_every_type_is_filed_through_its_generated_form_and_followed_on_the_timeline(
    open_page: Any, member: Any, http_api: str, pump: Any, today: date
) -> None:
    page = open_page().page
    sign_in(page, member.username, member.password)
    catalog = api_get(http_api, member.headers, "/catalog")
    filed: dict[str, str] = {}
    for request_type in REQUEST_TYPES:
        entry = _catalog_entry(catalog, request_type.type)
        if request_type.type.startswith("contact."):
            page.goto("/#/echanger")  # the contact form is « Échanger avec Génération »
        else:
            page.goto("/#/demarches")
            page.get_by_role("link", name=entry["label"], exact=True).click()
        page.get_by_role("heading", level=1).wait_for()
        choose_beneficiary(page)
        fill_data(page, request_type.data_model.example(today))
        if entry["description_required"]:
            page.locator('[name="description"]').fill("Merci de traiter ma demande.")
        files = page.locator('input[type=file][name="upload_ids"]')
        if entry["attachments_allowed"]:
            files.set_input_files([a_pdf(f"{request_type.type}.pdf")])
        else:
            expect(files).to_have_count(0)
        page.locator("form button[type=submit]").click()
        filed[request_type.type] = request_id_after_filing(page)

    pump.drain()
    statuses = {s["code"]: s for s in catalog["statuses"]}
    page.goto("/#/suivi")
    page.locator(".frise a").first.wait_for()
    for code, request_id in filed.items():
        request = api_get(http_api, member.headers, f"/requests/{request_id}")
        assert request["type"] == code
        entry = _catalog_entry(catalog, code)
        assert len(request["attachments"]) == (1 if entry["attachments_allowed"] else 0), code
        link = page.locator(f'.frise a[data-request="{request_id}"]')
        expect(link).to_contain_text(request["label"])
        icon = link.locator("img[data-icon]")
        expect(icon).to_have_attribute("data-icon", statuses[request["status"]]["icon"])
        assert icon.evaluate("img => img.complete && img.naturalWidth > 0"), code
        expect(link).to_contain_text(statuses[request["status"]]["label"])

        link.click()
        detail = page.locator(".detail")
        expect(detail.get_by_role("heading", level=2)).to_have_text(request["label"])
        detail.get_by_text("Voir le rappel de ma demande").click()
        recall = detail.locator("dl.rappel").first
        schema = entry["data_schema"]
        for field in request["recall"]["data"]:
            title = schema["properties"][field].get("title", field)
            expect(recall.locator("dt", has_text=title).first).to_be_visible()
        for attachment in request["attachments"]:
            expect(
                detail.get_by_role("button", name=attachment["filename"], exact=False)
            ).to_be_visible()


def test_a_double_click_files_once(open_page: Any, member: Any, http_api: str) -> None:
    page = open_page().page
    sign_in(page, member.username, member.password)
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.url) if r.method == "POST" and r.url.endswith("/requests") else None
        ),
    )
    page.goto("/#/demarches/vie.autre")
    choose_beneficiary(page)
    # As long as the API takes (4,000 characters): the form cut it at 2,000.
    description = ("Je souhaite recevoir mon tableau de garanties. " * 90)[:4000]
    page.locator('[name="description"]').fill(description)
    page.locator("form button[type=submit]").dblclick()
    request_id = request_id_after_filing(page)
    page.wait_for_timeout(300)  # a second submission, if any, would have left by now
    timeline = api_get(http_api, member.headers, "/requests")
    filed = [r for m in timeline["months"] for r in m["requests"]]
    assert len(filed) == 1, filed
    assert len(posts) == 1, posts
    detail = api_get(http_api, member.headers, f"/requests/{request_id}")
    assert detail["recall"]["description"] == description.strip()


def test_the_apis_errors_are_shown_next_to_the_fields_they_name(
    open_page: Any, member: Any, http_api: str
) -> None:
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.coordonnees_bancaires")
    choose_beneficiary(page)
    fill_data(page, {"iban": "FR76 3000 6000 0112 3456 7890 188", "holder_name": "Alice Martin"})
    page.locator('input[type=file][name="upload_ids"]').set_input_files([a_pdf("rib.pdf")])
    page.get_by_role("button", name="Envoyer ma demande").click()

    iban = page.locator('[data-field="data.iban"]')
    expect(iban.locator(".erreur")).to_be_visible()  # the API's 422 names `data.iban`
    expect(iban.locator("input")).to_have_attribute("aria-invalid", "true")
    message_id = iban.locator(".erreur").get_attribute("id")
    assert message_id in (iban.locator("input").get_attribute("aria-describedby") or "")
    expect(page.locator(".resume-erreurs")).to_be_focused()
    # the file went to the bucket first, its progress shown to the end
    expect(page.locator(".progressions progress")).to_have_js_property("value", 100)
    expect(page.locator(".progressions")).to_contain_text("envoyé")

    page.locator('input[type=file][name="upload_ids"]').set_input_files(
        [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"pas un PDF"}]
    )
    page.get_by_role("button", name="Envoyer ma demande").click()
    files = page.locator('[data-field="upload_ids"]')
    expect(files.locator(".erreur")).to_be_visible()  # POST /uploads refused the type (415)
    expect(files.locator("input")).to_have_attribute("aria-invalid", "true")
    timeline = api_get(http_api, member.headers, "/requests")
    assert timeline["months"] == []


def test_a_required_field_left_empty_is_said_required_and_drawn_in_red(
    open_page: Any, member: Any
) -> None:
    """Sent empty, the fields came back « Date des soins : Date invalide (AAAA-MM-JJ). »,
    « Montant : Format invalide. », « Nature des soins : Valeur non admise. », as if the member
    had typed them wrong (the form sent "" for each); and the red border of an invalid field
    showed on selects only (the inputs' own border rule outweighed it)."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/sante.justificatif")
    choose_beneficiary(page)
    page.get_by_role("button", name="Envoyer ma demande").click()
    for name in ("care_date", "amount", "care_type"):
        field = page.locator(f'[data-field="data.{name}"]')
        expect(field.locator(".erreur")).to_have_text("Champ requis.")
    date_input = page.locator('[data-field="data.care_date"] input')
    expect(date_input).to_have_attribute("aria-invalid", "true")
    assert date_input.evaluate("e => getComputedStyle(e).borderTopWidth") == "2px"


def test_a_refused_file_is_named_by_its_name_next_to_the_file_field(
    open_page: Any, member: Any, http_api: str
) -> None:
    """A file whose bytes are not its type is refused by `POST /requests` on `upload_ids[0]`
    « Pièce jointe 01J…: … »: the message went to the top of the form alone, naming an id the
    member never saw. And a file `POST /uploads` refused stayed « en attente » in the list."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.autre")
    choose_beneficiary(page)
    page.get_by_label("Décrivez votre demande").fill("Voici mon attestation d'employeur.")
    files = page.locator('[data-field="upload_ids"]')
    chooser = files.locator("input[type=file]")
    chooser.set_input_files(
        [
            a_pdf("attestation.pdf"),
            {"name": "faux.pdf", "mimeType": "application/pdf", "buffer": b"pas un PDF"},
        ]
    )
    page.get_by_role("button", name="Envoyer ma demande").click()
    said = files.locator(".erreur")
    expect(said).to_be_visible()
    expect(said).to_contain_text("« faux.pdf »")
    expect(said).not_to_contain_text(re.compile(r"[0-9A-Z]{26}"))
    expect(chooser).to_have_attribute("aria-invalid", "true")
    # the input is visually hidden: the control seen, « Choisir des fichiers », says it too
    expect(files.locator("label.bouton")).to_have_css("border-top-color", "rgb(176, 0, 32)")
    summary = page.locator(".resume-erreurs")
    expect(summary).to_be_focused()
    expect(summary.locator("p").first).to_have_text("Votre demande n'a pas pu être envoyée :")
    expect(summary.get_by_role("link")).to_contain_text("Pièces jointes")
    assert api_get(http_api, member.headers, "/requests")["months"] == []

    chooser.set_input_files(
        [
            a_pdf("attestation.pdf"),
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"pas un PDF"},
        ]
    )
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(said).to_be_visible()
    expect(page.locator(".progressions li").nth(0)).to_contain_text("envoyé")
    expect(page.locator(".progressions li").nth(1)).to_contain_text("refusé")


def test_an_amount_is_typed_and_read_back_the_french_way(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    """« 42,50 », as a member writes it, was refused « Montant : Format invalide. » (the agents'
    console took it); and the recall showed « 42.50 » where the letters say « 42,50 € »."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/sante.justificatif")
    choose_beneficiary(page)
    care_date = (today - timedelta(days=2)).isoformat()
    fill_data(page, {"care_date": care_date, "amount": "1 250,5", "care_type": "dentaire"})
    page.locator('input[type=file][name="upload_ids"]').set_input_files([a_pdf()])
    page.get_by_role("button", name="Envoyer ma demande").click()
    request_id = request_id_after_filing(page)
    filed = api_get(http_api, member.headers, f"/requests/{request_id}")
    assert filed["recall"]["data"]["amount"] == "1250.50"

    page.get_by_role("link", name="Suivre cette demande").click()
    page.locator(".detail").get_by_text("Voir le rappel de ma demande").click()
    recall = page.locator(".detail dl.rappel")
    amount = recall.locator("dt", has_text="Montant").locator("xpath=following-sibling::dd[1]")
    expect(amount).to_have_text(re.compile(r"^1\s250,50\s€$"))


def test_the_recall_shows_the_date_filed_wherever_the_member_is(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    """A date is a day, not a moment: the recall read « 2026-11-26 » as noon UTC in the
    browser's zone, so a member in Wallis-et-Futuna (UTC+12) read the care date a day late."""
    care_date = today - timedelta(days=3)
    request_id = file_via_api(
        http_api,
        member.headers,
        a_reimbursement(member.member_id, care_date.isoformat()),
        with_file=True,
    )
    page = open_page(timezone_id="Pacific/Wallis").page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{request_id}")
    page.locator(".detail").get_by_text("Voir le rappel de ma demande").click()
    recall = page.locator(".detail dl.rappel")
    shown = recall.locator("dt", has_text="Date des soins").locator(
        "xpath=following-sibling::dd[1]"
    )
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]  # fmt: skip
    day = "1er" if care_date.day == 1 else str(care_date.day)
    said = f"{day} {months[care_date.month - 1]} {care_date.year}"
    expect(shown).to_have_text(said)


def test_a_chosen_file_can_be_taken_back_before_sending(
    open_page: Any, member: Any, http_api: str
) -> None:
    """A file input lets a member choose files, never take one back (Chromium keeps the choice
    when the picker is cancelled): a file refused for its size could not be left out but by
    choosing all the others again, and an optional attachment chosen by mistake not at all."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.autre")
    choose_beneficiary(page)
    page.get_by_label("Décrivez votre demande").fill("Voici mon attestation d'employeur.")
    files = page.locator('[data-field="upload_ids"]')
    big = {"name": "gros.pdf", "mimeType": "application/pdf", "buffer": PDF + b"0" * 5_300_000}
    files.locator("input[type=file]").set_input_files([a_pdf("attestation.pdf"), big])
    chosen = files.locator(".progressions li")
    expect(chosen).to_have_count(2)
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(files.locator(".erreur")).to_be_visible()  # 5 Mo au plus
    files.get_by_role("button", name="Retirer gros.pdf").click()
    expect(chosen).to_have_count(1)
    expect(chosen).to_contain_text("attestation.pdf")
    expect(files.get_by_role("button", name="Retirer attestation.pdf")).to_be_focused()
    page.get_by_role("button", name="Envoyer ma demande").click()
    request_id = request_id_after_filing(page)
    filed = api_get(http_api, member.headers, f"/requests/{request_id}")
    assert [a["filename"] for a in filed["attachments"]] == ["attestation.pdf"]

    page.get_by_role("link", name="Effectuer une autre démarche").click()
    page.get_by_role("link", name="Transmission ou obtention d’autres informations").click()
    choose_beneficiary(page)
    page.get_by_label("Décrivez votre demande").fill("Pouvez-vous m'envoyer mon échéancier ?")
    files.locator("input[type=file]").set_input_files([a_pdf("sans-rapport.pdf")])
    files.get_by_role("button", name="Retirer sans-rapport.pdf").click()
    expect(chosen).to_have_count(0)
    expect(files.locator("input[type=file]")).to_be_focused()
    page.get_by_role("button", name="Envoyer ma demande").click()
    request_id = request_id_after_filing(page)
    assert api_get(http_api, member.headers, f"/requests/{request_id}")["attachments"] == []


def test_the_file_picker_reads_in_french_whatever_the_browsers_language(
    open_page: Any, member: Any
) -> None:
    """A file input's button and status (« Choose Files », « No file chosen ») are drawn by the
    browser in its own language: a member with an English browser read English in a French
    portal. The portal's own French control opens the picker; the input stays the one focused."""
    page = open_page(locale="en-US").page
    assert page.evaluate("navigator.language") == "en-US"
    sign_in(page, member.username, member.password)
    # Playwright intercepts the picker only once something listens for it: a key pressed just
    # after `expect_file_chooser` began sometimes beat the interception (a click's checks never).
    page.on("filechooser", lambda _: None)
    page.goto("/#/demarches/vie.autre")
    choose_beneficiary(page)
    files = page.locator('[data-field="upload_ids"]')
    picker = files.locator("input[type=file]")
    shown = files.get_by_text("Choisir des fichiers", exact=True)
    expect(shown).to_be_visible()
    # the browser's own button and status are not drawn: the input is one clipped pixel
    box = picker.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1, box
    assert picker.evaluate("e => getComputedStyle(e).clipPath !== 'none' || "
                           "getComputedStyle(e).clip !== 'auto'")  # fmt: skip
    # still the real input, named in French, reached with Tab, its focus shown on the control
    expect(picker).to_have_attribute("multiple", "")
    expect(picker).to_have_attribute("accept", "application/pdf,image/jpeg,image/png,image/gif")
    expect(picker).to_have_accessible_name("Pièces jointes Choisir des fichiers")
    outline = "e => getComputedStyle(e).outlineStyle"
    assert shown.evaluate(outline) == "none"
    page.get_by_label("Décrivez votre demande").fill("Voici mes justificatifs.")
    page.keyboard.press("Tab")
    expect(picker).to_be_focused()
    assert shown.evaluate(outline) == "solid"

    with page.expect_file_chooser() as opened:
        page.keyboard.press("Space")
    chooser = opened.value
    assert chooser.is_multiple()
    chooser.set_files([a_pdf("facture.pdf"), a_pdf("ordonnance.pdf")])
    chosen = files.locator(".progressions li")
    expect(chosen).to_have_count(2)
    expect(chosen.nth(0)).to_contain_text("facture.pdf")
    expect(chosen.nth(1)).to_contain_text("ordonnance.pdf")

    picker.focus()
    with page.expect_file_chooser() as opened:
        page.keyboard.press("Enter")
    opened.value.set_files([a_pdf("devis.pdf")])
    expect(chosen).to_have_count(1)
    expect(chosen).to_contain_text("devis.pdf")

    with page.expect_file_chooser() as opened:
        shown.click()
    opened.value.set_files([a_pdf("attestation.pdf")])
    expect(chosen).to_have_count(1)
    expect(chosen).to_contain_text("attestation.pdf")
    assert axe_violations(page) == []
