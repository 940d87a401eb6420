"""The portal when things go wrong or race (found in review, stop 18): a slow answer, a failed
withdrawal, a limit, the e-mails' link, an empty contact form, SMS chosen without a mobile; each
failed before its fix."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import requests
from playwright.sync_api import Route, expect
from portal_pages import (
    PDF,
    a_pdf,
    a_reimbursement,
    api_get,
    axe_violations,
    choose_beneficiary,
    file_via_api,
    sign_in,
)


def _other(member_id: str) -> dict[str, Any]:
    return {
        "type": "vie.autre",
        "beneficiary_ids": [f"{member_id}-01"],
        "description": "Je souhaite recevoir mon tableau de garanties.",
    }


def test_a_slow_detail_does_not_paint_over_the_request_clicked_next(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    slow_id = file_via_api(http_api, member.headers, _other(member.member_id))
    care_date = (today - timedelta(days=3)).isoformat()
    fast_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/suivi")
    page.locator(f'.frise a[data-request="{slow_id}"]').wait_for()
    held: list[Route] = []
    page.route(re.compile(rf".*/requests/{slow_id}$"), lambda route: held.append(route))
    page.locator(f'.frise a[data-request="{slow_id}"]').click()
    page.wait_for_timeout(300)
    page.locator(f'.frise a[data-request="{fast_id}"]').click()
    detail = page.locator(".detail")
    expect(detail.get_by_role("heading", level=2)).to_have_text(
        "Envoi de justificatif de remboursement"
    )
    assert held, "the first detail's request was not held"
    held[0].continue_()
    page.wait_for_timeout(1500)
    expect(page.locator(f'.frise a[data-request="{fast_id}"]')).to_have_attribute(
        "aria-current", "true"
    )
    expect(detail.get_by_role("heading", level=2)).to_have_text(
        "Envoi de justificatif de remboursement"
    )


def _withdrawal_cut_off_once(open_page: Any, member: Any, http_api: str) -> tuple[Any, Any]:
    """A request filed, its detail open, « Retirer ma demande » clicked, and the withdrawal's
    first call cut off (the network gone), the next ones let through: the watched page and
    the detail."""
    request_id = file_via_api(http_api, member.headers, _other(member.member_id))
    watched = open_page()
    page = watched.page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{request_id}")
    failures = {"left": 1}

    def once(route: Route) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(r".*/withdrawal$"), once)
    detail = page.locator(".detail")
    detail.get_by_role("button", name="Retirer ma demande").click()
    return watched, detail


def test_a_withdrawal_that_failed_once_can_be_retried(
    open_page: Any, member: Any, http_api: str
) -> None:
    _, detail = _withdrawal_cut_off_once(open_page, member, http_api)
    detail.get_by_role("button", name="Confirmer le retrait").click()
    expect(detail.get_by_role("alert")).to_contain_text("Le service ne répond pas")
    detail.get_by_role("button", name="Retirer ma demande").click()
    expect(detail.get_by_role("button", name="Confirmer le retrait")).to_be_enabled(timeout=3000)


def test_the_timeline_shows_a_withdrawn_request_as_withdrawn(
    open_page: Any, member: Any, http_api: str
) -> None:
    request_id = file_via_api(http_api, member.headers, _other(member.member_id))
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{request_id}")
    detail = page.locator(".detail")
    detail.get_by_role("button", name="Retirer ma demande").click()
    detail.get_by_role("button", name="Confirmer le retrait").click()
    expect(detail.locator("[data-status]").first).to_have_text("Retirée")
    entry = page.locator(f'.frise a[data-request="{request_id}"]')
    expect(entry.locator("img[data-icon]")).to_have_attribute("data-icon", "retire", timeout=3000)


def test_the_unused_uploads_limit_is_explained_as_the_api_says(
    open_page: Any, member: Any, http_api: str
) -> None:
    for n in range(20):
        answer = requests.post(
            http_api + "/uploads",
            headers=member.headers,
            json={"filename": f"f{n}.pdf", "content_type": "application/pdf", "size": len(PDF)},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
    probe = requests.post(
        http_api + "/uploads",
        headers=member.headers,
        json={"filename": "x.pdf", "content_type": "application/pdf", "size": len(PDF)},
        timeout=30,
    )
    assert probe.status_code == 429, probe.text
    api_message = probe.json()["error"]["message"]
    assert probe.headers.get("Retry-After")
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.autre")
    choose_beneficiary(page)
    page.locator('[name="description"]').fill("Ci-joint mon attestation.")
    page.locator('input[type=file][name="upload_ids"]').set_input_files([a_pdf("attestation.pdf")])
    page.get_by_role("button", name="Envoyer ma demande").click()
    files = page.locator('[data-field="upload_ids"] .erreur')
    expect(files).to_be_visible()
    expect(files).to_have_text(api_message)


def test_the_emails_preferences_link_opens_the_preferences(
    open_page: Any, member: Any, portal: Any
) -> None:
    from chalicelib.routing import notifications

    page = open_page().page
    sign_in(page, member.username, member.password)
    path = notifications.preferences_url().split("8080", 1)[-1]
    assert path == "/#/preferences"  # the portal is one page: /me/preferences was a 404
    page.goto(portal.url + path)
    expect(page.get_by_role("heading", name="Mes préférences")).to_be_visible(timeout=3000)


def test_a_missing_detail_on_the_contact_form_is_shown_next_to_detail(
    open_page: Any, member: Any
) -> None:
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/echanger")
    page.get_by_role("heading", level=1, name="Échanger avec Génération").wait_for()
    page.get_by_label("Sujet de la demande").select_option(label="Mes remboursements")
    choose_beneficiary(page)
    page.get_by_label("Décrivez votre demande").fill("Où en est mon remboursement ?")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    summary = page.locator(".resume-erreurs")
    expect(summary).to_be_visible()
    detail = page.locator('[data-field="data.detail"]')
    expect(detail.locator(".erreur")).to_be_visible(timeout=3000)
    expect(detail.locator("select")).to_have_attribute("aria-invalid", "true")


def test_the_member_sees_who_consulted_their_file_and_takes_their_data(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any
) -> None:
    """« see who consulted their file, and take their data with them »: the API had both
    (`GET /me/access-log`, `POST /me/exports`), no screen of the portal reached either."""
    import zipfile

    request_id = file_via_api(http_api, member.headers, _other(member.member_id))
    pump.drain()
    consulted = requests.get(
        f"{http_api}/backoffice/members/{member.member_id}/requests/{request_id}",
        headers=agent_everywhere.headers,
        timeout=30,
    )
    assert consulted.status_code == 200, consulted.text
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.get_by_role("link", name="Mes données personnelles").click()
    expect(page.get_by_role("heading", level=1, name="Mes données personnelles")).to_be_focused()
    entry = page.locator(f'.journal li[data-request="{request_id}"]')
    expect(entry).to_contain_text("Consultation de votre demande")
    expect(entry).to_contain_text("Service Adhésion")  # vie.autre is its to handle
    page.get_by_role("button", name="Préparer l'archive de mes données").click()
    expect(page.locator("main [role=status]")).to_contain_text("Préparation")
    pump.drain()  # the export's function builds the archive
    link = page.get_by_role("link", name="télécharger mes données (zip)")
    expect(link).to_be_visible(timeout=10_000)
    # Signed again at each click: its first link lives a few minutes, the archive 24 hours.
    with (
        page.expect_request(lambda r: "/me/exports/" in r.url and r.method == "GET"),
        page.expect_download() as got,
    ):
        link.click()
    with open(got.value.path(), "rb") as archive:
        assert "README.txt" in zipfile.ZipFile(archive).namelist()


def test_asking_again_for_an_archive_being_prepared_follows_it(
    open_page: Any, member: Any, http_api: str, pump: Any
) -> None:
    """The member asked for their archive, left before it was ready and asked again: the
    second ask answered « déjà en préparation » and nothing more, the first archive out of
    reach. The portal follows the one being prepared (the 409's `Location`) and offers it."""
    asked = requests.post(f"{http_api}/me/exports", headers=member.headers, json={}, timeout=30)
    assert asked.status_code == 202, asked.text
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.get_by_role("link", name="Mes données personnelles").click()
    page.get_by_role("button", name="Préparer l'archive de mes données").click()
    expect(page.locator("main [role=status]")).to_contain_text("déjà en préparation")
    expect(page.locator(".resume-erreurs")).to_have_count(0)
    pump.drain()  # the export's function builds the first archive
    link = page.get_by_role("link", name="télécharger mes données (zip)")
    expect(link).to_be_visible(timeout=10_000)
    href = str(link.get_attribute("href"))
    assert f"/{asked.json()['export_id']}.zip" in href  # the archive asked first
    assert requests.get(href, timeout=30).status_code == 200


def test_an_expired_session_is_said_and_brings_the_member_back_to_what_they_typed(
    open_page: Any, member: Any
) -> None:
    """The ID token's hour ran out on the form: the sign-in page came with no word of why,
    and the member landed on « Mes démarches », the text gone."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.autre")
    choose_beneficiary(page)
    text = "Un long texte que j'ai mis dix minutes à écrire."
    page.locator('[name="description"]').fill(text)
    page.evaluate(
        """() => { const k = 'generation.session'; const s = JSON.parse(sessionStorage.getItem(k));
                   s.claims.exp = Math.floor(Date.now() / 1000) - 60;
                   sessionStorage.setItem(k, JSON.stringify(s)); }"""
    )
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.get_by_role("heading", name="Connexion à votre espace adhérent").wait_for()
    expect(page.get_by_role("alert")).to_contain_text("Votre session a expiré")
    page.get_by_label("Identifiant").fill(member.username)
    page.get_by_label("Mot de passe").fill(member.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"#/demarches/vie\.autre$"))
    expect(page.locator('[name="description"]')).to_have_value(text)
    chosen = page.locator('main input[type="checkbox"][name="beneficiary_ids"]').first
    expect(chosen).to_be_checked()


def test_a_lost_answer_then_an_edited_retry_is_not_a_dead_end(
    open_page: Any, member: Any, http_api: str
) -> None:
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.autre")
    choose_beneficiary(page)
    description = page.locator('[name="description"]')
    description.fill("Je souhaite recevoir mon tableau de garanties.")
    lost = {"left": 1}

    def lose_answer(route: Route) -> None:
        if route.request.method == "POST" and lost["left"]:
            lost["left"] -= 1
            route.fetch()  # the API files it…
            route.abort("connectionreset")  # …and the answer never reaches the browser
        else:
            route.continue_()

    page.route(re.compile(r".*/requests$"), lose_answer)
    page.get_by_role("button", name="Envoyer ma demande").click()
    summary = page.locator(".resume-erreurs")
    expect(summary).to_contain_text("Le service ne répond pas")
    description.fill("Je souhaite recevoir mon tableau de garanties 2026.")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(summary).to_be_visible()
    filed = [
        r for m in api_get(http_api, member.headers, "/requests")["months"] for r in m["requests"]
    ]
    assert len(filed) == 1  # the first attempt did file it
    # The member must not be told it was not sent, in idempotency jargon, with no way out.
    expect(summary).not_to_contain_text("Déjà utilisée avec un autre contenu")
    expect(summary).to_contain_text("Le suivi des demandes")
    page.get_by_role("button", name="Envoyer ma demande").click()  # sent again, knowingly
    expect(
        page.get_by_role("heading", name=re.compile("envoyée|enregistrée", re.I))
    ).to_be_visible()


def test_voir_plus_adds_each_practitioner_once_and_only_to_its_own_search(
    open_page: Any, member: Any, local_stack: Any
) -> None:
    """« Voir plus » clicked twice sent the same cursor twice and listed its page twice; a page
    still coming when the member searched again was added to the new search's list."""
    from infra.professionals_seed import seed_professionals

    seed_professionals(frozenset({"75", "13"}))
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/professionnels")
    form = page.locator("form")
    items = page.locator("ol.professionnels li")
    more = page.get_by_role("button", name="Voir plus")

    def search(specialty: str, postal_code: str) -> None:
        form.get_by_label("Spécialité").select_option(specialty)
        form.get_by_label("Code postal").fill(postal_code)
        form.get_by_role("button", name="Rechercher").click()

    search("opticien", "75011")
    expect(items).to_have_count(20)
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "cursor=" in r.url else None)
    more.dblclick()
    expect(more).to_be_hidden()  # Paris has 24 opticians: the second page is the last
    page.wait_for_timeout(500)  # a second page, if any, would have been added by now
    texts = items.all_inner_texts()
    assert len(pages) == 1, pages
    assert len(texts) == len(set(texts)) == 24

    # A « Voir plus » held back while the member searches elsewhere.
    search("pharmacien", "75011")
    expect(items).to_have_count(20)
    held: list[Route] = []
    page.route(re.compile(r".*/professionals\?cursor=.*"), lambda route: held.append(route))
    more.click()
    page.wait_for_timeout(300)
    assert held, "the next page's request was not held"
    search("pharmacien", "13001")
    expect(page.get_by_text("Autour de Marseille 1er Arrondissement")).to_be_visible()
    held[0].continue_()
    page.wait_for_timeout(1500)
    listed = items.all_inner_texts()
    assert listed and all(re.search(r", 13[0-9]{3} ", text) for text in listed), listed


def test_no_partner_found_offers_a_wider_radius_only_where_one_is_left(
    open_page: Any, member: Any
) -> None:
    """« Élargissez le rayon » was said at the widest radius too (Saint-Barthélemy: no partner
    within 100 km, whatever the member chooses)."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/professionnels")
    form = page.locator("form")
    results = page.locator(".resultats")
    form.get_by_label("Spécialité").select_option("opticien")
    form.get_by_label("Code postal").fill("97133")
    form.get_by_role("button", name="Rechercher").click()
    expect(results).to_have_text("Aucun professionnel partenaire trouvé. Élargissez le rayon.")
    form.get_by_label("Rayon").select_option("100")
    form.get_by_role("button", name="Rechercher").click()
    expect(results).to_have_text("Aucun professionnel partenaire trouvé à moins de 100 km.")


def test_voir_plus_adds_each_month_of_the_timeline_once_and_only_to_its_own_filter(
    open_page: Any, historian: Any
) -> None:
    """The timeline's « Voir plus » clicked twice sent the same cursor twice and listed its
    months twice; a page still coming when the member filtered was added under the filter."""
    from tests.conftest import PASSWORD

    page = open_page().page
    sign_in(page, historian.who.username, PASSWORD)
    page.goto("/#/suivi")
    months = page.locator(".frise .mois h3")
    more = page.get_by_role("button", name="Voir plus")
    expect(months).to_have_count(6)  # a page holds the 6 newest months that hold requests
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "cursor=" in r.url else None)
    more.dblclick()
    expect(months).not_to_have_count(6)
    page.wait_for_timeout(1000)  # a second page, if any, would have been added by now
    listed = months.all_inner_texts()
    assert len(pages) == 1, pages
    assert len(listed) == len(set(listed)), listed
    # the focus goes to the first request the page added
    expect(page.locator(".frise .mois").nth(6).locator("a").first).to_be_focused()

    # A « Voir plus » held back while the member filters.
    held: list[Route] = []
    page.route(re.compile(r".*/requests\?.*cursor=.*"), lambda route: held.append(route))
    more.click()
    page.wait_for_timeout(300)
    assert held, "the next page's request was not held"
    filters = page.locator("form.filtres")
    filters.get_by_label("Type de demande").select_option("sante.devis")
    filters.get_by_role("button", name="Filtrer").click()
    requests_shown = page.locator(".frise a.demande")
    expect(requests_shown.first).to_have_attribute("data-type", "sante.devis")
    held[0].continue_()
    page.wait_for_timeout(1500)
    types = requests_shown.evaluate_all("all => all.map(a => a.dataset.type)")
    assert types and set(types) == {"sante.devis"}, types


def test_voir_plus_adds_each_page_of_the_access_log_once(
    open_page: Any, member: Any, agent_everywhere: Any, http_api: str, pump: Any, today: date
) -> None:
    """« Mes données personnelles »: « Voir plus » clicked twice listed its page twice."""
    care_date = (today - timedelta(days=3)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    pump.drain()
    for _ in range(25):  # a consultation each: more than a page (20)
        api_get(http_api, agent_everywhere.headers,
                f"/backoffice/members/{member.member_id}/requests/{request_id}")  # fmt: skip
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/donnees")
    entries = page.locator("ol.journal > li")
    more = page.get_by_role("button", name="Voir plus")
    expect(entries).to_have_count(20)
    pages: list[str] = []
    page.on("request", lambda r: pages.append(r.url) if "cursor=" in r.url else None)
    more.dblclick()
    expect(more).to_be_hidden()
    page.wait_for_timeout(1000)  # a second page, if any, would have been added by now
    assert len(pages) == 1, pages
    expect(entries).to_have_count(25)


def test_a_member_without_a_mobile_learns_it_before_saving_and_the_refusal_is_by_the_box(
    open_page: Any, member_with_a_landline_only: Any, http_api: str
) -> None:
    """SMS reach a mobile only: the box says so and where to add one; ticked anyway, the API's
    422 on `sms` is shown next to it, the summary says the preferences were not saved (it
    said a request was not sent), and nothing is stored."""
    member = member_with_a_landline_only
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/preferences")
    sms = page.get_by_label("Être prévenu(e) par SMS (jamais la nuit)")
    hint = (
        "Aucun numéro de portable enregistré : ajoutez-en un par la démarche « Modification de "
        "vos coordonnées de contact ou postales » pour recevoir des SMS."
    )
    expect(sms).to_have_accessible_description(hint)
    sms.check()
    page.get_by_role("button", name="Enregistrer").click()
    refusal = page.locator('[data-field="sms"] .erreur')
    expect(refusal).to_have_text(
        "Aucun numéro de portable n'est enregistré dans vos coordonnées : ajoutez-en un pour "
        "recevoir des SMS."
    )
    expect(sms).to_have_attribute("aria-invalid", "true")
    summary = page.locator(".resume-erreurs")
    expect(summary).to_be_focused()
    expect(summary.locator("p").first).to_have_text(
        "Vos préférences n'ont pas pu être enregistrées :"
    )
    expect(summary.get_by_role("link")).to_have_text(
        "Être prévenu(e) par SMS (jamais la nuit) : Aucun numéro de portable n'est enregistré "
        "dans vos coordonnées : ajoutez-en un pour recevoir des SMS."
    )
    expect(page.locator("form [role=status]")).to_have_text("")
    assert axe_violations(page) == []  # the hint and the refusal, by the box
    assert api_get(http_api, member.headers, "/me/preferences")["sms"] is False
    page.get_by_role("link", name="Modification de vos coordonnées de contact ou postales").click()
    expect(page).to_have_url(re.compile(r"#/demarches/vie\.coordonnees$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Modification de vos coordonnées de contact ou postales"
    )


def test_a_wrong_password_is_said_as_a_failed_sign_in_not_as_a_request_not_sent(
    open_page: Any, member: Any
) -> None:
    """Each form's error summary names what failed: signing in is not sending a request."""
    page = open_page().page
    page.goto("/#/connexion")
    page.get_by_label("Identifiant").fill(member.username)
    page.get_by_label("Mot de passe").fill("Pas-le-bon-mot-de-passe-2026")
    page.get_by_role("button", name="Se connecter").click()
    summary = page.locator(".resume-erreurs")
    expect(summary).to_be_focused()
    expect(summary.locator("p").first).to_have_text("La connexion n'a pas abouti :")
    expect(summary.get_by_role("link")).to_have_text(
        "Mot de passe : Identifiant ou mot de passe incorrect."
    )
    expect(page.get_by_label("Mot de passe")).to_have_attribute("aria-invalid", "true")


def test_the_focus_stays_where_the_member_acted_after_saving_or_a_refusal(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    """A form's button is disabled while its submission runs, and Chromium drops the focus of a
    disabled button to the page: after « Enregistrer » (preferences) the keyboard started again
    from the top of the page; so after a withdrawal refused."""
    care_date = (today - timedelta(days=3)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    watched = open_page()
    page = watched.page
    sign_in(page, member.username, member.password)
    page.goto("/#/preferences")
    sms = page.get_by_label("Être prévenu(e) par SMS (jamais la nuit)")
    expect(sms).to_have_accessible_description("")  # a mobile on file: nothing to say
    sms.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    save = page.get_by_role("button", name="Enregistrer")
    expect(save).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("form [role=status]")).to_have_text("Vos préférences sont enregistrées.")
    expect(save).to_be_focused()
    assert api_get(http_api, member.headers, "/me/preferences")["sms"] is True

    page.goto(f"/#/suivi/{request_id}")
    detail = page.locator(".detail")
    page.route(
        re.compile(rf".*/requests/{request_id}/withdrawal$"),
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"error": {"code": "unavailable", "message": "Service indisponible."}}',
        ),
    )
    detail.get_by_role("button", name="Retirer ma demande").click()
    confirm = detail.get_by_role("button", name="Confirmer le retrait")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    expect(detail.get_by_role("alert")).to_contain_text("Service indisponible.")
    expect(confirm).to_be_focused()  # said beside it: Enter tries again


def test_a_failure_said_at_the_top_goes_once_the_member_acts_again(
    open_page: Any, member: Any, http_api: str
) -> None:
    """A withdrawal refused once, then confirmed again: the detail said « Retirée » under the
    first attempt's « Le service ne répond pas », still at the top of the page. It is said
    beside the actions now, and goes with the next attempt."""
    watched, detail = _withdrawal_cut_off_once(open_page, member, http_api)
    page = watched.page
    confirm = detail.get_by_role("button", name="Confirmer le retrait")
    confirm.click()
    said = detail.get_by_role("alert")
    expect(said).to_contain_text("Le service ne répond pas")
    confirm.click()
    expect(detail.locator("dl.resume")).to_contain_text("Retirée")
    expect(said).to_have_count(0)
    expect(page.locator(".bandeau-erreur")).to_have_count(0)
