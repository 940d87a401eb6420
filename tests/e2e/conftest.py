"""The portal in a real headless Chromium (Debian's), against the session's local stack.

One browser for the whole session; each test gets fresh contexts (one per person signed in).
The portal is served by `infra/portal_server.py` on the session's `portal_origin` (a free
port, listed in the test stack's `PORTAL_ORIGINS` and bucket CORS), configured for the API
that `http_api` serves over HTTP and for the moto server's Cognito. Every page is watched: a
JavaScript error or a Content-Security-Policy violation (an inline script or style) fails the
test.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from portal_pages import BIRTHDAY

from chalicelib.domain.members import Beneficiary, Relationship
from infra import seed
from infra.local_stack import LocalStack, create_account
from infra.portal_server import PortalServer, local_config, serve_portal

# Without these, Chromium waits on the network it cannot reach here (updates, sync, QUIC).
# A letter's first rendering in the session loads fpdf2 and the font; two cores are shared.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def portal(local_stack: LocalStack, http_api: str, portal_origin: str) -> Iterator[PortalServer]:
    """The portal on `portal_origin` (tests/conftest.py): an origin the test stack's CORS lists."""
    parts = urlsplit(portal_origin)
    server = serve_portal(
        local_config(
            http_api, local_stack.endpoint_url, local_stack.region, local_stack.app_client_id
        ),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 80,
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


PASSWORD = "Portail-de-test-2026!"
_accounts = itertools.count(1)


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    member_id: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _account(stack: LocalStack, member_id: str | None, groups: tuple[str, ...] = ()) -> Account:
    username = f"portail-{next(_accounts)}-{member_id or 'agent'}"
    create_account(stack, username, PASSWORD, member_id, groups)
    return Account(username, PASSWORD, member_id, stack.id_token(username, PASSWORD))


@pytest.fixture
def member(local_stack: LocalStack, today: date) -> Account:
    """A fresh member shaped like the demo alice (spouse, children of 19 and 12)."""
    member_id = f"W{next(_accounts):09d}"
    seed.seed_member(*seed.alice(today, member_id))
    return _account(local_stack, member_id)


@pytest.fixture
def member_with_a_landline_only(local_stack: LocalStack, today: date) -> Account:
    """Alice's shape, whose only number is a landline: SMS cannot reach her."""
    member_id = f"W{next(_accounts):09d}"
    profile, beneficiaries = seed.alice(today, member_id)
    seed.seed_member(profile.model_copy(update={"phone": "01 43 55 12 34"}), beneficiaries)
    return _account(local_stack, member_id)


@pytest.fixture
def another_member(local_stack: LocalStack, today: date) -> Account:
    """A second fresh member shaped like alice, for what one member's day cannot file."""
    member_id = f"W{next(_accounts):09d}"
    seed.seed_member(*seed.alice(today, member_id))
    return _account(local_stack, member_id)


@pytest.fixture
def member_with_a_child_of_25(local_stack: LocalStack, today: date) -> Account:
    """Alice's shape, with a third child of 25 (the oldest an adult child's extension takes)
    and a spouse of 24 (of an age the extension takes, not of its bond)."""
    member_id = f"W{next(_accounts):09d}"
    member, beneficiaries = seed.alice(today, member_id)
    beneficiaries = [
        b.model_copy(update={"birth_date": date(today.year - 24, today.month, 1)})
        if b.relationship is Relationship.spouse
        else b
        for b in beneficiaries
    ]
    born = date(today.year - 25, today.month, 1)  # 25 since the 1st of this month
    oldest = Beneficiary(
        beneficiary_id=f"{member_id}-05",
        first_name="Inès",
        last_name="Martin",
        relationship=Relationship.child,
        birth_date=born,
    )
    seed.seed_member(member, [*beneficiaries, oldest])
    return _account(local_stack, member_id)


@pytest.fixture
def member_with_children_whose_birthday_is_1_november(local_stack: LocalStack) -> Account:
    """Alice's shape, with Inès, 18 on 1 November 2026, and Théo, 26 that day."""
    member_id = f"W{next(_accounts):09d}"
    member, beneficiaries = seed.alice(BIRTHDAY, member_id)
    born = [("Inès", BIRTHDAY.replace(year=2008)), ("Théo", BIRTHDAY.replace(year=2000))]
    children = [
        Beneficiary(
            beneficiary_id=f"{member_id}-{5 + n:02d}",
            first_name=first_name,
            last_name="Martin",
            relationship=Relationship.child,
            birth_date=birth_date,
        )
        for n, (first_name, birth_date) in enumerate(born)
    ]
    seed.seed_member(member, [*beneficiaries, *children])
    return _account(local_stack, member_id)


@pytest.fixture
def agent_everywhere(local_stack: LocalStack) -> Account:
    """An agent of every service, like the demo `agent`."""
    from chalicelib.domain.catalog import Service

    return _account(local_stack, None, tuple(f"agent-{s.value}" for s in Service))


@pytest.fixture
def member_and_agent(local_stack: LocalStack, today: date) -> Account:
    """A member (alice's shape) who is also an agent of every service, as the demo's claire."""
    from chalicelib.domain.catalog import Service

    member_id = f"W{next(_accounts):09d}"
    seed.seed_member(*seed.alice(today, member_id))
    return _account(local_stack, member_id, tuple(f"agent-{s.value}" for s in Service))


@pytest.fixture
def agent_of_reclamations(local_stack: LocalStack) -> Account:
    """An agent of the complaints service only."""
    return _account(local_stack, None, ("agent-reclamations",))


@pytest.fixture
def agent_of_remboursements(local_stack: LocalStack) -> Account:
    """An agent of the reimbursements service only."""
    return _account(local_stack, None, ("agent-remboursements",))


@dataclass
class Watched:
    """A browser context whose pages' errors and CSP violations are collected."""

    context: BrowserContext
    page: Page
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser: Browser, portal: PortalServer) -> Iterator[Callable[..., Watched]]:
    """Opens a fresh context (cookies, storage) on the portal; closed and checked at the end."""
    opened: list[Watched] = []

    def open_(origin: str | None = None, **options: Any) -> Watched:
        settings: dict[str, Any] = {
            "locale": "fr-FR",
            "timezone_id": "Europe/Paris",
            "viewport": {"width": 1280, "height": 900},
            **options,  # a member elsewhere (Wallis, twelve hours ahead), a small phone
        }
        context = browser.new_context(
            base_url=origin or portal.url, accept_downloads=True, **settings
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watched = Watched(context, page)

        def on_console(message: Any) -> None:
            text = message.text
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                watched.problems.append(f"CSP: {text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
        opened.append(watched)
        return watched

    yield open_
    problems = [p for w in opened for p in w.problems]
    for watched in opened:
        watched.context.close()
    assert not problems, problems
