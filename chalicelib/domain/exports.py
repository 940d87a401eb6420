"""A member's export of their data (GDPR articles 15 and 20): one zip, built from a queue.

Stored, an export is `building` then `ready`; a member reads `building`, `ready` or `expired`:
the link lives 24 hours from the moment the zip is ready, the zip itself 7 days (the bucket's
lifecycle rule on `exports/`, the item's TTL). A build that has not finished by its deadline
(the queue gave up on it: its DLQ) is `expired` too, and no longer blocks a new export.
"""

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import ConfigDict, Field

from chalicelib.domain import clock
from chalicelib.domain.model import Model
from chalicelib.domain.requests import Timestamp

LINK_LIFETIME = timedelta(hours=24)
ARCHIVE_LIFETIME = timedelta(days=7)
# Longer than the queue can keep trying: 5 receives, 30 minutes of visibility each, plus the
# last build's own 5 minutes (infra/template.yaml, .chalice/config.json).
BUILD_DEADLINE = timedelta(hours=3)
# How long one build holds its export: more than the function's timeout (300 s), less than the
# queue's visibility timeout, so a copy delivered meanwhile does not build it a second time and
# the original message, if its build died, finds the claim lapsed when it comes back.
BUILD_CLAIM = timedelta(minutes=6)

ZIP = "application/zip"


class ExportStatus(StrEnum):
    building = "building"
    ready = "ready"
    expired = "expired"


class ExportPointer(Model):
    """The `exports` queue's message: IDs only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: str
    export_id: str


class ExportRecord(Model):
    """As stored (`MEMBER#<id>` / `EXPORT#<export_id>`): `status` is `building` or `ready`."""

    export_id: str
    member_id: str
    status: ExportStatus
    created_at: str
    build_by: str
    ready_at: str | None = None
    object_key: str | None = None
    size: int | None = None

    @classmethod
    def new(cls, member_id: str, export_id: str, now: datetime) -> "ExportRecord":
        return cls(
            export_id=export_id,
            member_id=member_id,
            status=ExportStatus.building,
            created_at=clock.iso_z(now),
            build_by=clock.iso_z(now + BUILD_DEADLINE),
        )

    def link_ends(self) -> datetime | None:
        """When the download link stops: 24 hours after the zip was ready."""
        if self.ready_at is None:
            return None
        return clock.parse_timestamp(self.ready_at) + LINK_LIFETIME

    def status_at(self, now: datetime) -> ExportStatus:
        if self.status is ExportStatus.ready:
            ends = self.link_ends()
            return ExportStatus.ready if ends is not None and now < ends else ExportStatus.expired
        if now < clock.parse_timestamp(self.build_by):
            return ExportStatus.building
        return ExportStatus.expired  # abandoned: its build never finished


class ExportAnswer(Model):
    """`POST /me/exports` and `GET /me/exports/{export_id}`."""

    export_id: str
    status: ExportStatus
    url: str | None = Field(
        description="While `ready`: a presigned GET of the zip, made afresh at each call, valid "
        "a few minutes and never past `expires_at`; ask again for a new one. Null otherwise."
    )
    expires_at: Timestamp | None = Field(
        description="When the download link ends (24 hours after the zip was ready); null "
        "while building, or when a build was abandoned."
    )


def archive_name(day: date) -> str:
    """The name a browser saves the zip as."""
    return f"mes-donnees-generation-{day.isoformat()}.zip"


def letter_entry(document_id: str, filename: str) -> str:
    return f"courriers/{document_id}-{filename}"


def attachment_entry(request_id: str, attachment_id: str, filename: str) -> str:
    safe = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in filename)
    return f"pieces-jointes/{request_id}/{attachment_id}-{safe or 'fichier'}"


def readme(
    exported_on: date,
    *,
    requests: int,
    letters: int,
    attachments: int,
    attachments_gone: int,
    attachments_purged: int = 0,
) -> str:
    """`README.txt`: what each file of the zip is, in French. `attachments_gone`: files a
    request still lists that are no longer held; `attachments_purged`: requests whose files
    the retention deleted (they list none any more, `attachments_deleted_at` says when)."""
    gone = (
        f"\n{attachments_gone} pièce(s) jointe(s) mentionnée(s) dans requests.json ne sont plus "
        "conservées (durées de conservation) et ne figurent donc pas dans cette archive.\n"
        if attachments_gone
        else ""
    )
    if attachments_purged:
        gone += (
            f"\nLes pièces jointes de {attachments_purged} démarche(s) ne sont plus conservées "
            "(durée de conservation écoulée) : requests.json indique pour chacune quand elles "
            "ont été supprimées (attachments_deleted_at).\n"
        )
    return f"""Génération — vos données personnelles
Export du {exported_on.strftime("%d/%m/%Y")}

Cette archive contient les données que Génération détient sur vous dans l'espace
« Démarches » (articles 15 et 20 du RGPD). Les fichiers .json sont lisibles par tout
éditeur de texte ou tableur ; ils reprennent ce qu'affiche votre espace adhérent.

Dans les fichiers .json, les dates et heures (created_at, at…) sont en temps universel
(UTC), comme l'indique leur « Z » final : ajoutez 1 heure en hiver, 2 heures en été,
pour l'heure de Paris (2026-11-29T23:30:00Z est le 30 novembre 2026 à 0 h 30 à Paris).
Les dates seules (date de soins, de naissance…) sont des jours, sans heure.

README.txt
    Ce fichier.

profile.json
    Votre profil : identité, coordonnées, adresse postale, contrat et coordonnées
    bancaires (l'IBAN est masqué : seuls le code pays et les 4 derniers caractères
    apparaissent).

beneficiaries.json
    Les personnes couvertes par votre contrat : vous-même, votre conjoint et vos
    enfants, avec leur date de naissance et leur fin de couverture éventuelle.

requests.json
    Vos {requests} démarche(s), de la plus récente à la plus ancienne, chacune avec son
    historique, les échanges avec nos services (messages), ce que vous avez déposé
    (rappel de la demande, IBAN masqué), ses pièces jointes et les courriers envoyés.

courriers/
    Vos {letters} courrier(s) et attestation(s) au format PDF, tels que « Mes courriers
    et documents » les propose au téléchargement. Chaque nom commence par l'identifiant
    du document.

pieces-jointes/
    Les {attachments} pièce(s) jointe(s) que vous nous avez transmises et que nous
    conservons encore, rangées par démarche (un dossier par identifiant de démarche).
{gone}
Cette archive reste téléchargeable 24 heures depuis « Mes données personnelles » de votre
espace adhérent ; elle est supprimée 7 jours après sa création. Pour toute question sur
vos données, écrivez au délégué à la protection des données de Génération.
"""
