"""The signed-in member's own data: `GET /me`, `GET /me/beneficiaries`, `/me/preferences`."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api import body
from chalicelib.api.auth import current_member_id
from chalicelib.api.errors import ApiBlueprint, json_response
from chalicelib.api.route_docs import MEMBERS_ONLY
from chalicelib.domain.members import BeneficiariesAnswer, MeAnswer, Preferences
from chalicelib.services import preferences
from chalicelib.store.members import MemberRepository
from chalicelib.store.unit_of_work import unit_of_work

blueprint = ApiBlueprint(__name__)


@blueprint.route(
    "/me",
    methods=["GET"],
    tag="member",
    answer=MeAnswer,
    errors={403: MEMBERS_ONLY, 404: "No profile for the token's member."},
)
def get_me() -> Response:
    """The signed-in member's profile.

    Contact details, postal address, bank account (IBAN masked: country code and last four
    characters) and contract. `bank_account` is null when none is on file. `sms_reachable`
    says whether `phone` is a mobile, which SMS reach (else `sms` cannot be turned on in
    `PUT /me/preferences`).
    """
    member = MemberRepository().get(current_member_id())
    return json_response(MeAnswer.of(member))


@blueprint.route(
    "/me/beneficiaries",
    methods=["GET"],
    tag="member",
    answer=BeneficiariesAnswer,
    errors={403: MEMBERS_ONLY},
)
def get_my_beneficiaries() -> Response:
    """The people covered by the member's contract.

    The member and the people on their contract, in the order they joined. `coverage_end` is
    null while coverage runs.
    """
    beneficiaries = MemberRepository().beneficiaries(current_member_id())
    answer = BeneficiariesAnswer.of(beneficiaries)
    return json_response(answer)


@blueprint.route(
    "/me/preferences",
    methods=["GET"],
    tag="member",
    answer=Preferences,
    errors={403: MEMBERS_ONLY, 404: "No profile for the token's member."},
)
def get_my_preferences() -> Response:
    """How the member wants to hear from Génération.

    `email`: told by e-mail when something happens on a démarche; `sms`: by SMS too (never
    between 20:00 and 08:00 where the mobile rings: Paris time, or the overseas département's
    own for its numbers); `paperless`: letters in « Mes courriers » only, none
    posted.
    """
    chosen = preferences.preferences(unit_of_work(), current_member_id())
    return json_response(chosen)


@blueprint.route(
    "/me/preferences",
    methods=["PUT"],
    tag="member",
    answer=Preferences,
    answer_description="Stored: the member's preferences.",
    body=preferences.PreferencesBody,
    examples={"sms": {"email": True, "sms": True, "paperless": True}},
    errors={
        400: "Malformed JSON, not an object, or an unknown field.",
        403: MEMBERS_ONLY,
        404: "No profile for the token's member.",
        422: (
            "A field missing or not a JSON boolean; or `sms` turned on (it was off) while the "
            "profile holds no mobile number (none, or a landline)."
        ),
    },
)
def put_my_preferences() -> Response:
    """Choose how to hear from Génération.

    The three choices, all of them: the stored preferences are answered. They apply to what
    happens next (a letter issued from now on is posted or not as `paperless` says).

    SMS go to a mobile only: turning `sms` on while the profile's `phone` is none or a landline
    (`GET /me`: `sms_reachable` false) is refused with 422 on the field `sms`. Sent again while
    already on, `sms: true` is kept whatever the number (the page re-saved unchanged after the
    mobile was removed): no SMS goes until a mobile is on file again. Turning it off always
    works.
    """
    payload = body.json_body(blueprint.current_request)
    chosen = preferences.set_preferences(unit_of_work(), current_member_id(), payload)
    return json_response(chosen)
