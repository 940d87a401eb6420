"""One member cannot flood the services (API.md, "Limits"): 20 unused uploads alive, 30
démarches and 50 replies a Paris day; beyond, 429 `too_many_requests` with `Retry-After`, in
the error shape, and nothing written. A replay or a refused request counts nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain import clock
from chalicelib.store.requests import FilingChecks, RequestRepository
from chalicelib.store.uploads import UPLOAD_RECORD_TTL
from infra.local_stack import LocalStack
from tests.conftest import (
    PDF_BYTES,
    Answer,
    Api,
    SignedIn,
    count_items,
    count_objects,
    post_form,
    upload,
)


def _autre(who: SignedIn, n: int) -> dict[str, Any]:
    return {
        "type": "vie.autre",
        "beneficiary_ids": [f"{who.member_id}-01"],
        "description": f"Question n° {n}.",
    }


def _assert_too_many(answer: Answer, until: int, slack: int = 120) -> None:
    assert answer.status == 429, answer.body
    assert answer.body["error"]["code"] == "too_many_requests"
    assert set(answer.body["error"]) == {"code", "message", "fields"}
    retry_after = int(answer.headers["Retry-After"])
    assert until - slack <= retry_after <= until + slack, (retry_after, until)


def _until_paris_midnight() -> int:
    return clock.seconds_until_next_day(clock.now())


def test_the_thirty_first_demarche_of_the_day_is_429_until_midnight_in_paris(
    api: Api, local_stack: LocalStack, alice: SignedIn
) -> None:
    keyed = {"Idempotency-Key": "limite-28"}
    for n in range(27):
        assert api.post("/requests", alice, body=_autre(alice, n)).status == 201
    refused = api.post("/requests", alice, body={**_autre(alice, 0), "beneficiary_ids": ["x"]})
    assert refused.status == 422  # refused: counts nothing
    first = api.post("/requests", alice, body=_autre(alice, 27), headers=keyed)
    replay = api.post("/requests", alice, body=_autre(alice, 27), headers=keyed)
    assert (first.status, replay.status) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"  # counts nothing either
    for n in (28, 29):
        assert api.post("/requests", alice, body=_autre(alice, n)).status == 201

    items = count_items(local_stack, alice.member_id or "")
    _assert_too_many(api.post("/requests", alice, body=_autre(alice, 30)), _until_paris_midnight())
    assert count_items(local_stack, alice.member_id or "") == items
    assert len(api.get("/requests", alice).body["months"][0]["requests"]) == 30
    # At the limit, a replay is still the first answer.
    again = api.post("/requests", alice, body=_autre(alice, 27), headers=keyed)
    assert (again.status, again.body["request_id"]) == (201, first.body["request_id"])


def test_the_fifty_first_reply_of_the_day_is_429_until_midnight_in_paris(
    api: Api, alice: SignedIn
) -> None:
    request_id = api.post("/requests", alice, body=_autre(alice, 0)).body["request_id"]
    replies = f"/requests/{request_id}/replies"
    keyed = {"Idempotency-Key": "reponse-1"}
    assert api.post(replies, alice, body={"message": "Voici."}, headers=keyed).status == 201
    assert api.post(replies, alice, body={"message": "Voici."}, headers=keyed).status == 201
    for n in range(49):
        assert api.post(replies, alice, body={"message": f"Précision {n}."}).status == 201

    _assert_too_many(
        api.post(replies, alice, body={"message": "Une de trop."}), _until_paris_midnight()
    )
    assert len(api.get(f"/requests/{request_id}", alice).body["messages"]) == 50
    # Replies and démarches are counted apart.
    assert api.post("/requests", alice, body=_autre(alice, 1)).status == 201


def _ask(api: Api, who: SignedIn) -> Answer:
    body = {"filename": "facture.pdf", "content_type": "application/pdf", "size": len(PDF_BYTES)}
    return api.post("/uploads", who, body=body)


def test_the_twenty_first_unused_upload_is_429_until_the_oldest_expires(
    api: Api, alice: SignedIn, bob: SignedIn
) -> None:
    asked_at = clock.now()
    tickets = [_ask(api, alice).body for _ in range(20)]
    for ticket in tickets:  # every file sent: each waits for a request
        assert post_form(ticket["url"], ticket["fields"], PDF_BYTES) in (200, 201, 204)
    expires = asked_at + UPLOAD_RECORD_TTL  # the oldest's
    _assert_too_many(_ask(api, alice), int((expires - clock.now()).total_seconds()))
    assert _ask(api, bob).status == 201  # each member their own

    # Used by a request, an upload gives its place back.
    body = {**_autre(alice, 0), "upload_ids": [tickets[0]["upload_id"]]}
    assert api.post("/requests", alice, body=body).status == 201
    assert _ask(api, alice).status == 201
    # That ticket's file not sent yet: its form's end (15 minutes, a minute for the clocks)
    # frees a place sooner than the oldest record's expiry.
    _assert_too_many(_ask(api, alice), 16 * 60)


def test_tickets_never_sent_free_their_places_once_their_forms_expire(
    api: Api, alice: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty tickets asked for and no file sent (four failed sends of five files): the
    twenty-first was refused for a day, long after their forms had expired. Past their form's
    15 minutes they can never be used, and give their places back; a file sent keeps its."""
    tickets = [_ask(api, alice).body for _ in range(20)]
    sent = post_form(tickets[0]["url"], tickets[0]["fields"], PDF_BYTES)
    assert sent in (200, 201, 204)
    assert _ask(api, alice).status == 429  # the forms still in their time
    later = clock.now() + timedelta(minutes=16)
    monkeypatch.setattr(clock, "now", lambda: later)
    for _ in range(19):
        assert _ask(api, alice).status == 201
    assert _ask(api, alice).status == 429  # the sent one kept its place, and the 19 new


def test_the_write_itself_holds_the_limit_when_calls_race_past_the_early_check(
    api: Api, local_stack: LocalStack, alice: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent calls may all see room in the early read: the transaction's own condition
    refuses the one too many, and the files it copied are removed."""
    for n in range(30):
        assert api.post("/requests", alice, body=_autre(alice, n)).status == 201
    looked = RequestRepository.checks

    def saw_room(self: RequestRepository, *args: Any, **kwargs: Any) -> FilingChecks:
        return replace(looked(self, *args, **kwargs), count=0)  # the early look saw room

    monkeypatch.setattr(RequestRepository, "checks", saw_room)
    upload_id = upload(api, alice, PDF_BYTES)
    items = count_items(local_stack, alice.member_id or "")
    objects = count_objects(local_stack, f"requests/{alice.member_id}/")
    body = {**_autre(alice, 30), "upload_ids": [upload_id]}
    _assert_too_many(api.post("/requests", alice, body=body), _until_paris_midnight())
    assert count_items(local_stack, alice.member_id or "") == items
    assert count_objects(local_stack, f"requests/{alice.member_id}/") == objects
