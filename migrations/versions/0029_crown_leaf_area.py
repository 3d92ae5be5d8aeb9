"""Rain interception by the crown where a species has no leaf-area equation (issue #20).

``jasyl_plant_benefit`` (revision 0026) held rain only for species with a leaf-area equation of
DBH. A tree of another species whose crown width and height were measured now gets its leaf
area from the crown, Nowak 1996: ln LA = −4.3309 + 0.2942·Hc + 0.7312·W + 5.7217·Sh − 0.0148·C,
C = π·W·(Hc + W)/2, Sh = ``crown_shading_factor`` (0.8). The registry measures no crown base,
so the crown height Hc is assumed to be ``crown_height_share`` (0.5) of the tree's height: a
stated assumption kept as reference data (``benefits/reference/constants.csv``), shown on the
card. ``registry.benefits.rules.crown_leaf_area`` is the same equation in Python;
``tests/test_benefits.py`` checks the two agree. The constants are loaded and the tallies
recounted by ``sync_reference``.

The tallies' set-based trigger and rebuild (revision 0028) take the same leaf area: the two
crown constants join ``benefit_method_rows`` as numbers and the same expression, in the same
order, is applied there, so the tallies stay the exact sums of the per-plant figures
(``tests/test_benefit_tallies_set.py``).

Revision ID: 0029
Revises: 0028
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

from registry.benefits.reference import sync_reference

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One expression (NULL when the width or the height is), so the planner inlines it.
CROWN_LEAF_AREA = """
    CREATE FUNCTION jasyl_crown_leaf_area(w float8, h float8, k jsonb)
    RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
        SELECT exp(-4.3309 + 0.2942 * (h * (k->>'crown_height_share')::float8) + 0.7312 * w
                   + 5.7217 * (k->>'crown_shading_factor')::float8
                   - 0.0148 * pi() * w * (h * (k->>'crown_height_share')::float8 + w) / 2)
    $$"""

PLANT_BENEFIT = """
    CREATE OR REPLACE FUNCTION jasyl_plant_benefit(p plants, k jsonb) RETURNS SETOF benefit_figures
    LANGUAGE sql STABLE AS $$
        SELECT w.kind, w.kind = 'computed' AND d.dbh <> p.trunk_diameter_cm::float8,
            CASE WHEN w.kind = 'computed' THEN round((c.stored * p.quantity)::numeric, 3) END,
            CASE WHEN w.kind <> 'computed' OR p.condition IS NULL AND p.status <> 'dead' THEN NULL
                 WHEN p.status = 'dead' OR p.condition IN (5, 6) THEN 0
                 ELSE round(((c.grown - c.stored) * p.quantity)::numeric, 3) END,
            CASE WHEN w.kind = 'computed' AND la.area IS NOT NULL
                      AND rain.rain_events_per_year IS NOT NULL THEN round((least(
                 la.area * (k->>'leaf_storage_mm')::float8 / 1000 * rain.rain_events_per_year,
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
        -- leaf area: the species' equation of DBH, else the crown (Nowak 1996), else NULL
        CROSS JOIN LATERAL (SELECT CASE WHEN m.leaf_area_a IS NOT NULL
                THEN greatest(m.leaf_area_a + m.leaf_area_b * d.dbh, 0)
                ELSE jasyl_crown_leaf_area(p.crown_diameter_m::float8, d.h, k) END AS area) la
    $$"""


# jasyl_crown_leaf_area's expression over a method row ``y`` (the constants as its columns).
CROWN = """exp(-4.3309 + 0.2942 * (y.h * y.crown_height_share) + 0.7312 * y.crown_diameter_m::float8
                   + 5.7217 * y.crown_shading_factor
                   - 0.0148 * pi() * y.crown_diameter_m::float8
                     * (y.h * y.crown_height_share + y.crown_diameter_m::float8) / 2)"""


def _revision(name: str) -> ModuleType:
    """An earlier revision's module (loaded, not copied): its SQL is what this one builds on."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def leaf_area(tallies: ModuleType) -> str:
    """A tree's leaf area over a method row ``y`` of revision 0028's ``tallies``: the species'
    equation of DBH, else the crown's."""
    return f"CASE WHEN y.leaf_area_a IS NOT NULL THEN {tallies.LEAF_AREA} ELSE {CROWN} END"


def _tallies_with_crown() -> list[str]:
    tallies = _revision("0028_cheaper_benefit_tallies.py")
    rows = tallies.METHOD_ROWS.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1).replace(
        "AS condition_factors\n",
        "AS condition_factors,\n"
        "       (k->>'crown_height_share')::float8 AS crown_height_share,\n"
        "       (k->>'crown_shading_factor')::float8 AS crown_shading_factor\n",
        1,
    )
    return [rows, *tallies.tally_functions(leaf_area(tallies))]


def upgrade() -> None:
    op.execute(CROWN_LEAF_AREA)
    op.execute(PLANT_BENEFIT)
    for statement in _tallies_with_crown():
        op.execute(statement)
    sync_reference(op.get_bind())  # the two constants, and every tally recounted


def downgrade() -> None:
    tallies = _revision("0028_cheaper_benefit_tallies.py")
    op.execute("DROP VIEW benefit_method_rows")  # its crown columns cannot be replaced away
    for statement in [tallies.METHOD_ROWS, *tallies.tally_functions()]:
        op.execute(statement)
    original = next(
        f for f in _revision("0026_tree_benefits.py").FUNCTIONS if "jasyl_plant_benefit" in f
    )
    op.execute(original.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("DROP FUNCTION IF EXISTS jasyl_crown_leaf_area(float8, float8, jsonb)")
    op.execute(
        "DELETE FROM benefit_constants WHERE name IN ('crown_shading_factor', 'crown_height_share')"
    )
    op.execute("SELECT jasyl_rebuild_benefit_tallies()")
