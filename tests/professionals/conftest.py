"""The part of the demo directory these tests search: a few départements, seeded once."""

from __future__ import annotations

import pytest

from chalicelib.domain.professionals import Professional
from infra.local_stack import LocalStack
from infra.professionals_seed import read_directory, seed_professionals

# Paris, both Corsican départements, La Réunion, the Gard with its neighbours across the
# Rhône (Vaucluse, Bouches-du-Rhône) for the searches that widen with a radius, and
# Guadeloupe, the nearest partners to Saint-Barthélemy and Saint-Martin (which have none).
SEEDED_DEPARTMENTS = frozenset({"75", "2A", "2B", "974", "30", "84", "13", "971"})


@pytest.fixture(scope="session")
def directory(local_stack: LocalStack) -> list[Professional]:
    """The seeded practitioners, as the directory file lists them."""
    seed_professionals(SEEDED_DEPARTMENTS)
    return read_directory(SEEDED_DEPARTMENTS)
