"""Load the benefit method's reference data (``reference/*.csv``) into the database.

The files are the versioned record of every coefficient, constant, precipitation figure and
price with its source. Migrations call ``sync_reference``: it upserts by natural key, so a later
migration can call it again after a file changed (except a region's precipitation once a person
has set its rain events: ``registry.benefits.rain``), and then recounts ``benefit_tallies``, whose
figures depend on the equations (prices do not: money is computed at read time).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

REFERENCE = Path(__file__).with_name("reference")


def rows(name: str) -> Iterator[dict[str, str | None]]:
    """A reference file's rows, an empty cell read as None (not measured, never zero)."""
    with (REFERENCE / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {key: (value if value != "" else None) for key, value in row.items()}


UPSERTS = {
    "equations": """
        INSERT INTO benefit_equations (code, form, a, b, c, d, dbh_min_cm, dbh_max_cm, urban,
                                       roots, source)
        VALUES (:code, :form, CAST(:a AS float8), CAST(:b AS float8), CAST(:c AS float8),
                CAST(:d AS float8), CAST(:dbh_min_cm AS float8), CAST(:dbh_max_cm AS float8),
                CAST(:urban AS boolean), :roots, :source)
        ON CONFLICT (code) DO UPDATE SET form = EXCLUDED.form, a = EXCLUDED.a, b = EXCLUDED.b,
            c = EXCLUDED.c, d = EXCLUDED.d, dbh_min_cm = EXCLUDED.dbh_min_cm,
            dbh_max_cm = EXCLUDED.dbh_max_cm, urban = EXCLUDED.urban, roots = EXCLUDED.roots,
            source = EXCLUDED.source""",
    "species": """
        INSERT INTO species_benefit_methods (species_id, equation_dh, equation_d, density_kg_m3,
            growth_class, leaf_area_a, leaf_area_b, fallback, source)
        SELECT s.id, :equation_dh, :equation_d, CAST(:density_kg_m3 AS float8), :growth_class,
               CAST(:leaf_area_a AS float8), CAST(:leaf_area_b AS float8),
               coalesce(:fallback, ''), coalesce(:source, '')
        FROM species s WHERE s.code = :species
        ON CONFLICT (species_id) DO UPDATE SET equation_dh = EXCLUDED.equation_dh,
            equation_d = EXCLUDED.equation_d, density_kg_m3 = EXCLUDED.density_kg_m3,
            growth_class = EXCLUDED.growth_class, leaf_area_a = EXCLUDED.leaf_area_a,
            leaf_area_b = EXCLUDED.leaf_area_b, fallback = EXCLUDED.fallback,
            source = EXCLUDED.source""",
    "constants": """
        INSERT INTO benefit_constants (name, value, source)
        VALUES (:name, CAST(:value AS float8), :source)
        ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, source = EXCLUDED.source""",
    "precipitation": """
        INSERT INTO region_precipitation (region_id, annual_mm, rain_events_per_year, source)
        SELECT r.id, CAST(:annual_mm AS float8), CAST(:rain_events_per_year AS float8), :source
        FROM regions r WHERE r.iso_code = :region
        ON CONFLICT (region_id) DO UPDATE SET annual_mm = EXCLUDED.annual_mm,
            rain_events_per_year = EXCLUDED.rain_events_per_year, source = EXCLUDED.source
        WHERE region_precipitation.rain_events_per_year IS NULL""",
    "prices": """
        INSERT INTO benefit_prices (region_id, item, basis, valid_from, kzt, unit, source)
        SELECT (SELECT r.id FROM regions r WHERE r.iso_code = :region), :item, :basis,
               CAST(:valid_from AS date), CAST(:kzt AS numeric), :unit, :source
        ON CONFLICT (region_id, item, basis, valid_from) DO UPDATE SET kzt = EXCLUDED.kzt,
            unit = EXCLUDED.unit, source = EXCLUDED.source""",
}


def _set_by_a_person(connection: Connection, row: dict[str, str | None]) -> bool:
    """A region whose rain events someone set (``jasyl benefits rain set``): its row is kept."""
    query = """SELECT 1 FROM region_precipitation p JOIN regions r ON r.id = p.region_id
               WHERE r.iso_code = :region AND p.rain_events_per_year IS NOT NULL"""
    return connection.execute(text(query), row).first() is not None


def sync_reference(connection: Connection) -> dict[str, int]:
    """Upsert every reference file, then recount the tallies; how many rows each file had."""
    counts = {}
    for name, statement in UPSERTS.items():
        loaded = list(rows(name))
        for row in loaded:
            found = connection.execute(text(statement), row).rowcount
            if found != 1 and not (name == "precipitation" and _set_by_a_person(connection, row)):
                raise ValueError(f"benefits reference {name}.csv: no match for {row}")
        counts[name] = len(loaded)
    connection.execute(text("SELECT jasyl_rebuild_benefit_tallies()"))
    return counts
