"""The demo history `make run` gives alice: filed, routed and answered by the app's own code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from infra import seed
from infra.local_stack import LocalStack
from tests.conftest import Api, Historian, SignedIn


def _every_month(api: Api, who: SignedIn) -> list[dict[str, Any]]:
    months = api.get("/requests?limit=12", who).body
    everything = list(months["months"])
    while months["next_cursor"]:
        months = api.get(f"/requests?limit=12&cursor={months['next_cursor']}", who).body
        everything += months["months"]
    return everything


def test_two_years_of_requests_and_letters(api: Api, historian: Historian) -> None:
    who, filed = historian.who, historian.filed
    assert filed >= 30

    everything = _every_month(api, who)
    requests = [r for m in everything for r in m["requests"]]
    assert len(requests) == filed
    assert len(everything) >= 20
    categories = {r["type"].split(".")[0] for r in requests}
    assert categories == {"sante", "vie", "contact"}
    statuses = {r["status"] for r in requests}
    assert {"processed", "waiting_for_member"} <= statuses
    assert statuses <= {"processed", "waiting_for_member", "in_progress"}

    all_documents = api.get("/documents?months=24", who).body["documents"]
    last_year = api.get("/documents?months=12", who).body["documents"]
    assert len(all_documents) > len(last_year) > 0
    kinds = {d["kind"] for d in all_documents}
    assert {
        "remboursement",
        "refus_remboursement",
        "reponse_devis",
        "attestation_tiers_payant",
        "accuse_reception_reclamation",
        "reponse_reclamation",
        "demande_pieces",
    } <= kinds
    assert all(d["request_id"] for d in all_documents)


def test_no_request_of_the_history_holds_attachments_past_their_retention(
    api: Api, historian: Historian
) -> None:
    """The history's closings are up to two years old: their attachments' 90 days had passed,
    yet they were listed, downloadable and exported (the purge's first run looks back a month,
    and `make run` runs none). The seed carries out the purges whose day has come."""
    from chalicelib.domain import retention

    who = historian.who
    ids = [r["request_id"] for m in _every_month(api, who) for r in m["requests"]]
    details = [api.get(f"/requests/{request_id}", who).body for request_id in ids]
    today = historian.seeded_on.isoformat()
    purged = [d for d in details if d["attachments_deleted_at"]]
    assert len(purged) >= 10
    for detail in details:
        kept_until = detail["attachments_kept_until"]
        assert kept_until is None or kept_until > today, detail["request_id"]
    for detail in purged:
        assert detail["attachments"] == [] and detail["attachments_kept_until"] is None
        assert detail["history"][-1]["label"] == retention.ATTACHMENTS_PURGED_LABEL
        closed = next(h["at"] for h in detail["history"] if h["status"] == "processed")
        assert detail["attachments_deleted_at"] > closed


def test_the_history_extends_lea_past_her_coverage_end_whatever_the_month(
    local_stack: LocalStack,
) -> None:
    """In January Léa is covered to 31 December of the new year (the seed): the history's
    extensions, filed through the app's own checks, must each end after the end they find."""
    from chalicelib.store.unit_of_work import DynamoUnitOfWork
    from infra.history_seed import seed_history

    now = datetime(date.today().year + 1, 1, 5, 9, 0, tzinfo=UTC)
    member_id = "HIST0000002"
    seed.seed_member(*seed.alice(now.date(), member_id))
    assert seed_history(member_id, now) >= 30
    [lea] = [
        b
        for b in DynamoUnitOfWork().members.beneficiaries(member_id)
        if b.beneficiary_id == f"{member_id}-03"
    ]
    assert lea.coverage_end is not None and lea.coverage_end > date(now.year, 12, 31)


def test_the_history_s_agents_are_in_the_members_access_log(api: Api, historian: Historian) -> None:
    """The demo's alice read « Personne n'a encore consulté votre dossier. » beside two years
    of requests the services read, questioned and decided."""
    log = api.get("/me/access-log?limit=100", historian.who).body["entries"]
    actions = {entry["action"] for entry in log}
    assert {"consulted", "decided", "asked"} <= actions
    assert all(entry["service"] and "agent" not in entry for entry in log)
