"""Benefit tallies kept set-based: one hash join per statement instead of lookups per plant.

Revision 0026 summed ``jasyl_plant_benefit(p, k)`` over the trigger's transition table. Inlined,
that is still per plant an index probe into the species' method, another into its equation,
three correlated sub-selects (``OFFSET 0`` so that the biomass function stayed inlinable) and a
dozen reads of the constants' JSON: ~5 µs a plant, +68–80 % on a bulk insert.

Here the same figures come from ``benefit_method_rows``: one row per species with a method and
per "height measured or not" (the equation that case uses), its equation's coefficients and the
constants it needs already read as numbers (carbon fraction, cap, urban and root factors,
growth of its class, leaf storage, the six condition factors as an array). A statement joins its
plants to it by hash on (species, height measured?) and to the region's precipitation, then
applies the very expressions of ``jasyl_benefit_agb``/``jasyl_benefit_co2``/``jasyl_plant_benefit``
in the same order, so every float operation, and the per-plant rounding to 0.001, is the one of
0026: the tallies do not move (``tests/test_benefits.py``: tallies = per-plant function exactly).
``jasyl_plant_benefit`` stays the per-plant form (a plant's card, the OGC collection).

An UPDATE's pairs of old and new rows whose benefit inputs are equal (a note, the published
flag, a photo) add and take away the same figures: they are left out before any computing.

Revision ID: 0028
Revises: 0027
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_DEFERRED = "current_setting('jasyl.plants_bookkeeping', true) IS DISTINCT FROM 'deferred'"
KEY = "region_id, green_space_id"
COLUMNS = [
    "plants",
    "trees",
    "without_method",
    "without_dbh",
    "outside_range",
    "not_assessed",
    "without_rain",
    "co2_stored_kg",
    "co2_sequestered_kg",
    "rain_m3",
]
# What a plant's figures depend on: an UPDATE leaving all of these alone changes no tally.
INPUTS = [
    "region_id",
    "green_space_id",
    "species_id",
    "status",
    "planting_form",
    "quantity",
    "trunk_diameter_cm",
    "height_m",
    "crown_diameter_m",
    "condition",
]

# Per species and "height measured?": the equation 0026's jasyl_plant_benefit picks for that case
# and the constants as numbers, each computed as 0026 computes it per plant (same value).
METHOD_ROWS = """
CREATE VIEW benefit_method_rows AS
SELECT m.species_id, h.with_height, e.form, e.a, e.b, e.c, e.d, e.dbh_min_cm, e.dbh_max_cm,
       m.density_kg_m3, m.leaf_area_a, m.leaf_area_b,
       CASE WHEN e.urban THEN 1 ELSE (k->>'forest_to_urban')::float8 END AS urban_factor,
       CASE WHEN e.roots = 'utd' THEN 1 / (k->>'utd_aboveground_share')::float8
            ELSE (k->>'itree_root_factor')::float8 END AS root_factor,
       (k->>'carbon_fraction')::float8 AS carbon_fraction,
       (k->>'carbon_cap_kg')::float8 AS carbon_cap_kg,
       (k->>('growth_' || m.growth_class || '_cm'))::float8 AS growth_cm,
       (k->>'leaf_storage_mm')::float8 AS leaf_storage_mm,
       ARRAY(SELECT (k->>('condition_' || c))::float8 FROM generate_series(1, 6) c)
           AS condition_factors
FROM species_benefit_methods m
CROSS JOIN (VALUES (false), (true)) h (with_height)
JOIN benefit_equations e ON e.code =
     CASE WHEN h.with_height AND m.equation_dh IS NOT NULL THEN m.equation_dh ELSE m.equation_d END
CROSS JOIN (SELECT jasyl_benefit_constants() AS k) kc
"""


def _biomass(dbh: str) -> str:
    """jasyl_benefit_agb's expression over the columns of a method row ``m``, height ``x.h``."""
    return f"""CASE x.form
            WHEN 'volume' THEN x.a * {dbh} ^ x.b
                 * CASE WHEN coalesce(x.c, 0) = 0 THEN 1 ELSE x.h ^ x.c END
                 * coalesce(x.density_kg_m3, 0)
            WHEN 'ln' THEN exp(x.a + x.b * ln({dbh}))
            WHEN 'log10' THEN 10 ^ (x.a + x.b * log({dbh}))
            WHEN 'difference' THEN x.a * {dbh} ^ x.b - coalesce(x.c, 0) * {dbh} ^ coalesce(x.d, 0)
        END"""


def _co2(dbh: str) -> str:
    """jasyl_benefit_co2's expression: kg CO₂ in the whole tree of diameter ``dbh``."""
    return f"""least(x.carbon_fraction * greatest(
                   {_biomass(dbh)} * x.urban_factor * x.root_factor, 0),
                   x.carbon_cap_kg) * 44.0 / 12.0"""


def _figures(source: str) -> str:
    """Per plant of ``source`` (plants rows): region, green space, quantity and the figures of
    ``jasyl_plant_benefit`` (kind, outside_range, co2_stored_kg, co2_sequestered_kg, rain_m3).

    Three layers, each ``OFFSET 0`` so that what it computes is a column the next reads (not an
    expression pasted into every use): the joins and the clamped diameter; the tree's CO₂ now
    and a year on; the rounded figures."""
    return f"""
    SELECT y.region_id, y.green_space_id, y.quantity, y.kind,
        y.kind = 'computed' AND y.dbh <> y.dbh_given AS outside_range,
        CASE WHEN y.kind = 'computed' THEN round((y.stored * y.quantity)::numeric, 3) END
            AS co2_stored_kg,
        CASE WHEN y.kind <> 'computed' OR y.condition IS NULL AND y.status <> 'dead' THEN NULL
             WHEN y.status = 'dead' OR y.condition IN (5, 6) THEN 0
             ELSE round(((y.grown - y.stored) * y.quantity)::numeric, 3) END
            AS co2_sequestered_kg,
        CASE WHEN y.kind = 'computed' AND y.leaf_area_a IS NOT NULL
                  AND y.rain_events_per_year IS NOT NULL THEN round((least(
             greatest(y.leaf_area_a + y.leaf_area_b * y.dbh, 0)
             * y.leaf_storage_mm / 1000 * y.rain_events_per_year,
             y.annual_mm / 1000 * pi() * (y.crown_diameter_m / 2.0) ^ 2  -- NULL: no cap
             ) * y.quantity)::numeric, 3) END AS rain_m3
    FROM (
        SELECT x.*, {_co2("x.dbh")} AS stored,
               {_co2("(x.dbh + x.growth_cm * x.condition_factors[x.condition])")} AS grown
        FROM (
            SELECT p.region_id, p.green_space_id, p.quantity, p.status, p.condition,
                   p.crown_diameter_m, p.trunk_diameter_cm::float8 AS dbh_given,
                   p.height_m::float8 AS h, m.*, rain.annual_mm, rain.rain_events_per_year,
                   CASE WHEN m.species_id IS NULL THEN 'no_method'
                        WHEN p.trunk_diameter_cm IS NULL THEN 'no_dbh'
                        ELSE 'computed' END::text AS kind,
                   least(greatest(p.trunk_diameter_cm::float8,
                                  coalesce(m.dbh_min_cm, p.trunk_diameter_cm::float8)),
                         coalesce(m.dbh_max_cm, p.trunk_diameter_cm::float8)) AS dbh
            FROM {source} p
            LEFT JOIN benefit_method_rows m
                   ON m.species_id = p.species_id AND m.with_height = (p.height_m IS NOT NULL)
                  AND p.status IN ('alive', 'dead')
                  AND p.planting_form IN ('solitary', 'row', 'group')
            LEFT JOIN region_precipitation rain ON rain.region_id = p.region_id
            OFFSET 0) x
        OFFSET 0) y"""  # noqa: S608 - constants


def _deltas(source: str, sign: str) -> str:
    """Signed deltas of the tally columns, one row per plant of ``source``; ``sign`` "-" or ""
    (a unary plus would copy every numeric)."""
    return f"""
        SELECT b.region_id, b.green_space_id, {sign} 1 AS plants,
            {sign} CASE WHEN b.kind = 'computed' THEN b.quantity ELSE 0 END::bigint AS trees,
            {sign} (b.kind = 'no_method')::int AS without_method,
            {sign} (b.kind = 'no_dbh')::int AS without_dbh,
            {sign} (b.kind = 'computed' AND b.outside_range)::int AS outside_range,
            {sign} (b.kind = 'computed' AND b.co2_sequestered_kg IS NULL)::int AS not_assessed,
            {sign} (b.kind = 'computed' AND b.rain_m3 IS NULL)::int AS without_rain,
            {sign} coalesce(b.co2_stored_kg, 0) AS co2_stored_kg,
            {sign} coalesce(b.co2_sequestered_kg, 0) AS co2_sequestered_kg,
            {sign} coalesce(b.rain_m3, 0) AS rain_m3
        FROM ({_figures(source)}) b"""  # noqa: S608


def _changed(rows: str, other: str) -> str:
    """The rows of one transition table without a twin of equal inputs (same id) in the other."""
    same = " AND ".join(f"o.{c} IS NOT DISTINCT FROM r.{c}" for c in INPUTS)
    return f"(SELECT r.* FROM {rows} r WHERE NOT EXISTS (SELECT 1 FROM {other} o WHERE o.id = r.id AND {same}))"  # noqa: E501, S608


def _upsert(deltas: str) -> str:
    sums = ", ".join(f"sum({c}) AS {c}" for c in COLUMNS)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in COLUMNS)
    increments = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in COLUMNS)
    return f"""
        INSERT INTO benefit_tallies AS t ({KEY}, {", ".join(COLUMNS)})
        SELECT {KEY}, {sums} FROM ({deltas}) d
        GROUP BY {KEY} HAVING {nonzero} ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET {increments};"""  # noqa: S608


UPDATED = (
    _deltas(_changed("new_rows", "old_rows"), "")
    + " UNION ALL "
    + _deltas(_changed("old_rows", "new_rows"), "-")
)
FUNCTIONS = [
    METHOD_ROWS,
    f"""
    CREATE OR REPLACE FUNCTION jasyl_benefit_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_upsert(_deltas("new_rows", ""))}
        ELSIF TG_OP = 'DELETE' THEN {_upsert(_deltas("old_rows", "-"))}
        ELSE {_upsert(UPDATED)}
        END IF;
        RETURN NULL;
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION jasyl_rebuild_benefit_tallies() RETURNS void LANGUAGE sql AS $$
        DELETE FROM benefit_tallies;
        INSERT INTO benefit_tallies ({KEY}, {", ".join(COLUMNS)})
        SELECT {KEY}, {", ".join(f"sum({c})" for c in COLUMNS)}
        FROM ({_deltas("plants", "")}) d GROUP BY {KEY};
    $$""",  # noqa: S608
    f"""
    CREATE OR REPLACE FUNCTION jasyl_book_imported_benefits(batch integer)
    RETURNS void LANGUAGE sql AS $$
        {_upsert(_deltas("(SELECT * FROM plants WHERE import_batch_id = batch)", ""))}
    $$""",  # noqa: S608
]


def _revision_0026() -> ModuleType:
    """Revision 0026 (loaded, not copied): its functions are what a downgrade puts back."""
    path = Path(__file__).with_name("0026_tree_benefits.py")
    spec = importlib.util.spec_from_file_location("revision_0026", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    """Back to 0026's functions (the triggers call them by name, unchanged)."""
    for statement in _revision_0026().KEEPING:
        if "CREATE FUNCTION jasyl_benefit_tally_truncate" in statement or "TRIGGER" in statement:
            continue
        op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("DROP VIEW benefit_method_rows")
