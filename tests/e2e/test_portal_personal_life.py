"""The portal read against Génération's own description of the Démarches area
(`/work/shared/seed/`): the adult children whose rights may be extended, the recall of what the
contact form filed, the type of a complaint. Each failed before its fix."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from portal_pages import BIRTHDAY, a_complaint, api_get, file_via_api, sign_in

from chalicelib.domain import clock
from chalicelib.domain.deadlines import answer_due
from chalicelib.domain.notifications import MONTHS


def test_a_child_of_25_may_have_their_rights_extended_from_the_portal(
    open_page: Any, member_with_a_child_of_25: Any
) -> None:
    # The catalogue publishes the ages as whole years, both included (18 to 25: until the day
    # before the 26th birthday); the form hid the 25-year-olds and said « de 18 à 24 ans ».
    member = member_with_a_child_of_25
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/demarches/vie.prolongation_droits_enfant")
    beneficiaries = page.locator('fieldset[data-field="beneficiary_ids"]')
    expect(beneficiaries).to_contain_text("Enfants de 18 à 25 ans.")
    expect(beneficiaries.get_by_label("Inès Martin")).to_be_visible()
    expect(beneficiaries.get_by_label("Léa Martin")).to_be_visible()
    expect(beneficiaries.get_by_label("Hugo Martin")).to_have_count(0)
    # A spouse of 24 has the age, not the bond: the form offered him, the API refused him.
    expect(beneficiaries.get_by_label("Julien Martin")).to_have_count(0)


def test_the_ages_the_portal_offers_are_those_of_the_paris_day(
    open_page: Any, member_with_children_whose_birthday_is_1_november: Any
) -> None:
    # At 00:30 on 1 November in Paris it is still 31 October in UTC: the form counted ages on
    # the UTC day, so for the first hour (two in summer) of a child's 18th birthday it hid
    # them, and offered a child on their 26th birthday, whom the API refuses (its day is Paris').
    member = member_with_children_whose_birthday_is_1_november
    page = open_page().page
    sign_in(page, member.username, member.password)
    at_half_past_midnight = datetime.combine(BIRTHDAY, time(0, 30), tzinfo=ZoneInfo("Europe/Paris"))
    page.clock.set_fixed_time(at_half_past_midnight)
    page.goto("/#/demarches/vie.prolongation_droits_enfant")
    beneficiaries = page.locator('fieldset[data-field="beneficiary_ids"]')
    expect(beneficiaries).to_contain_text("Enfants de 18 à 25 ans.")
    expect(beneficiaries.get_by_label("Inès Martin")).to_be_visible()  # 18 today
    expect(beneficiaries.get_by_label("Théo Martin")).to_have_count(0)  # 26 today


def test_a_complaint_reads_in_words_its_type_subject_and_detail(
    open_page: Any, member: Any, http_api: str
) -> None:
    # The recall showed the codes (« remboursements », « montant_conteste »), which the member
    # never saw in the form's two drop-downs; a complaint's type, « Réclamation », read
    # « Réclamation (réclamation) ».
    request_id = file_via_api(http_api, member.headers, a_complaint(member.member_id))
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{request_id}")
    kind = page.locator(".detail dl.resume dt", has_text="Type de demande").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(kind).to_have_text("Réclamation")
    page.locator(".detail").get_by_text("Voir le rappel de ma demande").click()
    recall = page.locator(".detail .rappel-demande dl.rappel")
    expect(recall).to_contain_text("Mes remboursements")
    expect(recall).to_contain_text("Montant du remboursement contesté")
    expect(recall).not_to_contain_text("montant_conteste")


def test_a_complaints_answer_is_due_on_its_last_day_as_its_letter_says(
    open_page: Any, member: Any, http_api: str, pump: Any
) -> None:
    # The acknowledgement letter owes the answer « au plus tard le » the day two months on
    # (ACPR 2022-R-01; `due_at` is that day's last second): the detail said « Réponse attendue
    # avant le » that day, a day earlier in French, the letter and the portal disagreeing.
    request_id = file_via_api(http_api, member.headers, a_complaint(member.member_id))
    pump.drain()  # the complaints service acknowledges it: the answer is owed from then
    detail = api_get(http_api, member.headers, f"/requests/{request_id}")
    due_on = clock.paris_date(detail["due_at"])
    assert due_on == answer_due(clock.paris_date(detail["created_at"]))
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto(f"/#/suivi/{request_id}")
    due = page.locator(".detail dl.resume dt", has_text="Réponse attendue")
    expect(due).to_have_text("Réponse attendue au plus tard le")
    day = "1er" if due_on.day == 1 else str(due_on.day)  # as the letters write it
    written = f"{day} {MONTHS[due_on.month - 1]} {due_on.year}"
    expect(due.locator("xpath=following-sibling::dd[1]")).to_have_text(written)


def test_the_first_of_a_month_reads_1er_as_in_the_letters(
    open_page: Any, member_with_a_child_of_25: Any
) -> None:
    """« depuis le 1 janvier 2019 », « né(e) le 1 novembre 2001 »: the letters write « 1er »
    (`letters/french.py`), the portal wrote the bare number."""
    member = member_with_a_child_of_25
    page = open_page().page
    sign_in(page, member.username, member.password)
    page.goto("/#/informations")
    expect(page.locator("main")).to_contain_text("depuis le 1er janvier 2019")
    page.goto("/#/demarches/vie.prolongation_droits_enfant")
    born = page.locator('fieldset[data-field="beneficiary_ids"] label', has_text="Inès Martin")
    expect(born).to_contain_text(re.compile(r"né\(e\) le 1er \w+ \d{4}$"))
