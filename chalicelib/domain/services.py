"""Génération's services: each has its queue and its handler (`app.py` names them from here
without importing the catalogue, so no function builds the démarches' models to name them)."""

from enum import StrEnum


class Service(StrEnum):
    remboursements = "remboursements"
    devis = "devis"
    hospitalisation = "hospitalisation"
    tiers_payant = "tiers_payant"
    adhesion = "adhesion"
    cotisations = "cotisations"
    reclamations = "reclamations"
    relation_adherent = "relation_adherent"
