"""An agent acts on the requests of their own services only, even when another agent hands the
request on while their call runs: the call read the request on the agent's service, checked the
agent against it, and its write finds it on another."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from infra.local_stack import LocalStack
from infra.queue_pump import QueuePump
from tests.conftest import PASSWORD, Api, SignedIn, file_justificatif


def _remboursements_agent(stack: LocalStack) -> SignedIn:
    """An agent of `remboursements` only (the `agent` fixture is of `devis` too)."""
    from uuid import uuid4

    from infra.local_stack import create_account

    username = f"agent-remboursements-{uuid4().hex[:12]}"
    create_account(stack, username, PASSWORD, None, ("agent-remboursements",))
    return SignedIn(username, None, stack.id_token(username, PASSWORD))


def _moved_to_devis_first(monkeypatch: pytest.MonkeyPatch, write: str) -> None:
    """`write` of `Transitions` runs after another agent's reclassification to `devis` has
    committed: what happens when two agents act on a request at the same moment."""
    from chalicelib.services import dialogue
    from chalicelib.store.requests import Transitions
    from chalicelib.store.unit_of_work import unit_of_work

    original = getattr(Transitions, write)

    def after_the_move(self: Transitions, record: Any, *args: Any, **kwargs: Any) -> Any:
        uow = unit_of_work()
        now: datetime = next(a for a in (*args, *kwargs.values()) if isinstance(a, datetime))
        current = uow.requests.get(record.member_id, record.request_id, consistent=True)
        wanted = dialogue.ReclassificationBody.model_validate({"service": "devis"})
        dialogue.reclassify(uow, current, wanted, now, "another-agent")
        monkeypatch.setattr(Transitions, write, original)
        return original(self, record, *args, **kwargs)

    monkeypatch.setattr(Transitions, write, after_the_move)


@pytest.mark.parametrize(
    ("action", "body", "write"),
    [
        ("decision", {"outcome": "accepted", "amount": "80.00"}, "claim_decision"),
        ("information-request", {"message": "Merci d'envoyer la facture."}, "ask"),
    ],
)
def test_an_agent_cannot_act_on_a_request_handed_to_another_service_during_the_call(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    body: dict[str, Any],
    write: str,
) -> None:
    """The decision (or question) of an agent of `remboursements` only, on a request another
    agent moved to `devis` while the call ran, was written: the request was decided (its effect
    applied, its letter owed) by a service that no longer had it, and put on that service's
    lists with `service: devis`, so the devis agents never saw it and the remboursements agents
    kept listing it. The write now holds only on the service the call checked: 403, the request
    untouched, open on the devis list."""
    remboursements = _remboursements_agent(local_stack)
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    _moved_to_devis_first(monkeypatch, write)

    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}/{action}"
    answer = api.post(path, remboursements, body=body)

    assert answer.status == 403, answer.body
    assert answer.body["error"]["code"] == "forbidden"
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["service"], detail["status"], detail["outcome"]) == (
        "devis",
        "in_progress",
        None,
    )
    assert not [m for m in detail["messages"] if m["author"] == "service"]
    for state in ("open", "waiting", "processed"):
        listed = api.get(f"/backoffice/services/remboursements/requests?state={state}", agent)
        assert request_id not in [r["request_id"] for r in listed.body["requests"]], state
    devis = api.get("/backoffice/services/devis/requests?state=open", agent).body
    assert request_id in [r["request_id"] for r in devis["requests"]]
    pump.drain()
    assert api.get("/documents?months=1", alice).body == {"documents": []}


def test_a_reclassification_waits_for_a_decision_under_way(
    api: Api,
    pump: QueuePump,
    local_stack: LocalStack,
    alice: SignedIn,
    agent: SignedIn,
    today: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other order: a decision has claimed its outcome (its effect is applied next) when
    another agent's reclassification comes. The move was written, and the decision's closing,
    bound to the service it read, refused: the member's file changed by a decision never
    recorded, and the request open on the new service with the old one's outcome claimed on
    it, so that its agents could decide nothing else (« Une autre décision a déjà été prise »).
    A request whose decision is under way is not moved: the decision completes."""
    from chalicelib.domain.errors import Conflict
    from chalicelib.services import dialogue
    from chalicelib.store.requests import Transitions
    from chalicelib.store.unit_of_work import unit_of_work

    remboursements = _remboursements_agent(local_stack)
    request_id = file_justificatif(api, alice, today)
    pump.drain()
    original = Transitions.finish
    refused: list[BaseException] = []

    def moved_meanwhile(self: Transitions, record: Any, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Transitions, "finish", original)
        uow = unit_of_work()
        current = uow.requests.get(record.member_id, record.request_id, consistent=True)
        wanted = dialogue.ReclassificationBody.model_validate({"service": "devis"})
        try:
            dialogue.reclassify(uow, current, wanted, args[2], "another-agent")
        except Conflict as error:
            refused.append(error)
        return original(self, record, *args, **kwargs)

    monkeypatch.setattr(Transitions, "finish", moved_meanwhile)
    path = f"/backoffice/members/{alice.member_id}/requests/{request_id}/decision"
    answer = api.post(path, remboursements, body={"outcome": "accepted", "amount": "80.00"})

    assert answer.status == 200, answer.body
    assert [type(e) for e in refused] == [Conflict]
    detail = api.get(f"/requests/{request_id}", alice).body
    assert (detail["service"], detail["status"], detail["outcome"]) == (
        "remboursements",
        "processed",
        "accepted",
    )
