"""How a member wants to hear from Génération: `GET`/`PUT /me/preferences`."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.domain.members import Preferences
from chalicelib.domain.model import Model
from chalicelib.domain.requests import parse_body
from chalicelib.services.ports import UnitOfWork


class PreferencesBody(Model):
    """The three choices, all of them (a PUT replaces): booleans, never `"true"` or `1`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: bool
    sms: bool
    paperless: bool


def preferences(uow: UnitOfWork, member_id: str) -> Preferences:
    return uow.members.get(member_id).preferences


def set_preferences(uow: UnitOfWork, member_id: str, payload: Any) -> Preferences:
    """Replace the member's preferences (400 unknown field, 422 wrong type); the stored ones."""
    body = parse_body(PreferencesBody, payload, "Certains champs sont invalides.")
    uow.members.get(member_id)  # 404 before any write
    chosen = Preferences.model_validate(body.model_dump())
    uow.members.set_preferences(member_id, chosen)
    return chosen
