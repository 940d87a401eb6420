"""How a member wants to hear from Génération: `GET`/`PUT /me/preferences`."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.domain.errors import FieldError, ValidationFailed
from chalicelib.domain.members import Preferences
from chalicelib.domain.model import Model
from chalicelib.domain.notifications import sms_number
from chalicelib.domain.requests import parse_body
from chalicelib.services.ports import UnitOfWork

NO_MOBILE = (
    "Aucun numéro de portable n'est enregistré dans vos coordonnées : "
    "ajoutez-en un pour recevoir des SMS."
)


class PreferencesBody(Model):
    """The three choices, all of them (a PUT replaces): booleans, never `"true"` or `1`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: bool
    sms: bool
    paperless: bool


def preferences(uow: UnitOfWork, member_id: str) -> Preferences:
    return uow.members.get(member_id).preferences


def set_preferences(uow: UnitOfWork, member_id: str, payload: Any) -> Preferences:
    """Replace the member's preferences (400 unknown field, 422 wrong type); the stored ones.

    SMS is turned on only with a mobile on file (`sms_number`, the notifications' own rule),
    else 422 on `sms`. Kept on, it is not refused: a member whose mobile went since re-saves
    the page unchanged (to change another choice), and SMS resumes with their next mobile."""
    body = parse_body(PreferencesBody, payload, "Certains champs sont invalides.")
    member = uow.members.get(member_id)  # 404 before any write
    if body.sms and not member.preferences.sms and sms_number(member.phone) is None:
        raise ValidationFailed(NO_MOBILE, [FieldError("sms", NO_MOBILE)])
    chosen = Preferences.model_validate(body.model_dump())
    uow.members.set_preferences(member_id, chosen)
    return chosen
