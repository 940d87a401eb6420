"""`make run` as the README describes it: what it prints, and what its app is told."""

from __future__ import annotations

import dataclasses

from chalicelib.settings import Settings
from infra import token
from infra.local_stack import LocalStack
from infra.seed import DEMO_ACCOUNTS


def test_the_emails_link_to_the_portal_make_run_serves(local_stack: LocalStack) -> None:
    """`make run PORTAL_PORT=8392` serves the portal on 8392: an e-mail's preferences link
    (`PORTAL_URL`, the first portal origin as `make deploy` gives it) must not name 8080."""
    moved = dataclasses.replace(
        local_stack, outputs={**local_stack.outputs, "PortalOrigins": "http://127.0.0.1:8392"}
    )
    assert Settings.model_validate(moved.app_environment()).portal_url == "http://127.0.0.1:8392"


def test_make_token_names_every_demo_account(capsys: object) -> None:
    """`make token USER=…` with an unknown name lists the accounts one may ask for: claire too."""
    assert token.main(["token", "nobody"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    for account in DEMO_ACCOUNTS:
        assert account.username in err
