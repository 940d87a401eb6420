"""Seeds the partner directory from `infra/data/professionals.csv`.

`scripts/generate_professionals.py` writes that file; a real directory export with the same
columns can replace it."""

from __future__ import annotations

import csv
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chalicelib.domain.professionals import Professional
from chalicelib.store.professionals import BATCH_SIZE, ProfessionalRepository

DIRECTORY_FILE = Path(__file__).resolve().parent / "data" / "professionals.csv"
# The moto server answers several BatchWriteItems at once: a few writers cut `make run`'s wait.
WRITERS = 4


def _professional(row: dict[str, str]) -> Professional:
    name = " ".join(part for part in (row["title"], row["first_name"], row["last_name"]) if part)
    return Professional(
        professional_id=row["professional_id"],
        name=name,
        specialty=row["specialty"],
        address=row["address"],
        postal_code=row["postal_code"],
        city=row["city"],
        insee_code=row["insee_code"],
        department=row["department"],
        latitude=float(row["latitude"]),
        longitude=float(row["longitude"]),
        phone=row["phone"],
    )


def read_directory(
    departments: Collection[str] | None = None, path: Path = DIRECTORY_FILE
) -> list[Professional]:
    """The directory's practitioners, or only those of some départements."""
    with path.open(encoding="utf-8", newline="") as stream:
        return [
            _professional(row)
            for row in csv.DictReader(stream)
            if departments is None or row["department"] in departments
        ]


def seed_professionals(
    departments: Collection[str] | None = None, path: Path = DIRECTORY_FILE
) -> int:
    """Write the directory (or some départements of it) into the table; returns how many."""
    professionals = read_directory(departments, path)
    chunk = BATCH_SIZE * 8
    chunks = [professionals[i : i + chunk] for i in range(0, len(professionals), chunk)]
    repository = ProfessionalRepository()
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return sum(pool.map(repository.put_many, chunks))
