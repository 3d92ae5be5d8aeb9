"""Tree benefits: the equations against the sources' known answers, the database's mirror of
them, and the totals the database keeps against a recomputation from the plants.

Known answers are the sources' own figures (UTD's *Ulmus pumila* 874 kg) or each published
equation evaluated by hand at two diameters; clamping at both ends of a fitted range.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from importers.services import import_file, undo_batch
from registry.access import Actor
from registry.benefits import rules, services
from registry.benefits.models import BenefitPrice, RegionPrecipitation, SpeciesBenefitMethod
from registry.benefits.projection import plan_projection
from registry.inventory.models import Plant, PlantStatus
from registry.inventory.services import remove_plant, update_plant
from registry.planting.services import (
    add_plan_line,
    create_plan,
    record_planting,
    record_survival_check,
)
from registry.regions.services import resolve_region
from registry.species.models import Species
from registry.species.services import get_species
from tests.factories import ALMATY, forester, make_green_space, make_plant, point_near
from tests.import_files import survey_frame, write_shapefile

SYSTEM = Actor.system("benefits test")


def method(db: Session, code: str) -> rules.SpeciesMethod:
    found = services.species_method(db, get_species(db, code).id)
    assert found is not None, code
    return found


def tree(**given) -> rules.TreeInputs:
    values = dict(
        status="alive",
        planting_form="solitary",
        quantity=1,
        dbh_cm=30.0,
        height_m=None,
        crown_diameter_m=None,
        condition=1,
    )
    values.update(given)
    return rules.TreeInputs(**values)


def test_ulmus_pumila_gives_the_urban_tree_databases_874_kg(db) -> None:
    """PSW-GTR-253: DBH 38.59 cm, H 13.76 m → V = 0.000338·D^0.855·H^2.041, × 540 = 874 kg."""
    elm = method(db, "ulmus_pumila")
    equation = rules.choose_equation(elm, 13.76)
    assert equation.code == "utd_ulmus_pumila_dh"
    agb = rules.above_ground_biomass(equation, 38.59, 13.76, elm.density_kg_m3)
    assert round(agb) == 874
    # Without a height the diameter-only equation of the same source is used.
    assert rules.choose_equation(elm, None).code == "utd_ulmus_pumila_d"


@pytest.mark.parametrize(
    ("species", "height", "points"),
    [
        # volume with height, Ulmus pumila (UTD): 0.000338·D^0.855·H^2.041 × 540
        ("ulmus_pumila", 20.0, [(38.59, 874.31), (100.0, 4233.63)]),
        # volume without height, Tilia cordata (UTD): 0.0009359·D^2.042 × 420
        ("tilia_cordata", None, [(30.0, 408.09), (60.0, 1680.60)]),
        # ln, Quercus robur (Forrester 2017): exp(−2.684 + 2.7274 ln D)
        ("quercus_robur", None, [(10.0, 36.45), (50.0, 2938.49)]),
        # log10, Picea schrenkiana (Luo 2018): 10^(−1.00178 + 2.4976 log10 D)
        ("picea_schrenkiana", None, [(10.0, 31.32), (40.0, 998.91)]),
        # difference, Juniperus (UTD → Jenkins 2004): 0.1632·D^2.2454 − 0.1244·D^1.5549
        ("juniperus_virginiana", None, [(20.0, 123.05), (40.0, 607.10)]),
    ],
)
def test_each_equation_form_at_two_points(db, species, height, points) -> None:
    found = method(db, species)
    for dbh, expected in points:
        # the first Ulmus point is the source's own tree, 13.76 m tall
        h = 13.76 if (species, dbh) == ("ulmus_pumila", 38.59) else height
        equation = rules.choose_equation(found, h)
        agb = rules.above_ground_biomass(equation, dbh, h, found.density_kg_m3)
        assert agb == pytest.approx(expected, abs=0.01)


def test_dbh_is_clamped_to_the_fitted_range_at_both_ends_and_flagged(db) -> None:
    elm = method(db, "ulmus_pumila")  # UTD Fort Collins, fitted 16–132 cm
    k = services.constants(db)
    at_low = rules.tree_benefit(elm, tree(dbh_cm=16.0), k, None)
    below = rules.tree_benefit(elm, tree(dbh_cm=5.0), k, None)
    assert (below.dbh_used_cm, below.outside_range) == (16.0, True)
    assert not at_low.outside_range and below.co2_stored_kg == at_low.co2_stored_kg
    at_high = rules.tree_benefit(elm, tree(dbh_cm=132.0), k, None)
    above = rules.tree_benefit(elm, tree(dbh_cm=180.0), k, None)
    assert (above.dbh_used_cm, above.outside_range) == (132.0, True)
    assert not at_high.outside_range and above.co2_stored_kg == at_high.co2_stored_kg


def test_carbon_follows_the_pipeline_roots_fraction_and_co2(db) -> None:
    """UTD urban: C = 0.5 × AGB / 0.78; forest (Forrester): × 0.8 × 1.26; CO₂ = C × 44/12."""
    k = services.constants(db)
    elm = method(db, "ulmus_pumila")
    figures = rules.tree_benefit(elm, tree(dbh_cm=38.59, height_m=13.76), k, None)
    assert figures.co2_stored_kg == pytest.approx(874.3124 * 0.5 / 0.78 * 44 / 12, abs=0.01)
    oak = rules.tree_benefit(method(db, "quercus_robur"), tree(dbh_cm=50.0), k, None)
    assert oak.co2_stored_kg == pytest.approx(2938.4912 * 0.8 * 1.26 * 0.5 * 44 / 12, abs=0.01)


def test_what_gets_no_figure_says_why_and_nothing_is_assumed(db) -> None:
    k = services.constants(db)
    elm = method(db, "ulmus_pumila")
    shrub = services.species_method(db, get_species(db, "syringa_vulgaris").id)
    assert shrub is None
    assert rules.tree_benefit(None, tree(), k, None).kind == "no_method"
    for form in ("hedge", "massif"):
        assert rules.tree_benefit(elm, tree(planting_form=form), k, None).kind == "no_method"
    for status in ("stump", "vacant", "removed"):
        assert rules.tree_benefit(elm, tree(status=status), k, None).kind == "no_method"
    empty = rules.tree_benefit(elm, tree(dbh_cm=None), k, None)
    assert (empty.kind, empty.co2_stored_kg) == ("no_dbh", None)
    unassessed = rules.tree_benefit(elm, tree(condition=None), k, None)
    assert unassessed.co2_stored_kg > 0 and unassessed.co2_sequestered_kg is None
    assert unassessed.sequestration_note == "condition not assessed"
    dead = rules.tree_benefit(elm, tree(status="dead", condition=6), k, None)
    assert dead.co2_stored_kg > 0 and dead.co2_sequestered_kg == 0


def test_condition_slows_sequestration_by_the_i_tree_factors(db) -> None:
    k = services.constants(db)
    elm = method(db, "ulmus_pumila")
    by_grade = {g: rules.tree_benefit(elm, tree(condition=g), k, None) for g in (1, 2, 3, 4, 5)}
    sequestered = [by_grade[g].co2_sequestered_kg for g in (1, 2, 3, 4, 5)]
    assert sequestered == sorted(sequestered, reverse=True) and sequestered[-1] == 0
    # ΔD: fast class 1.0922 cm/yr × 0.76 for grade II (i-Tree "poor")
    assert rules.growth_cm(elm, 2, k) == pytest.approx(1.0922 * 0.76)


def test_rain_is_leaf_storage_over_the_events_capped_by_the_rain_on_the_crown(db) -> None:
    k = services.constants(db)
    elm = method(db, "ulmus_pumila")
    rain = rules.Rain(annual_mm=318, events_per_year=50)
    held = rules.tree_benefit(elm, tree(dbh_cm=30.0), k, rain).rain_m3
    # LA = −59.27546 + 14.21666·30 = 367.2 m² × 0.2 mm × 50 events
    assert held == pytest.approx(367.22434 * 0.0002 * 50, abs=0.001)
    small_crown = rules.tree_benefit(elm, tree(dbh_cm=30.0, crown_diameter_m=2.0), k, rain)
    assert small_crown.rain_m3 == pytest.approx(0.318 * 3.14159265, abs=0.001)
    no_events = rules.tree_benefit(elm, tree(), k, rules.Rain(318, None))
    assert no_events.rain_m3 is None and no_events.rain_note


# -- the database's mirror and its tallies ---------------------------------------------------
PER_PLANT = text(
    """
    SELECT p.id, b.kind, b.outside_range, b.co2_stored_kg, b.co2_sequestered_kg, b.rain_m3
    FROM (SELECT jasyl_benefit_constants() AS k OFFSET 0) kc, plants p,
         jasyl_plant_benefit(p, kc.k) b
    """
)


def python_figures(db: Session, plant: Plant) -> rules.TreeBenefit:
    return rules.tree_benefit(
        services.species_method(db, plant.species_id),
        rules.TreeInputs(
            status=plant.status.value,
            planting_form=plant.planting_form.value,
            quantity=plant.quantity,
            dbh_cm=None if plant.trunk_diameter_cm is None else float(plant.trunk_diameter_cm),
            height_m=None if plant.height_m is None else float(plant.height_m),
            crown_diameter_m=None
            if plant.crown_diameter_m is None
            else float(plant.crown_diameter_m),
            condition=plant.condition,
        ),
        services.constants(db),
        services.region_rain(db, plant.region_id),
    )


def with_rain_events(db: Session, region: str = "KZ-71", events: float = 40) -> None:
    """A rain-event count for the region (the shipped data has none sourced yet)."""
    row = db.get(RegionPrecipitation, resolve_region(db, region).id)
    row.rain_events_per_year = events
    db.flush()
    db.execute(text("SELECT jasyl_rebuild_benefit_tallies()"))


def test_the_database_computes_what_the_rules_compute_for_every_species_method(db) -> None:
    with_rain_events(db)
    methods = db.scalars(select(SpeciesBenefitMethod.species_id)).all()
    inputs = [
        dict(trunk_diameter_cm=4, height_m=None, condition=1),
        dict(trunk_diameter_cm=25.5, height_m=7.5, condition=3, crown_diameter_m=3),
        # the species' plausible maximum: beyond most fitted ranges
        dict(
            trunk_diameter_cm=None, height_m=None, condition=None, quantity=3, planting_form="row"
        ),
    ]
    plants = {}
    for n, species_id in enumerate(methods):
        given = dict(inputs[n % 3])
        given.setdefault("height_m", None)
        if given["trunk_diameter_cm"] is None:
            given["trunk_diameter_cm"] = db.get(Species, species_id).max_trunk_diameter_cm
        plant = make_plant(db, species_id=species_id, **given)
        plants[plant.id] = plant
    db.flush()
    for row in db.execute(PER_PLANT):
        expected = python_figures(db, plants[row.id])
        assert row.kind == expected.kind == "computed"
        assert row.outside_range == expected.outside_range
        for figure, wanted in (
            (row.co2_stored_kg, expected.co2_stored_kg),
            (row.co2_sequestered_kg, expected.co2_sequestered_kg),
            (row.rain_m3, expected.rain_m3),
        ):
            if wanted is None:
                assert figure is None
            else:
                assert float(figure) == pytest.approx(wanted, abs=0.0011)


TALLIED = text(
    """
    SELECT region_id, green_space_id, plants, trees, without_method, without_dbh, outside_range,
           not_assessed, without_rain, co2_stored_kg, co2_sequestered_kg, rain_m3
    FROM benefit_tallies WHERE plants <> 0
    """
)


def recomputed(db: Session) -> dict[tuple, list]:
    """The tallies' figures summed here, plant by plant, by the Python rules."""
    sums: dict[tuple, list] = defaultdict(lambda: [0] * 7 + [Decimal(0)] * 3)
    for plant in db.scalars(select(Plant)):
        figures = python_figures(db, plant)
        row = sums[(plant.region_id, plant.green_space_id)]
        computed = figures.kind == "computed"
        row[0] += 1
        row[1] += plant.quantity if computed else 0
        row[2] += figures.kind == "no_method"
        row[3] += figures.kind == "no_dbh"
        row[4] += computed and figures.outside_range
        row[5] += computed and figures.co2_sequestered_kg is None
        row[6] += computed and figures.rain_m3 is None
        for i, value in enumerate(
            (figures.co2_stored_kg, figures.co2_sequestered_kg, figures.rain_m3), start=7
        ):
            row[i] += Decimal(str(value or 0)).quantize(Decimal("0.001"))
    return dict(sums)


def assert_tallies_add_up(db: Session) -> dict[tuple, list]:
    db.flush()
    db.expire_all()  # plain SQL above may have changed plants the session holds
    tallied = {(r[0], r[1]): list(r[2:]) for r in db.execute(TALLIED)}
    by_hand = recomputed(db)
    assert tallied.keys() == by_hand.keys()
    for key, row in by_hand.items():
        assert tallied[key][:7] == row[:7], key
        for got, wanted in zip(tallied[key][7:], row[7:], strict=True):
            assert abs(got - wanted) <= Decimal("0.002") * max(row[0], 1), key
    return tallied


def test_tallies_follow_inserts_edits_removals_and_deletes(db) -> None:
    with_rain_events(db)
    park = make_green_space(db)
    plants = [make_plant(db, condition=1 + i % 3, green_space_id=park.id) for i in range(4)]
    make_plant(db, geom=point_near(ALMATY), species_id=get_species(db, "pinus_sylvestris").id)
    lilac = get_species(db, "syringa_vulgaris").id
    make_plant(db, species_id=lilac, planting_form="hedge", height_m=2, trunk_diameter_cm=None)
    make_plant(db, trunk_diameter_cm=None)
    make_plant(db, condition=None)
    before = assert_tallies_add_up(db)
    astana = resolve_region(db, "KZ-71").id
    assert before[(astana, park.id)][1] == 4  # trees

    first, second, third, fourth = plants
    update_plant(db, SYSTEM, first.id, first.version, {"trunk_diameter_cm": 60})
    update_plant(db, SYSTEM, second.id, second.version, {"condition": 6})
    remove_plant(db, SYSTEM, third.id, third.version, PlantStatus.STUMP, "спилено")
    update_plant(db, SYSTEM, fourth.id, fourth.version, {"geom": point_near(ALMATY)})
    after = assert_tallies_add_up(db)
    assert after != before
    db.execute(text("UPDATE plants SET quantity = 5 WHERE id = :id"), {"id": first.id})
    db.execute(text("DELETE FROM plants WHERE id = :id"), {"id": second.id})
    assert_tallies_add_up(db)


def test_an_import_and_its_undo_move_the_tallies(db, tmp_path: Path) -> None:
    first = import_file(
        db, SYSTEM, write_shapefile(tmp_path / "a.shp", survey_frame()), region="KZ-71"
    )
    assert first.imported == 3
    added = assert_tallies_add_up(db)
    assert sum(row[1] for row in added.values()) == 3  # three trees, each with a method
    bigger = survey_frame(ДИАМ_СМ=[40.0, 30.0, 18.5])
    second = import_file(db, SYSTEM, write_shapefile(tmp_path / "b.shp", bigger), region="KZ-71")
    assert second.updated == 1
    assert assert_tallies_add_up(db) != added
    undo_batch(db, SYSTEM, second.batch_id)
    assert assert_tallies_add_up(db) == added
    undo_batch(db, SYSTEM, first.batch_id)
    assert assert_tallies_add_up(db) == {}


def test_a_price_change_moves_every_total(db) -> None:
    make_plant(db)
    make_plant(db, geom=point_near(ALMATY))
    before = {r["region"]: r for r in services.report(db, SYSTEM, 2026)}
    assert set(before) == {"KZ-71", "KZ-75"}
    assert all(r["value_kzt_per_year"] > 0 for r in before.values())
    national = db.scalars(
        select(BenefitPrice).where(BenefitPrice.item == "co2", BenefitPrice.basis == "kz_ets")
    ).one()
    db.add(
        BenefitPrice(
            region_id=None,
            item="co2",
            basis="kz_ets",
            valid_from=national.valid_from.replace(year=2026),
            kzt=national.kzt * 2,
            unit="t CO2",
            source="test: a doubled price",
        )
    )
    db.flush()
    after = {r["region"]: r for r in services.report(db, SYSTEM, 2026)}
    for region, row in after.items():
        assert row["co2_price_kzt_per_t"] == float(national.kzt * 2)
        assert row["co2_sequestered_t_per_year"] == before[region]["co2_sequestered_t_per_year"]
        assert row["value_kzt_per_year"] == pytest.approx(
            2 * before[region]["value_kzt_per_year"], abs=0.02
        )
    # The year before the new price still reads the old one; the social cost is a choice.
    assert services.report(db, SYSTEM, 2025)[0]["co2_price_kzt_per_t"] == float(national.kzt)
    scc = services.report(db, SYSTEM, 2026, basis="scc")[0]
    assert (scc["price_basis"], scc["co2_price_kzt_per_t"]) == ("scc", 67000.0)


# -- planting plans' projections ------------------------------------------------------------------
def test_a_plans_projection_grows_its_trees_and_keeps_the_measured_survivors(db) -> None:
    astana = forester(db)
    park = make_green_space(db).id
    elms = record_planting(
        db, astana, "Ulmus pumila", date(2021, 4, 20), quantity=10, green_space_id=park
    )
    record_survival_check(db, astana, elms.id, 3, date(2023, 10, 1), alive=8, dead=2)
    plan = create_plan(db, astana, "KZ-71", 2027, "spring")
    add_plan_line(db, astana, plan.id, "Ulmus pumila", 100)
    add_plan_line(db, astana, plan.id, "Pinus sylvestris", 50)  # no survival measured
    add_plan_line(db, astana, plan.id, "Syringa vulgaris", 30)  # a shrub: no method
    projection = plan_projection(db, astana, plan.id)
    assert projection["lines_without_survival_rate"] == 1
    assert projection["lines_without_method"] == 1
    k = services.constants(db)
    elm = method(db, "ulmus_pumila")
    by_years = {h["years"]: h for h in projection["horizons"]}
    for years in (10, 20, 30):
        assert by_years[years]["trees"] == 80.0  # 100 planted × 80 % surviving
        dbh = 2.0 + years * 1.0922  # GOST sapling + fast growth at grade I
        one = rules.tree_benefit(elm, tree(dbh_cm=dbh), k, None)
        assert by_years[years]["co2_stored_t"] == pytest.approx(
            80 * one.co2_stored_kg / 1000, abs=0.001
        )
    assert (
        by_years[10]["co2_stored_t"] < by_years[20]["co2_stored_t"] < by_years[30]["co2_stored_t"]
    )
