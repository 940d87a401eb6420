"""IAM as deployed (`make package STAGE=prod`): a role per kind of function, every resource
named in this account, and what each kind may not do, evaluated on the policies themselves.

The evaluator below resolves the templates' `Fn::Sub` for one account and answers "does an
Allow statement match this action on this ARN?". It ignores conditions and denials (the only
ones are the audit trail's, on its keys: `test_audit_infra.py` evaluates them), so "not
allowed" here is a lower bound of what AWS refuses.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from chalicelib.store.queues import INTAKE, service_queue
from tests.infra.test_template import SERVICES

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "999999999999"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-3",
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "generation-demarches-prod-app",
    "Stage": "prod",
}
KEY = f"arn:aws:kms:eu-west-3:{ACCOUNT}:key/0f1e2d3c-stack-key"
SENDER = "notifications@generation-demarches.fr"
# The data stack's SES identity is the sender's domain: SES authorises a send from an address
# of a verified domain (with no identity of its own) against the domain's identity.
IDENTITY = f"arn:aws:ses:eu-west-3:{ACCOUNT}:identity/generation-demarches.fr"
PHONE = "+33612345678"  # an SMS is published to a number, which has no ARN
CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]


def _sub(text: str) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: PSEUDO[m.group(1)], text)


def _resolve(node: Any) -> str:
    if isinstance(node, str):
        return node
    if "Fn::Select" in node:  # of a Fn::Split: the only list the policies make
        index, listed = node["Fn::Select"]
        separator, text = listed["Fn::Split"]
        return _resolve(text).split(separator)[int(index)]
    if isinstance(node.get("Fn::Sub"), list):  # ["text", {name: value}]
        text, names = node["Fn::Sub"]
        values = {**PSEUDO, **{name: _resolve(value) for name, value in names.items()}}
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)
    if "Fn::Sub" in node:
        return _sub(node["Fn::Sub"])
    if node == {"Fn::ImportValue": {"Fn::Sub": "generation-demarches-${Stage}-key-arn"}}:
        return KEY  # the data stack's key: an ARN in this account
    if node == {"Fn::ImportValue": {"Fn::Sub": "generation-demarches-${Stage}-notifications-from"}}:
        return SENDER  # the data stack's sender, whose domain is its SES identity
    raise AssertionError(f"a resource the test cannot resolve: {node}")


def queue(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sqs:eu-west-3:{account}:generation-demarches-prod-{name}"


def table(suffix: str = "", account: str = ACCOUNT) -> str:
    return f"arn:aws:dynamodb:eu-west-3:{account}:table/generation-demarches-prod{suffix}"


def obj(key: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:s3:::generation-demarches-prod-{account}/{key}"


ALL_QUEUES = ["intake", *(f"svc-{s}" for s in SERVICES), "notifications", "exports"]
# What an outbox entry may name (`outbox.to_queue`'s callers: intake for a change the router
# passes on, a service's queue for an agent's question or decision the handler renders).
OUTBOX_QUEUES = [INTAKE, *(service_queue(s) for s in SERVICES)]
# Whoever dispatches a request's outbox (`services.dispatching.dispatch`) sends every pointer
# still pending in it, whichever change wrote it: the API, the router, the services' handlers,
# the sweeper, the daily watch.
DISPATCHERS = ["app", "router", "outbox_sweeper", "sla_watch", *(f"svc_{s}" for s in SERVICES)]
EVERY_QUEUE = ALL_QUEUES + [f"{q}-dlq" for q in ALL_QUEUES]


class Role:
    def __init__(self, statements: list[dict[str, Any]]) -> None:
        self.statements = [
            {
                "Effect": s["Effect"],
                "Action": [s["Action"]] if isinstance(s["Action"], str) else s["Action"],
                "Resource": _resources(s.get("Resource", [])),
                # Everything but these (an SMS: no ARN but the topics', which it excludes).
                "NotResource": _resources(s.get("NotResource", [])),
            }
            for s in statements
        ]

    def allows(self, action: str, resource: str) -> bool:
        return any(
            s["Effect"] == "Allow"
            and any(fnmatchcase(action.lower(), a.lower()) for a in s["Action"])
            and (
                any(fnmatchcase(resource, r) for r in s["Resource"])
                if s["Resource"]
                else not any(fnmatchcase(resource, r) for r in s["NotResource"])
            )
            for s in self.statements
        )


def _resources(node: Any) -> list[str]:
    return [_resolve(r) for r in (node if isinstance(node, list) else [node])]


@pytest.fixture(scope="module")
def roles(prod_package: dict[str, Any]) -> dict[str, Role]:
    """Each function's role, by the function's name in app.py (`app` is the API)."""
    resources = prod_package["app"]["Resources"]
    found = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        [policy] = role["Properties"]["Policies"]
        found[resource["Properties"]["Handler"].removeprefix("app.")] = Role(
            policy["PolicyDocument"]["Statement"]
        )
    return found


def test_every_function_has_a_role_and_each_kind_its_own_policy(
    prod_package: dict[str, Any], roles: dict[str, Role]
) -> None:
    expected = {"app", "router", "outbox_sweeper", "sla_watch", "retention_purge",
                "notifications", "sms_morning", "exports_builder",
                *(f"svc_{s}" for s in SERVICES)}  # fmt: skip
    assert set(roles) == expected
    role_ids = {
        r["Properties"]["Role"]["Fn::GetAtt"][0]
        for r in prod_package["app"]["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert len(role_ids) == len(expected)
    policies = {name: repr(role.statements) for name, role in roles.items()}
    assert len(set(policies.values())) == len(expected)


def test_every_resource_is_named_in_this_account(roles: dict[str, Role]) -> None:
    for name, role in roles.items():
        for statement in role.statements:
            for resource in statement["Resource"]:
                if resource == "*":
                    assert all(a.startswith("xray:") for a in statement["Action"]), name
                else:
                    assert ACCOUNT in resource, (name, resource)
            for resource in statement["NotResource"]:  # SMS only: every topic excluded
                assert statement["Action"] == ["sns:Publish"], name
                assert resource == "arn:aws:sns:*:*:*", name


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("dynamodb:GetItem", table(account=OTHER_ACCOUNT)),
        ("dynamodb:Query", table("-directory", OTHER_ACCOUNT)),
        ("sqs:SendMessage", queue("intake", OTHER_ACCOUNT)),
        ("sqs:ReceiveMessage", queue("svc-devis", OTHER_ACCOUNT)),
        ("s3:GetObject", obj("documents/M1/2026-11/d.pdf", OTHER_ACCOUNT)),
        ("s3:PutObject", obj("uploads/M1/u", OTHER_ACCOUNT)),
        ("kms:Decrypt", f"arn:aws:kms:eu-west-3:{OTHER_ACCOUNT}:key/any"),
        ("kms:Decrypt", f"arn:aws:kms:eu-west-3:{ACCOUNT}:key/another-key-of-ours"),
        ("logs:PutLogEvents", f"arn:aws:logs:eu-west-3:{OTHER_ACCOUNT}:log-group:/aws/lambda/x:*"),
    ],
)
def test_no_function_reaches_a_same_named_resource_of_another_account(
    roles: dict[str, Role], action: str, resource: str
) -> None:
    assert [name for name, role in roles.items() if role.allows(action, resource)] == []


def test_the_api_sends_to_queues_but_never_receives_or_deletes_a_message(
    roles: dict[str, Role],
) -> None:
    api = roles["app"]
    assert api.allows("sqs:SendMessage", queue("intake"))
    for name in EVERY_QUEUE:
        for action in CONSUME:
            assert not api.allows(action, queue(name)), (action, name)


def test_the_api_reads_letters_but_renders_and_writes_none(roles: dict[str, Role]) -> None:
    """Letters are rendered by the services' handlers (the letters' layer is theirs): the API
    presigns their downloads and hands decisions over, and cannot write or delete a letter."""
    api = roles["app"]
    letter = obj("documents/M1/2026-11/d.pdf")
    assert api.allows("s3:GetObject", letter)
    assert not api.allows("s3:PutObject", letter)
    assert not api.allows("s3:DeleteObject", letter)
    for service in SERVICES:
        assert api.allows("sqs:SendMessage", queue(f"svc-{service}"))  # the hand-over


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_handler_reads_its_own_queue_and_no_other(
    roles: dict[str, Role], service: str
) -> None:
    handler = roles[f"svc_{service}"]
    for action in CONSUME:
        assert handler.allows(action, queue(f"svc-{service}"))
    for name in EVERY_QUEUE:
        if name != f"svc-{service}":
            assert not handler.allows("sqs:ReceiveMessage", queue(name)), name
        # Only the outbox's pointers (`test_whoever_dispatches_an_outbox_may_send_its_pointers`).
        assert handler.allows("sqs:SendMessage", queue(name)) is (name in OUTBOX_QUEUES), name
    assert not handler.allows("dynamodb:Query", table("-directory"))
    assert not handler.allows("s3:GetObject", obj("uploads/M1/u"))  # members' staged files
    assert handler.allows("s3:PutObject", obj("documents/M1/2026-11/d.pdf"))  # its letters
    # A letter's PDF is written once: a delivery refused reads back the one there.
    assert handler.allows("s3:GetObject", obj("documents/M1/2026-11/d.pdf"))


def test_the_router_reads_intake_and_only_feeds_the_service_queues(roles: dict[str, Role]) -> None:
    router = roles["router"]
    assert router.allows("sqs:ReceiveMessage", queue("intake"))
    for service in SERVICES:
        assert router.allows("sqs:SendMessage", queue(f"svc-{service}"))
        assert not router.allows("sqs:ReceiveMessage", queue(f"svc-{service}"))
    assert not router.allows("s3:GetObject", obj("requests/M1/2026-11/r/a"))
    # It removes a filing's staged uploads, copied under the request: it reads none, and
    # writes or removes no other file.
    assert router.allows("s3:DeleteObject", obj("uploads/M1/u"))
    assert not router.allows("s3:GetObject", obj("uploads/M1/u"))
    assert not router.allows("s3:PutObject", obj("uploads/M1/u"))
    assert not router.allows("s3:DeleteObject", obj("requests/M1/2026-11/r/a"))
    assert not router.allows("s3:DeleteObject", obj("documents/M1/2026-11/d.pdf"))


@pytest.mark.parametrize("function", DISPATCHERS)
def test_whoever_dispatches_an_outbox_may_send_its_pointers(
    roles: dict[str, Role], function: str
) -> None:
    """The sweeper sends an agent's decision's pointer to its service's queue when the agent's
    call could not; a handler or the router dispatching a request's outbox sends a pointer
    another change left pending. Refused, `dispatch` would put the events on the bus, fail on
    the send, and leave the outbox pending for ever (moto checks no IAM: found in review)."""
    for name in OUTBOX_QUEUES:
        for action in ("sqs:SendMessage", "sqs:GetQueueUrl"):
            assert roles[function].allows(action, queue(name)), (action, name)


def test_the_schedules_read_no_queue_and_no_file(roles: dict[str, Role]) -> None:
    sweeper, watch = roles["outbox_sweeper"], roles["sla_watch"]
    purge = roles["retention_purge"]
    assert sweeper.allows("sqs:SendMessage", queue("intake"))
    assert sweeper.allows("dynamodb:Query", table("/index/gsi_pending"))
    assert watch.allows("dynamodb:Query", table("/index/gsi_service"))
    assert purge.allows("dynamodb:Query", table())  # a day's entries, page by page
    assert not purge.allows("dynamodb:Query", table("/index/gsi_service"))
    for name in EVERY_QUEUE:
        for role in (sweeper, watch, purge):
            assert not any(role.allows(action, queue(name)) for action in CONSUME), name
        # The daily watch's reminders go to the notifications queue; besides, only the pointers
        # of the outboxes it dispatches.
        sends = name == "notifications" or name in OUTBOX_QUEUES
        assert watch.allows("sqs:SendMessage", queue(name)) is sends, name
        assert sweeper.allows("sqs:SendMessage", queue(name)) is (name in OUTBOX_QUEUES), name
        assert purge.allows("sqs:SendMessage", queue(name)) is (name in OUTBOX_QUEUES), name
    for key in ("uploads/M1/u", "requests/M1/2026-11/r/a", "documents/M1/2026-11/d.pdf"):
        for role in (sweeper, watch, purge):
            assert not role.allows("s3:GetObject", obj(key))


def test_the_retention_purge_deletes_closed_requests_files_but_reads_none(
    roles: dict[str, Role],
) -> None:
    """docs/retention.md: attachments and letters' PDFs go on their day, every version, by the
    retention purge; the daily watch no longer deletes any file."""
    purge, watch = roles["retention_purge"], roles["sla_watch"]
    for key in ("requests/M1/2026-11/r/a", "documents/M1/2026-11/d.pdf"):
        assert purge.allows("s3:DeleteObjectVersion", obj(key))
        assert not purge.allows("s3:GetObject", obj(key))
        assert not purge.allows("s3:PutObject", obj(key))
    assert purge.allows("s3:ListBucketVersions", obj("")[:-1])
    for key in ("uploads/M1/u", "exports/M1/e.zip"):
        assert not purge.allows("s3:DeleteObjectVersion", obj(key))
    assert not purge.allows("dynamodb:DeleteItem", table())  # done entries expire by TTL
    assert not purge.allows("dynamodb:Query", table("-directory"))
    for key in ("uploads/M1/u", "requests/M1/2026-11/r/a", "documents/M1/2026-11/d.pdf"):
        for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert not watch.allows(action, obj(key)), (action, key)
    assert not watch.allows("s3:ListBucketVersions", obj("")[:-1])


def test_only_the_api_reads_the_directory_and_the_members_uploads(roles: dict[str, Role]) -> None:
    readers = {
        name for name, role in roles.items() if role.allows("dynamodb:Query", table("-directory"))
    }
    assert readers == {"app"}
    uploads = {
        name for name, role in roles.items() if role.allows("s3:GetObject", obj("uploads/M1/u"))
    }
    assert uploads == {"app"}


def test_only_who_decides_bank_details_may_delete_an_item(roles: dict[str, Role]) -> None:
    """The full IBAN held beside a bank-details request is deleted at its decision: by an
    agent (the API) or by the cotisations service refusing it. No one else deletes."""
    deleters = {name for name, role in roles.items() if role.allows("dynamodb:DeleteItem", table())}
    assert deleters == {"app", "svc_cotisations"}


def test_the_notifications_read_their_queue_the_profiles_and_send_nothing_else(
    roles: dict[str, Role],
) -> None:
    handler, morning = roles["notifications"], roles["sms_morning"]
    for action in CONSUME:
        assert handler.allows(action, queue("notifications"))
    for name in EVERY_QUEUE:
        if name != "notifications":
            assert not handler.allows("sqs:ReceiveMessage", queue(name)), name
        assert not handler.allows("sqs:SendMessage", queue(name)), name
        assert not any(morning.allows(action, queue(name)) for action in CONSUME), name
    assert handler.allows("dynamodb:GetItem", table())
    assert handler.allows("dynamodb:PutItem", table())  # its dedupe records
    assert handler.allows("ses:SendEmail", IDENTITY)
    assert not handler.allows("ses:SendEmail", f"arn:aws:ses:eu-west-3:{ACCOUNT}:identity/x.fr")
    for role in (handler, morning):
        assert role.allows("sns:Publish", PHONE)
        assert not role.allows("sns:Publish", f"arn:aws:sns:eu-west-3:{ACCOUNT}:any-topic")
        assert not role.allows("dynamodb:Query", table("-directory"))
        assert not role.allows("s3:GetObject", obj("documents/M1/2026-11/d.pdf"))
        assert not role.allows("events:PutEvents", "arn:aws:events:eu-west-3:1:event-bus/x")
    assert morning.allows("dynamodb:Query", table())  # the SMS kept through the night
    assert not morning.allows("ses:SendEmail", IDENTITY)


def test_the_export_builder_reads_the_members_files_and_writes_only_exports(
    roles: dict[str, Role],
) -> None:
    builder, api = roles["exports_builder"], roles["app"]
    for action in CONSUME:
        assert builder.allows(action, queue("exports"))
    for name in EVERY_QUEUE:
        if name != "exports":
            assert not builder.allows("sqs:ReceiveMessage", queue(name)), name
        assert not builder.allows("sqs:SendMessage", queue(name)), name
    assert api.allows("sqs:SendMessage", queue("exports"))
    for key in ("requests/M1/2026-11/r/a", "documents/M1/2026-11/d.pdf"):
        assert builder.allows("s3:GetObject", obj(key))
        assert not builder.allows("s3:PutObject", obj(key))
    assert builder.allows("s3:PutObject", obj("exports/M1/e.zip"))
    assert not builder.allows("s3:GetObject", obj("uploads/M1/u"))
    assert api.allows("s3:GetObject", obj("exports/M1/e.zip"))  # the link is the API's
    assert builder.allows("dynamodb:Query", table())
    assert builder.allows("dynamodb:UpdateItem", table())
    assert not builder.allows("dynamodb:PutItem", table())
    assert not builder.allows("dynamodb:Query", table("-directory"))
    assert not builder.allows("events:PutEvents", "arn:aws:events:eu-west-3:1:event-bus/x")
