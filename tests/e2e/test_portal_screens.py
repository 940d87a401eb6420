"""Every screen in Chromium: reachable and usable with the keyboard alone, free of serious
accessibility violations (axe-core), refused to pages of other origins (CORS); screenshots of
each with `make screenshots`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from playwright.sync_api import Page, expect
from portal_pages import (
    a_reimbursement,
    api_get,
    axe_violations,
    file_via_api,
    request_id_after_filing,
    screenshot,
    sign_in,
)


def _tab_to(page: Page, accessible_name: str, limit: int = 120) -> None:
    """Press Tab until the focused element's text or label is `accessible_name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; if (!e) return '';
                 const label = e.labels && e.labels[0] ? e.labels[0].textContent : '';
                 return (label || e.getAttribute('aria-label') || e.textContent || '').trim(); }"""
        )
        if focused == accessible_name or focused.startswith(accessible_name + " ("):
            return
    raise AssertionError(f"{accessible_name!r} not reached with Tab")


def test_a_demarche_is_filed_with_the_keyboard_alone(
    open_page: Any, member: Any, http_api: str
) -> None:
    page = open_page().page
    page.goto("/#/connexion")
    page.get_by_label("Identifiant").wait_for()
    _tab_to(page, "Identifiant")
    page.keyboard.type(member.username)
    page.keyboard.press("Tab")
    page.keyboard.type(member.password)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Mes démarches").wait_for()

    _tab_to(page, "Modification de vos coordonnées de contact ou postales")
    page.keyboard.press("Enter")
    page.get_by_role(
        "heading", name="Modification de vos coordonnées de contact ou postales"
    ).wait_for()
    _tab_to(page, "Alice Martin — Adhérent(e), né(e) le 14 mars 1984")
    page.keyboard.press("Space")
    _tab_to(page, "Téléphone")
    page.keyboard.type("06 11 22 33 44")
    _tab_to(page, "Envoyer ma demande")
    page.keyboard.press("Enter")
    request_id = request_id_after_filing(page)
    # the confirmation's heading has the focus, so a screen reader hears it
    expect(page.get_by_role("heading", name="Votre demande a bien été envoyée")).to_be_focused()
    filed = api_get(http_api, member.headers, f"/requests/{request_id}")
    assert filed["type"] == "vie.coordonnees"
    assert filed["recall"]["data"]["phone"] == "06 11 22 33 44"


def test_a_page_of_another_origin_is_refused_by_cors(
    open_page: Any, member: Any, http_api: str, portal: Any
) -> None:
    call = """async ([api, token]) => {
        try {
            const answer = await fetch(api + '/me', {headers: {Authorization: 'Bearer ' + token}});
            return 'read ' + answer.status;
        } catch (error) { return 'refused: ' + error.name; }
    }"""
    ours = open_page().page
    ours.goto("/")
    assert ours.evaluate(call, [http_api, member.token]) == "read 200"
    # the same server under another name is another origin, which the stage does not allow
    other_origin = portal.url.replace("127.0.0.1", "localhost")
    other = open_page(origin=other_origin).page
    other.goto("/")
    assert other.evaluate(call, [http_api, member.token]) == "refused: TypeError"


SCREENS_OF_A_MEMBER = [
    ("demarches", "/#/demarches", "Mes démarches"),
    (
        "formulaire-situation-familiale",
        "/#/demarches/vie.situation_familiale",
        "Changement de situation familiale",
    ),
    (
        "formulaire-justificatif",
        "/#/demarches/sante.justificatif",
        "Envoi de justificatif de remboursement",
    ),
    ("suivi", "/#/suivi", "Le suivi des demandes"),
    ("courriers", "/#/courriers", "Mes courriers et documents"),
    ("echanger", "/#/echanger", "Échanger avec Génération"),
    ("professionnels", "/#/professionnels", "Rechercher un professionnel de santé partenaire"),
    ("preferences", "/#/preferences", "Mes préférences"),
    ("informations", "/#/informations", "Mes informations"),
    ("donnees", "/#/donnees", "Mes données personnelles"),
]


def test_no_screen_has_a_serious_accessibility_violation(
    open_page: Any,
    member: Any,
    agent_everywhere: Any,
    http_api: str,
    pump: Any,
    today: date,
    local_stack: Any,
) -> None:
    from infra.professionals_seed import seed_professionals

    seed_professionals(frozenset({"75"}))
    care_date = (today - timedelta(days=4)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    file_via_api(
        http_api,
        member.headers,
        {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{member.member_id}-01"]},
    )
    pump.drain()  # the attestation is issued: a letter to list
    found: dict[str, list[dict[str, Any]]] = {}

    page = open_page().page
    page.goto("/#/connexion")
    page.get_by_label("Identifiant").wait_for()
    found["connexion"] = axe_violations(page)
    screenshot(page, "connexion")
    sign_in(page, member.username, member.password)
    for name, path, title in SCREENS_OF_A_MEMBER:
        page.goto(path)
        page.get_by_role("heading", name=title, level=1).wait_for()
        if name == "suivi":
            page.locator(f'.frise a[data-request="{request_id}"]').click()
            page.locator(".detail").get_by_text("Voir le rappel de ma demande").click()
        if name == "courriers":
            page.locator(".liste-documents li").first.wait_for()
        if name == "professionnels":
            page.get_by_label("Spécialité").select_option("opticien")
            page.get_by_label("Code postal").fill("75011")
            page.get_by_role("button", name="Rechercher").click()
            page.locator("ol.professionnels li").first.wait_for()
        found[name] = axe_violations(page)
        screenshot(page, name)
    page.goto("/#/demarches/vie.coordonnees_bancaires")
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.locator(".resume-erreurs").wait_for()
    found["erreurs"] = axe_violations(page)
    screenshot(page, "erreurs")

    console = open_page().page
    sign_in(console, agent_everywhere.username, agent_everywhere.password)
    console.goto("/#/console/remboursements/open")
    console.get_by_role("heading", name="Console des services — Remboursements").wait_for()
    found["console"] = axe_violations(console)
    screenshot(console, "console")
    console.goto(f"/#/console/dossier/{member.member_id}/{request_id}")
    console.get_by_role("heading", name="Envoi de justificatif de remboursement").wait_for()
    found["console-dossier"] = axe_violations(console)
    screenshot(console, "console-dossier")

    assert {name: v for name, v in found.items() if v} == {}


# What sticks out to the right of a 320 px wide window (WCAG 1.4.10, reflow): the innermost
# elements past the edge, named by tag, class and a bit of their text.
_STICKING_OUT = """() => {
    const edge = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= edge) return [];
    const out = [...document.querySelectorAll('main *')].filter(e => {
        const box = e.getBoundingClientRect();
        return box.width > 0 && box.right > edge + 1;
    });
    return out.filter(e => !out.some(o => o !== e && e.contains(o))).slice(0, 5)
        .map(e => `${e.tagName.toLowerCase()}.${e.className} `
            + `« ${(e.textContent || '').trim().slice(0, 30)} »`);
}"""


def test_every_screen_of_a_member_reads_at_320_px_without_scrolling_sideways(
    open_page: Any, member: Any, http_api: str, pump: Any, today: date
) -> None:
    """At 320 CSS pixels (a small phone, or 1280 zoomed to 400 %) nothing is wider than the
    window: the cards, a request's detail (its reference, its recall), the member's details
    and the partner search's specialties made the whole page scroll sideways."""
    care_date = (today - timedelta(days=4)).isoformat()
    request_id = file_via_api(
        http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
    )
    file_via_api(
        http_api,
        member.headers,
        {"type": "sante.attestation_tiers_payant", "beneficiary_ids": [f"{member.member_id}-01"]},
    )
    pump.drain()  # the attestation is issued: a letter to list
    page = open_page().page
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, member.username, member.password)
    wider: dict[str, list[str]] = {}
    for name, path, title in SCREENS_OF_A_MEMBER:
        page.goto(path)
        page.get_by_role("heading", name=title, level=1).wait_for()
        if name == "suivi":
            page.locator(f'.frise a[data-request="{request_id}"]').click()
            page.locator(".detail").get_by_text("Voir le rappel de ma demande").click()
            page.locator(".detail dl.rappel").wait_for()
        if name == "courriers":
            page.locator(".liste-documents li").first.wait_for()
        if name == "echanger":
            page.locator(".coordonnees li").first.wait_for()
        wider[name] = page.evaluate(_STICKING_OUT)
    too_wide = {name: out for name, out in wider.items() if out}
    assert not too_wide, "\n".join(f"{name}: {out}" for name, out in too_wide.items())


# Every computed property of two elements that differs, colours aside.
_DIFFERENT_BUT_COLOUR = """([a, b]) => {
    const one = getComputedStyle(a), other = getComputedStyle(b);
    return [...one].filter(p => !/color|background|caret|outline|fill|stroke/.test(p)
        && one.getPropertyValue(p) !== other.getPropertyValue(p));
}"""


def test_the_request_shown_is_marked_in_the_timeline_by_more_than_a_colour(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    """WCAG 1.4.1: the request whose detail is shown differed from the others in the history
    by its border's and background's colours alone."""
    care_date = (today - timedelta(days=4)).isoformat()
    shown, other = (
        file_via_api(
            http_api, member.headers, a_reimbursement(member.member_id, care_date), with_file=True
        )
        for _ in range(2)
    )
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{shown}")
    current = page.locator(f'.frise a[data-request="{shown}"]')
    expect(current).to_have_attribute("aria-current", "true")
    page.mouse.move(0, 0)  # no hover on either
    handles = [
        current.element_handle(),
        page.locator(f'.frise a[data-request="{other}"]').element_handle(),
    ]
    assert page.evaluate(_DIFFERENT_BUT_COLOUR, handles)


def test_voir_plus_goes_on_with_the_timeline_s_filters(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    """Eight months of attestations, and this month a question: filtered on the attestations,
    the first page shows six months of them, and « Voir plus » the two others. The page showed
    the five among its six months (this month's held none), and « Voir plus » listed every
    request of the next months, whatever their type (the cursor went without the filter); a
    filter that matched only older months showed « Aucune demande » above « Voir plus »."""
    from datetime import UTC, datetime

    from chalicelib.domain.requests import new_record, parse_new_request
    from chalicelib.services.filing import daily_limit
    from chalicelib.store.requests import RequestRepository
    from infra import seed

    attestation = {
        "type": "sante.attestation_tiers_payant",
        "beneficiary_ids": [f"{member.member_id}-01"],
    }
    _, people = seed.alice(today, member.member_id)
    now = datetime.now(UTC).replace(day=10, hour=12)
    months = []
    for back in range(1, 9):  # the eight months before this one
        when = (now.replace(day=1) - timedelta(days=back * 28)).replace(day=10)
        record = new_record(parse_new_request(attestation, when.date()), member.member_id,
                            people[:1], when)  # fmt: skip
        RequestRepository().prepare_create(record, when, limit=daily_limit("requests", 30, when))()
        months.append(record.request_id)
    question = {"type": "vie.autre", "beneficiary_ids": [f"{member.member_id}-01"],
                "description": "Une question"}  # fmt: skip
    file_via_api(http_api, member.headers, question)
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/suivi")
    listed = page.locator(".frise a[data-request]")
    expect(listed).to_have_count(6)  # this month's question and five months of attestations
    page.get_by_label("Type de demande").select_option(
        label="Édition de l’attestation de Tiers-Payant Santé"
    )
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator('.frise a[data-type="vie.autre"]')).to_have_count(0)
    expect(listed).to_have_count(6)
    page.get_by_role("button", name="Voir plus").click()
    expect(listed).to_have_count(8)
    expect(page.get_by_role("button", name="Voir plus")).to_be_hidden()
    shown = listed.evaluate_all("links => links.map((a) => [a.dataset.request, a.dataset.type])")
    assert sorted(request_id for request_id, _ in shown) == sorted(months)
    assert {kind for _, kind in shown} == {"sante.attestation_tiers_payant"}


def test_the_console_s_work_list_for_an_agent_who_is_a_member_too_on_a_small_phone(
    open_page: Any, member_and_agent: Any, member: Any, http_api: str, pump: Any
) -> None:
    """The agent's own request was linked, to a page saying « Un agent ne traite pas son propre
    dossier. »; a complaint read « RéclamationRéclamation »; and at 320 px the list made the
    whole page scroll sideways. The own one is listed, not linked, and said to be a
    colleague's; the tag goes on a complaint whose label does not say it; the list scrolls in
    its own box, which the keyboard reaches."""
    mine_id = member_and_agent.member_id
    question = {"type": "vie.autre", "description": "Une question",
                "beneficiary_ids": [f"{mine_id}-01"]}  # fmt: skip
    own = file_via_api(http_api, member_and_agent.headers, question)
    complaint = file_via_api(http_api, member.headers, {
        "type": "contact.demande", "complaint": True, "description": "Rien ne va.",
        "beneficiary_ids": [f"{member.member_id}-01"],
        "data": {"subject": "remboursements", "detail": "montant_conteste"},
    })  # fmt: skip
    pump.drain()
    page = open_page().page
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, member_and_agent.username, member_and_agent.password)
    page.goto("/#/console/adhesion/open")
    mine = _listed(page, own)
    expect(mine).to_have_text("Transmission ou obtention d’autres informations")
    assert mine.evaluate("e => e.tagName") == "SPAN"
    expect(mine.locator("xpath=..")).to_contain_text("Votre dossier : traité par un collègue")
    page.goto("/#/console/reclamations/open")
    cell = _listed(page, complaint).locator("xpath=..")
    expect(cell).to_contain_text("Réclamation")
    assert cell.inner_text().count("Réclamation") == 1
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 320
    region = page.get_by_role("region", name="Réclamations : À traiter")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")  # scrolled in its own box
    assert region.get_attribute("tabindex") == "0"


def _listed(page: Page, request_id: str) -> Any:
    """A request's entry in the work list shown, « Voir plus » clicked until it is there (the
    worker's other tests fill the lists)."""
    page.locator("table.liste").wait_for()
    entry = page.locator(f'table.liste [data-request="{request_id}"]')
    more = page.get_by_role("button", name="Voir plus")
    while entry.count() == 0 and more.is_visible():
        rows = page.locator("table.liste tbody tr").count()
        more.click()
        expect(page.locator("table.liste tbody tr")).not_to_have_count(rows)
    return entry


def test_aller_au_contenu_takes_the_focus_to_the_title_and_keeps_the_page(
    open_page: Any, member: Any
) -> None:
    """The skip link's `#contenu` was taken for a route: « Page introuvable », and what the
    member had typed was lost."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.coordonnees")
    page.get_by_label("Téléphone").fill("06 11 22 33 44")
    page.keyboard.press("Control+Home")
    page.locator(".skip").focus()
    page.keyboard.press("Enter")
    title = page.get_by_role(
        "heading", level=1, name="Modification de vos coordonnées de contact ou postales"
    )
    expect(title).to_be_focused()
    assert page.url.endswith("#/demarches/vie.coordonnees")
    expect(page.get_by_label("Téléphone")).to_have_value("06 11 22 33 44")


def test_each_page_s_title_says_which_page_it_is(
    open_page: Any, member: Any, http_api: str, today: date
) -> None:
    """Every form was « Mes démarches — Génération », every request « Le suivi des demandes —
    Génération », an unknown page « Génération — Génération » (RGAA 8.6)."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    expect(page).to_have_title("Mes démarches — Génération")
    page.goto("/#/demarches/sante.justificatif")
    expect(page).to_have_title(
        "Envoi de justificatif de remboursement — Mes démarches — Génération"
    )
    body = a_reimbursement(member.member_id, today.isoformat())
    request_id = file_via_api(http_api, member.headers, body, with_file=True)
    page.goto(f"/#/suivi/{request_id}")
    expect(page).to_have_title(
        "Envoi de justificatif de remboursement — Le suivi des demandes — Génération"
    )
    page.goto("/#/nulle-part")
    expect(page).to_have_title("Page introuvable — Génération")


def test_group_hints_are_read_with_their_fields_and_in_french(open_page: Any, member: Any) -> None:
    """The postal address's hint was the English docstring of its model (« A postal address as
    a member gives it… »), in a bare paragraph no field pointed at; the amount's asked for
    « 42.50 » where the member types « 42,50 »; a line could begin with « : »."""
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.coordonnees")
    group = page.get_by_role("group", name="Adresse postale (facultatif)")
    expect(group).to_be_visible()
    assert "A postal address" not in page.locator("main").inner_text()
    page.goto("/#/demarches/sante.justificatif")
    beneficiaries = page.get_by_role("group", name="Bénéficiaire(s) concerné(s) (obligatoire)")
    expect(beneficiaries).to_be_visible()
    expect(page.get_by_label("Montant")).to_have_accessible_description(
        "Montant en euros, par ex. « 42,50 »."
    )
    main = page.locator("main").inner_text()
    assert "Les champs marqués «\u00a0obligatoire\u00a0» doivent" in main
    page.get_by_role("button", name="Envoyer ma demande").click()
    summary = page.locator(".resume-erreurs")
    expect(summary).to_be_focused()
    assert "Votre demande n'a pas pu être envoyée\u00a0:" in summary.inner_text()
    # The fields in the form's order (the API's was « Nature des soins » first), and the tab's
    # title says the page shows errors.
    links = summary.get_by_role("link").all_inner_texts()
    assert links[0].startswith("Bénéficiaire(s) concerné(s)"), links
    expect(page).to_have_title(
        "Erreur\u00a0: Envoi de justificatif de remboursement — Mes démarches — Génération"
    )
