"""Benefit tallies kept set-based: one hash join per statement instead of lookups per plant.

Revision 0026 summed ``jasyl_plant_benefit(p, k)`` over the trigger's transition table. Inlined,
that is still per plant an index probe into the species' method, another into its equation,
three correlated sub-selects (``OFFSET 0`` so that the biomass function stayed inlinable) and a
dozen reads of the constants' JSON: ~10 µs of CPU a plant (300,000 plants' figures: 3.1 s of
the server's CPU; 0.65 s as below), +68–80 % on a bulk insert.

Here the same figures come from ``benefit_method_rows``: one row per species with a method and
per "height measured or not" (the equation that case uses), its equation's coefficients and the
constants it needs already read as numbers (carbon fraction, cap, urban and root factors,
growth of its class, leaf storage, the six condition factors as an array). A statement joins its
plants to it by hash on (species, height measured?) and to the region's precipitation, then
applies the very expressions of ``jasyl_benefit_agb``/``jasyl_benefit_co2``/``jasyl_plant_benefit``
in the same order, so every float operation, and the per-plant rounding to 0.001, is the one of
0026: the tallies do not move (``tests/test_benefit_tallies_set.py``: tallies = the sums of the
per-plant function, exactly).
``jasyl_plant_benefit`` stays the per-plant form (a plant's card, the OGC collection).

An UPDATE's pairs of old and new rows whose benefit inputs are equal (a note, the published
flag, a photo) add and take away the same figures: they are left out before any computing.

A live import (``importers.staging``) copies its new plants chunk by chunk with the plants'
book-keeping deferred, and booked the benefits once at the end with
``jasyl_book_imported_benefits``: a second pass over the batch (a scan of all ``plants``, no
index on the batch) in series after the import. The benefits' INSERT trigger now stands aside
no more: each chunk's COPY books its own rows from its transition table (captured anyway for
the deferred triggers), on the import's writing thread while the reading thread prepares the
next chunk, and the booking function is gone.

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

# Per species and "height measured?": the equation 0026's jasyl_plant_benefit picks for that case,
# its form as a number, the coalesces it takes per plant, and the constants as numbers, each the
# value 0026 computes per plant. The constants are read once (OFFSET 0), not per method row, and
# the rows are made before the join (OFFSET 0), not the JSON read again for every plant joined.
METHOD_ROWS = """
CREATE VIEW benefit_method_rows AS
SELECT m.species_id, h.with_height,
       CASE e.form WHEN 'volume' THEN 1 WHEN 'ln' THEN 2 WHEN 'log10' THEN 3
                   WHEN 'difference' THEN 4 END AS form, e.a, e.b, e.c,
       coalesce(e.c, 0) = 0 AS without_c, coalesce(e.c, 0) AS c0, coalesce(e.d, 0) AS d0,
       e.dbh_min_cm, e.dbh_max_cm, coalesce(m.density_kg_m3, 0) AS density,
       m.leaf_area_a, m.leaf_area_b,
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
CROSS JOIN (SELECT jasyl_benefit_constants() AS k OFFSET 0) kc
OFFSET 0
"""


def _biomass(x: str, dbh: str) -> str:
    """jasyl_benefit_agb's expression over the columns of a method row ``x`` (height ``x.h``)."""
    return f"""CASE {x}.form
            WHEN 1 THEN {x}.a * {dbh} ^ {x}.b
                 * CASE WHEN {x}.without_c THEN 1 ELSE {x}.h ^ {x}.c END * {x}.density
            WHEN 2 THEN exp({x}.a + {x}.b * ln({dbh}))
            WHEN 3 THEN 10 ^ ({x}.a + {x}.b * log({dbh}))
            WHEN 4 THEN {x}.a * {dbh} ^ {x}.b - {x}.c0 * {dbh} ^ {x}.d0
        END"""


def _co2(x: str, dbh: str) -> str:
    """jasyl_benefit_co2's expression: kg CO₂ in the whole tree of diameter ``dbh``."""
    return f"""least({x}.carbon_fraction * greatest(
                   {_biomass(x, dbh)} * {x}.urban_factor * {x}.root_factor, 0),
                   {x}.carbon_cap_kg) * 44.0 / 12.0"""


# A tree's leaf area (m²) from its method row ``y``: the species' equation of DBH; revision 0029
# adds the crown's (Nowak 1996) where a species has none.
LEAF_AREA = "greatest(y.leaf_area_a + y.leaf_area_b * y.dbh, 0)"


def _figures(source: str, leaf_area: str) -> str:
    """Per plant of ``source`` (plants rows): region, green space, quantity, its kind as three
    flags and the figures of ``jasyl_plant_benefit`` (outside_range, co2_stored_kg,
    co2_sequestered_kg, rain_m3).

    Three layers (four with the measurements as float8): the joins and the clamped diameter; the tree's CO₂ (``OFFSET 0``: each a
    column the next layer reads, not an expression pasted into every use); the rounded figures,
    with the CO₂ a year on computed only where a sequestration is."""
    grown = _co2("y", "(y.dbh + y.growth_cm * y.condition_factors[y.condition])")
    return f"""
    SELECT y.region_id, y.green_space_id, y.quantity, y.computed, y.no_method, y.no_dbh,
        y.computed AND y.dbh <> y.dbh_given AS outside_range,
        CASE WHEN y.computed THEN round((y.stored * y.quantity)::numeric, 3) END
            AS co2_stored_kg,
        CASE WHEN NOT y.computed OR y.condition IS NULL AND y.status <> 'dead' THEN NULL
             WHEN y.status = 'dead' OR y.condition IN (5, 6) THEN 0
             ELSE round((({grown} - y.stored) * y.quantity)::numeric, 3) END
            AS co2_sequestered_kg,
        CASE WHEN y.computed AND ({leaf_area}) IS NOT NULL
                  AND y.rain_events_per_year IS NOT NULL THEN round((least(
             ({leaf_area})
             * y.leaf_storage_mm / 1000 * y.rain_events_per_year,
             y.annual_mm / 1000 * pi() * (y.crown_diameter_m / 2.0) ^ 2  -- NULL: no cap
             ) * y.quantity)::numeric, 3) END AS rain_m3
    FROM (
        SELECT x.*, CASE WHEN x.computed THEN {_co2("x", "x.dbh")} END AS stored
        FROM (
            SELECT p.region_id, p.green_space_id, p.quantity, p.status, p.condition,
                   p.crown_diameter_m, p.dbh_given, p.h, m.*, rain.annual_mm,
                   rain.rain_events_per_year, m.species_id IS NULL AS no_method,
                   m.species_id IS NOT NULL AND p.dbh_given IS NULL AS no_dbh,
                   m.species_id IS NOT NULL AND p.dbh_given IS NOT NULL AS computed,
                   least(greatest(p.dbh_given, coalesce(m.dbh_min_cm, p.dbh_given)),
                         coalesce(m.dbh_max_cm, p.dbh_given)) AS dbh
            -- the numeric measurements as float8 once (each cast goes through text)
            FROM (SELECT p.*, p.trunk_diameter_cm::float8 AS dbh_given, p.height_m::float8 AS h
                  FROM {source} p OFFSET 0) p
            LEFT JOIN benefit_method_rows m
                   ON m.species_id = p.species_id AND m.with_height = (p.height_m IS NOT NULL)
                  AND p.status IN ('alive', 'dead')
                  AND p.planting_form IN ('solitary', 'row', 'group')
            LEFT JOIN region_precipitation rain ON rain.region_id = p.region_id
            OFFSET 0) x
        OFFSET 0) y"""  # noqa: S608 - constants


def _deltas(source: str, sign: str, leaf_area: str) -> str:
    """Signed deltas of the tally columns, one row per plant of ``source``; ``sign`` "-" or ""
    (a unary plus would copy every numeric)."""
    return f"""
        SELECT b.region_id, b.green_space_id, {sign} 1 AS plants,
            {sign} CASE WHEN b.computed THEN b.quantity ELSE 0 END::bigint AS trees,
            {sign} b.no_method::int AS without_method,
            {sign} b.no_dbh::int AS without_dbh,
            {sign} b.outside_range::int AS outside_range,
            {sign} (b.computed AND b.co2_sequestered_kg IS NULL)::int AS not_assessed,
            {sign} (b.computed AND b.rain_m3 IS NULL)::int AS without_rain,
            {sign} coalesce(b.co2_stored_kg, 0) AS co2_stored_kg,
            {sign} coalesce(b.co2_sequestered_kg, 0) AS co2_sequestered_kg,
            {sign} coalesce(b.rain_m3, 0) AS rain_m3
        FROM ({_figures(source, leaf_area)}) b"""  # noqa: S608


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


def tally_functions(leaf_area: str = LEAF_AREA) -> list[str]:
    """The tallies' trigger function and their rebuild, with a tree's leaf area as given."""
    updated = (
        _deltas(_changed("new_rows", "old_rows"), "", leaf_area)
        + " UNION ALL "
        + _deltas(_changed("old_rows", "new_rows"), "-", leaf_area)
    )
    return [
        f"""
    CREATE OR REPLACE FUNCTION jasyl_benefit_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_upsert(_deltas("new_rows", "", leaf_area))}
        ELSIF TG_OP = 'DELETE' THEN {_upsert(_deltas("old_rows", "-", leaf_area))}
        ELSE {_upsert(updated)}
        END IF;
        RETURN NULL;
    END $$""",
        f"""
    CREATE OR REPLACE FUNCTION jasyl_rebuild_benefit_tallies() RETURNS void LANGUAGE sql AS $$
        DELETE FROM benefit_tallies;
        INSERT INTO benefit_tallies ({KEY}, {", ".join(COLUMNS)})
        SELECT {KEY}, {", ".join(f"sum({c})" for c in COLUMNS)}
        FROM ({_deltas("plants", "", leaf_area)}) d GROUP BY {KEY};
    $$""",  # noqa: S608
    ]


FUNCTIONS = [
    METHOD_ROWS,
    *tally_functions(),
    # A live import's chunks are booked as they are copied: its INSERT trigger no longer
    # stands aside (see the docstring), and the booking after the import would count them twice.
    "DROP FUNCTION jasyl_book_imported_benefits(integer)",
    "DROP TRIGGER plants_benefits_insert ON plants",
    """CREATE TRIGGER plants_benefits_insert AFTER INSERT ON plants
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION jasyl_benefit_tally()""",
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
    """Back to 0026's functions and INSERT trigger (the others call the functions by name)."""
    op.execute("DROP TRIGGER plants_benefits_insert ON plants")
    for statement in _revision_0026().KEEPING:
        if "tally_truncate" in statement or (
            "CREATE TRIGGER" in statement and "plants_benefits_insert" not in statement
        ):
            continue
        op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("DROP VIEW benefit_method_rows")
