"""Ecosystem benefits per tree: the method's reference data and totals kept like the tallies.

Reference tables (equations, per-species methods, constants, precipitation, dated prices) are
loaded from ``registry/benefits/reference/*.csv`` with their sources. ``benefit_tallies`` sums
the physical benefits (kg CO₂ stored and sequestered per year, m³ of rain intercepted) and the
counts of plants without a method, a DBH, an assessed condition, per region and green space. It is
kept by statement-level triggers on ``plants`` with transition tables, in the writing transaction,
exactly as ``inventory_tallies`` (revision 0012): deltas grouped and upserted in key order. A
pipelined import defers the INSERT trigger (revision 0016) and books its batch with
``jasyl_book_imported_benefits(batch)``. ``jasyl_plant_benefit`` mirrors
``registry.benefits.rules.tree_benefit``; per-plant figures are rounded to 0.001 before they are
added, so tallies equal a recomputation exactly. Money is not stored: figures × the price in
effect at read time.

Revision ID: 0026
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.benefits.reference import sync_reference

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
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

FUNCTIONS = [
    # Dry above-ground biomass (kg) by the equation's form: rules.above_ground_biomass.
    """
    CREATE FUNCTION jasyl_benefit_agb(e benefit_equations, dbh float8, h float8, density float8)
    RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE e.form
            WHEN 'volume' THEN e.a * dbh ^ e.b
                 * CASE WHEN coalesce(e.c, 0) = 0 THEN 1 ELSE h ^ e.c END * coalesce(density, 0)
            WHEN 'ln' THEN exp(e.a + e.b * ln(dbh))
            WHEN 'log10' THEN 10 ^ (e.a + e.b * log(dbh))
            WHEN 'difference' THEN e.a * dbh ^ e.b - coalesce(e.c, 0) * dbh ^ coalesce(e.d, 0)
        END
    $$""",
    # kg CO₂ in the whole tree: rules.co2_kg (forest × 0.8, roots, C fraction, cap, 44/12).
    # One expression, so the planner inlines it into the statement that calls it.
    """
    CREATE FUNCTION jasyl_benefit_co2(
        e benefit_equations, dbh float8, h float8, density float8, k jsonb
    ) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
        SELECT least((k->>'carbon_fraction')::float8 * greatest(
                   jasyl_benefit_agb(e, dbh, h, density)
                   * CASE WHEN e.urban THEN 1 ELSE (k->>'forest_to_urban')::float8 END
                   * CASE WHEN e.roots = 'utd' THEN 1 / (k->>'utd_aboveground_share')::float8
                          ELSE (k->>'itree_root_factor')::float8 END, 0),
                   (k->>'carbon_cap_kg')::float8) * 44.0 / 12.0
    $$""",
    """
    CREATE TYPE benefit_figures AS (
        kind text, outside_range boolean, co2_stored_kg numeric, co2_sequestered_kg numeric,
        rain_m3 numeric
    )""",
    # One plant record's figures: rules.tree_benefit. A single SELECT in SQL, so that a
    # statement's ``FROM rows p, jasyl_plant_benefit(p, k)`` is inlined into joins of the rows
    # with the methods, equations and precipitation (set-based), not a call per plant.
    """
    CREATE FUNCTION jasyl_plant_benefit(p plants, k jsonb) RETURNS SETOF benefit_figures
    LANGUAGE sql STABLE AS $$
        SELECT w.kind, w.kind = 'computed' AND d.dbh <> p.trunk_diameter_cm::float8,
            CASE WHEN w.kind = 'computed' THEN round((c.stored * p.quantity)::numeric, 3) END,
            CASE WHEN w.kind <> 'computed' OR p.condition IS NULL AND p.status <> 'dead' THEN NULL
                 WHEN p.status = 'dead' OR p.condition IN (5, 6) THEN 0
                 ELSE round(((c.grown - c.stored) * p.quantity)::numeric, 3) END,
            CASE WHEN w.kind = 'computed' AND m.leaf_area_a IS NOT NULL
                      AND rain.rain_events_per_year IS NOT NULL THEN round((least(
                 greatest(m.leaf_area_a + m.leaf_area_b * d.dbh, 0)
                 * (k->>'leaf_storage_mm')::float8 / 1000 * rain.rain_events_per_year,
                 rain.annual_mm / 1000 * pi() * (p.crown_diameter_m / 2.0) ^ 2  -- NULL: no cap
                 ) * p.quantity)::numeric, 3) END
        FROM (SELECT 1) one
        LEFT JOIN species_benefit_methods m
               ON m.species_id = p.species_id AND p.status IN ('alive', 'dead')
              AND p.planting_form IN ('solitary', 'row', 'group')
        LEFT JOIN benefit_equations e ON e.code =
             CASE WHEN p.height_m IS NOT NULL AND m.equation_dh IS NOT NULL THEN m.equation_dh
                  ELSE m.equation_d END
        LEFT JOIN region_precipitation rain ON rain.region_id = p.region_id
        CROSS JOIN LATERAL (SELECT CASE WHEN m.species_id IS NULL THEN 'no_method'
                                        WHEN p.trunk_diameter_cm IS NULL THEN 'no_dbh'
                                        ELSE 'computed' END::text AS kind) w
        -- OFFSET 0: the diameters stay plain columns, so the biomass function is inlined too
        CROSS JOIN LATERAL (SELECT least(greatest(p.trunk_diameter_cm::float8,
                                     coalesce(e.dbh_min_cm, p.trunk_diameter_cm::float8)),
                                     coalesce(e.dbh_max_cm, p.trunk_diameter_cm::float8)) AS dbh,
                                   p.height_m::float8 AS h OFFSET 0) d
        CROSS JOIN LATERAL (SELECT d.dbh + (k->>('growth_' || m.growth_class || '_cm'))::float8
                                   * (k->>('condition_' || p.condition))::float8 AS dbh
                            OFFSET 0) g
        CROSS JOIN LATERAL (SELECT
            jasyl_benefit_co2(e, d.dbh, d.h, m.density_kg_m3, k) AS stored,
            jasyl_benefit_co2(e, g.dbh, d.h, m.density_kg_m3, k) AS grown) c
    $$""",
    # The constants as one JSON object, read once per statement.
    """
    CREATE FUNCTION jasyl_benefit_constants() RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT coalesce(jsonb_object_agg(name, value), '{}') FROM benefit_constants
    $$""",
]


# The constants once per statement: OFFSET 0 keeps the subquery from being pulled up, so
# ``kc.k`` stays a plain column and the benefit functions are inlined into the statement.
CONSTANTS = "(SELECT jasyl_benefit_constants() AS k OFFSET 0) kc"


def _figures(source: str, sign: str, where: str = "true") -> str:
    """Signed per-plant deltas of the tally columns from a set of plants rows."""
    return f"""
        SELECT p.region_id, p.green_space_id, {sign} 1 AS plants,
            {sign} CASE WHEN b.kind = 'computed' THEN p.quantity ELSE 0 END::bigint AS trees,
            {sign} (b.kind = 'no_method')::int AS without_method,
            {sign} (b.kind = 'no_dbh')::int AS without_dbh,
            {sign} (b.kind = 'computed' AND b.outside_range)::int AS outside_range,
            {sign} (b.kind = 'computed' AND b.co2_sequestered_kg IS NULL)::int AS not_assessed,
            {sign} (b.kind = 'computed' AND b.rain_m3 IS NULL)::int AS without_rain,
            {sign} coalesce(b.co2_stored_kg, 0) AS co2_stored_kg,
            {sign} coalesce(b.co2_sequestered_kg, 0) AS co2_sequestered_kg,
            {sign} coalesce(b.rain_m3, 0) AS rain_m3
        FROM {CONSTANTS}, {source} p, jasyl_plant_benefit(p, kc.k) b
        WHERE {where}"""  # noqa: S608


def _upsert(deltas: str) -> str:
    sums = ", ".join(f"sum({c}) AS {c}" for c in COLUMNS)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in COLUMNS)
    increments = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in COLUMNS)
    return f"""
        INSERT INTO benefit_tallies AS t ({KEY}, {", ".join(COLUMNS)})
        SELECT {KEY}, {sums} FROM ({deltas}) d
        GROUP BY {KEY} HAVING {nonzero} ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET {increments};"""  # noqa: S608


KEEPING = [
    f"""
    CREATE FUNCTION jasyl_benefit_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_upsert(_figures("new_rows", "+"))}
        ELSIF TG_OP = 'DELETE' THEN {_upsert(_figures("old_rows", "-"))}
        ELSE {_upsert(_figures("new_rows", "+") + " UNION ALL " + _figures("old_rows", "-"))}
        END IF;
        RETURN NULL;
    END $$""",
    f"""
    CREATE FUNCTION jasyl_rebuild_benefit_tallies() RETURNS void LANGUAGE sql AS $$
        DELETE FROM benefit_tallies;
        INSERT INTO benefit_tallies ({KEY}, {", ".join(COLUMNS)})
        SELECT {KEY}, {", ".join(f"sum({c})" for c in COLUMNS)}
        FROM ({_figures("plants", "+")}) d GROUP BY {KEY};
    $$""",  # noqa: S608
    f"""
    CREATE FUNCTION jasyl_book_imported_benefits(batch integer) RETURNS void LANGUAGE sql AS $$
        {_upsert(_figures("plants", "+", "p.import_batch_id = batch"))}
    $$""",
    f"""CREATE TRIGGER plants_benefits_insert AFTER INSERT ON plants
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT WHEN ({NOT_DEFERRED})
        EXECUTE FUNCTION jasyl_benefit_tally()""",
    """CREATE TRIGGER plants_benefits_update AFTER UPDATE ON plants
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION jasyl_benefit_tally()""",
    """CREATE TRIGGER plants_benefits_delete AFTER DELETE ON plants
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION jasyl_benefit_tally()""",
    """CREATE FUNCTION jasyl_benefit_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN DELETE FROM benefit_tallies; RETURN NULL; END $$""",
    """CREATE TRIGGER plants_benefits_truncate AFTER TRUNCATE ON plants
        FOR EACH STATEMENT EXECUTE FUNCTION jasyl_benefit_tally_truncate()""",
]


def _reference_tables() -> None:
    op.create_table(
        "benefit_equations",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("a", sa.Double(), nullable=False),
        sa.Column("b", sa.Double(), nullable=False),
        sa.Column("c", sa.Double(), nullable=True),
        sa.Column("d", sa.Double(), nullable=True),
        sa.Column("dbh_min_cm", sa.Double(), nullable=True),
        sa.Column("dbh_max_cm", sa.Double(), nullable=True),
        sa.Column("urban", sa.Boolean(), nullable=False),
        sa.Column("roots", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "form IN ('volume', 'ln', 'log10', 'difference')",
            name=op.f("ck_benefit_equations_form_known"),
        ),
        sa.CheckConstraint(
            "roots IN ('utd', 'itree')", name=op.f("ck_benefit_equations_roots_known")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_benefit_equations")),
    )
    op.create_table(
        "species_benefit_methods",
        sa.Column("species_id", sa.Integer(), nullable=False),
        sa.Column("equation_dh", sa.Text(), nullable=True),
        sa.Column("equation_d", sa.Text(), nullable=False),
        sa.Column("density_kg_m3", sa.Double(), nullable=True),
        sa.Column("growth_class", sa.Text(), nullable=False),
        sa.Column("leaf_area_a", sa.Double(), nullable=True),
        sa.Column("leaf_area_b", sa.Double(), nullable=True),
        sa.Column("fallback", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "growth_class IN ('slow', 'moderate', 'fast')",
            name=op.f("ck_species_benefit_methods_growth_known"),
        ),
        sa.ForeignKeyConstraint(
            ["equation_d"],
            ["benefit_equations.code"],
            name=op.f("fk_species_benefit_methods_equation_d_benefit_equations"),
        ),
        sa.ForeignKeyConstraint(
            ["equation_dh"],
            ["benefit_equations.code"],
            name=op.f("fk_species_benefit_methods_equation_dh_benefit_equations"),
        ),
        sa.ForeignKeyConstraint(
            ["species_id"],
            ["species.id"],
            name=op.f("fk_species_benefit_methods_species_id_species"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("species_id", name=op.f("pk_species_benefit_methods")),
    )
    op.create_table(
        "benefit_constants",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_benefit_constants")),
    )
    op.create_table(
        "region_precipitation",
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("annual_mm", sa.Double(), nullable=False),
        sa.Column("rain_events_per_year", sa.Double(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_region_precipitation_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("region_id", name=op.f("pk_region_precipitation")),
    )
    op.create_table(
        "benefit_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.SmallInteger(), nullable=True),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("kzt", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "item IN ('co2', 'stormwater')", name=op.f("ck_benefit_prices_item_known")
        ),
        sa.CheckConstraint("kzt >= 0", name=op.f("ck_benefit_prices_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_benefit_prices_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_prices")),
        sa.UniqueConstraint(
            "region_id",
            "item",
            "basis",
            "valid_from",
            name=op.f("uq_benefit_prices_region_id_item_basis_valid_from"),
            postgresql_nulls_not_distinct=True,
        ),
    )


def _tally_table() -> None:
    counts = ["plants", "without_method", "without_dbh", "outside_range", "not_assessed"]
    op.create_table(
        "benefit_tallies",
        sa.Column("region_id", sa.SmallInteger(), nullable=False),
        sa.Column("green_space_id", sa.Integer(), nullable=True),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in counts],
        sa.Column("without_rain", sa.Integer(), nullable=False),
        sa.Column("trees", sa.BigInteger(), nullable=False),
        *[
            sa.Column(c, sa.Numeric(precision=20, scale=3), nullable=False)
            for c in ("co2_stored_kg", "co2_sequestered_kg", "rain_m3")
        ],
        sa.UniqueConstraint(
            "region_id",
            "green_space_id",
            name=op.f("uq_benefit_tallies_region_id_green_space_id"),
            postgresql_nulls_not_distinct=True,
        ),
    )


def upgrade() -> None:
    _reference_tables()
    _tally_table()
    for statement in [*FUNCTIONS, *KEEPING]:
        op.execute(statement)
    sync_reference(op.get_bind())  # loads the files and counts the existing plants once


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS plants_benefits_{event} ON plants")
    for function in (
        "jasyl_benefit_tally_truncate()",
        "jasyl_book_imported_benefits(integer)",
        "jasyl_rebuild_benefit_tallies()",
        "jasyl_benefit_tally()",
        "jasyl_benefit_constants()",
        "jasyl_plant_benefit(plants, jsonb)",
        "jasyl_benefit_co2(benefit_equations, float8, float8, float8, jsonb)",
        "jasyl_benefit_agb(benefit_equations, float8, float8, float8)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TYPE IF EXISTS benefit_figures")
    for table in (
        "benefit_tallies",
        "benefit_prices",
        "region_precipitation",
        "benefit_constants",
        "species_benefit_methods",
        "benefit_equations",
    ):
        op.drop_table(table)
