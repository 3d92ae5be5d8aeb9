"""Rain interception made computable by a person's data: ``jasyl benefits rain set`` (ministry
or admin, audited, bad input refused with nothing changed) stores a region's rain events, and
every total moves: the tallies (equal to a recomputation), the report, the card's m³ and value.
Known answers: UTD *Ulmus pumila* leaf area −59.27546 + 14.21666·30 = 367.22 m² × 0.2 mm ×
60 events = 4.407 m³ a year; a species without a leaf-area equation takes it from its crown
(Nowak 1996), its crown height assumed half the tree's height and said so on the card."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from shapely.geometry import Point
from sqlalchemy import select

from registry.access import Actor
from registry.audit.models import AuditEntry
from registry.benefits import rules, services
from registry.benefits.models import RegionPrecipitation
from registry.benefits.rain import set_rain
from registry.benefits.reference import sync_reference
from registry.db import unit_of_work
from registry.errors import AccessDenied, InvalidValue
from registry.inventory.models import Plant
from registry.regions.services import resolve_region
from registry.species.services import get_species
from tests.factories import ALMATY, ASTANA, forester, make_green_space, make_plant, point_near
from tests.test_benefits import assert_tallies_add_up
from tests.web_client import new_user
from web import create_app
from web.cli import main

SYSTEM = Actor.system("rain test")
ELM_30_CM_60_EVENTS = 4.407


def stand(db) -> dict[str, int]:
    park = make_green_space(db).id
    elm = make_plant(db, geom=Point(*ASTANA), trunk_diameter_cm=30, height_m=None,
                     condition=1, green_space_id=park)  # fmt: skip
    small_crown = make_plant(db, geom=point_near(ASTANA, 2), trunk_diameter_cm=30,
                             height_m=None, crown_diameter_m=2, condition=1)  # fmt: skip
    make_plant(db, geom=point_near(ALMATY), trunk_diameter_cm=30, condition=1)
    return {"elm": elm.id, "small_crown": small_crown.id, "park": park}


def test_rain_set_makes_interception_computable_and_every_total_moves(db) -> None:
    ids = stand(db)
    before = {r["region"]: r for r in services.report(db, SYSTEM, 2026)}
    assert before["KZ-71"]["rain_intercepted_m3_per_year"] is None  # not computed, never 0
    elm = db.get(Plant, ids["elm"])
    assert services.plant_benefits(db, elm)["rain_note"] == "no rain-event count for the region"

    set_rain(db, SYSTEM, "KZ-71", 318, 60, "test: station 35188, a count a person supplied")
    after = {r["region"]: r for r in services.report(db, SYSTEM, 2026)}
    card = services.plant_benefits(db, elm)
    assert card["rain_intercepted_m3_per_year"] == ELM_30_CM_60_EVENTS
    capped = services.plant_benefits(db, db.get(Plant, ids["small_crown"]))
    assert capped["rain_intercepted_m3_per_year"] == 0.999  # 318 mm on a 2 m crown: π m²
    assert after["KZ-71"]["rain_intercepted_m3_per_year"] == pytest.approx(
        ELM_30_CM_60_EVENTS + 0.999, abs=0.001
    )
    water = after["KZ-71"]["stormwater_price_kzt_per_m3"]
    assert after["KZ-71"]["value_kzt_per_year"] == pytest.approx(
        before["KZ-71"]["value_kzt_per_year"] + (ELM_30_CM_60_EVENTS + 0.999) * water, abs=0.02
    )
    assert card["value_kzt_per_year"] == pytest.approx(
        card["co2_sequestered_kg_per_year"] / 1000 * card["co2_price"]["kzt"]
        + ELM_30_CM_60_EVENTS * water,
        abs=0.01,
    )
    park = services.green_space_totals(db, ids["park"], 2026)
    assert park["rain_intercepted_m3_per_year"] == ELM_30_CM_60_EVENTS
    assert after["KZ-75"] == before["KZ-75"]  # Almaty's rain is not Astana's
    assert_tallies_add_up(db)


def test_rain_set_is_the_ministrys_audited_and_refuses_bad_input_changing_nothing(db) -> None:
    stand(db)
    astana = resolve_region(db, "KZ-71").id
    with pytest.raises(AccessDenied):
        set_rain(db, forester(db), "KZ-71", 318, 60, "a forester's guess")
    for annual, events, source, field in [
        (0, 60, "x", "annual_mm"),
        (float("nan"), 60, "x", "annual_mm"),
        (318, 0, "x", "events"),
        (318, 400, "x", "events"),
        (318, 60, "  ", "source"),
    ]:
        with pytest.raises(InvalidValue) as refused:
            set_rain(db, SYSTEM, "KZ-71", annual, events, source)
        assert refused.value.field == field
    assert db.get(RegionPrecipitation, astana).rain_events_per_year is None
    set_rain(db, SYSTEM, "KZ-71", 320, 60, "test: a person's count")
    audited = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "region_precipitation")
    ).all()
    changed = {(a.field, a.old_value, a.new_value) for a in audited}
    assert ("annual_mm", 318.0, 320.0) in changed
    assert ("rain_events_per_year", None, 60.0) in changed
    assert {a.actor for a in audited} == {"rain test"}
    sync_reference(db.connection())  # a later migration's reload keeps what the person set
    kept = db.get(RegionPrecipitation, astana)
    db.refresh(kept)
    assert (kept.annual_mm, kept.rain_events_per_year) == (320.0, 60.0)


def test_the_cli_sets_the_rain_and_the_card_shows_its_m3_and_value(clean) -> None:
    with unit_of_work(clean) as session:
        stand(session)
    new_user(clean, "ministry@test.jasyl.kz", "ministry")
    new_user(clean, "astana@test.jasyl.kz", "forester", "KZ-71")
    runner = CliRunner()
    args = ["benefits", "rain", "set", "--region", "Astana", "--annual-mm", "318",
            "--events", "60", "--source", "test: station 35188"]  # fmt: skip
    refused = runner.invoke(main, [*args, "--as", "astana@test.jasyl.kz"])
    assert refused.exit_code == 1 and "may not set rain reference data" in refused.output
    done = runner.invoke(main, [*args, "--as", "ministry@test.jasyl.kz"])
    assert done.exit_code == 0, done.output
    assert "KZ-71: 318 mm a year in 60 rain events" in done.output
    query = f"lon={ASTANA[0]}&lat={ASTANA[1]}&z=19&lang=en"
    html = create_app({"TESTING": True}).test_client().get(f"/api/v1/plants/at?{query}")
    card = html.get_json()["html"]
    rain = re.search(r'class="rain">([^<]+)<', card).group(1)
    assert float(rain.replace(",", "")) == pytest.approx(ELM_30_CM_60_EVENTS, abs=0.01)
    assert "Rain intercepted, m³ per year" in card
    value = re.search(r'class="value">([^<]+)<', card).group(1)
    assert float(value.replace(",", "")) > ELM_30_CM_60_EVENTS * 174  # water, plus carbon


def nowak_1996(w: float, hc: float, sh: float = 0.8) -> float:
    """The guide's equation typed out by hand: ln LA = −4.3309 + 0.2942·Hc + 0.7312·W +
    5.7217·Sh − 0.0148·C, C = π·W·(Hc + W)/2."""
    c = 3.141592653589793 * w * (hc + w) / 2
    return 2.718281828459045 ** (-4.3309 + 0.2942 * hc + 0.7312 * w + 5.7217 * sh - 0.0148 * c)


def test_the_crown_gives_the_leaf_area_where_the_species_has_no_equation(db) -> None:
    """Pinus sylvestris has no leaf-area equation: W 6 m, H 10 m → Hc assumed 5 m (0.5 × H),
    LA = 96.57 m², × 0.2 mm × 60 events = 1.159 m³ (under the crown's 318 mm × 28.3 m²)."""
    assert round(nowak_1996(6, 5), 2) == 96.57
    pine = get_species(db, "pinus_sylvestris").id
    measured = make_plant(db, geom=Point(*ASTANA), species_id=pine, trunk_diameter_cm=30,
                          height_m=10, crown_diameter_m=6, condition=1)  # fmt: skip
    no_crown = make_plant(db, geom=point_near(ASTANA, 2), species_id=pine, trunk_diameter_cm=30,
                          height_m=10, crown_diameter_m=None, condition=1)  # fmt: skip
    k = services.constants(db)
    assert rules.crown_leaf_area(6, 10, k) == pytest.approx(nowak_1996(6, 5), rel=1e-12)
    assert rules.crown_leaf_area(3, 4, k) == pytest.approx(nowak_1996(3, 2), rel=1e-12)
    card = services.plant_benefits(db, measured)
    assert card["rain_note"] == rules.NO_RAIN_EVENTS  # the crown alone is not enough
    set_rain(db, SYSTEM, "KZ-71", 318, 60, "test: a person's count")
    card = services.plant_benefits(db, measured)
    assert card["rain_intercepted_m3_per_year"] == round(nowak_1996(6, 5) * 0.2e-3 * 60, 3)
    assert card["rain_intercepted_m3_per_year"] == 1.159
    how = card["method"]
    assert (how["leaf_area_method"], how["crown_height_assumed_m"]) == ("crown", 5.0)
    assert how["crown_height_share"] == 0.5
    bare = services.plant_benefits(db, no_crown)
    assert bare["rain_intercepted_m3_per_year"] is None
    assert bare["rain_note"] == rules.NO_LEAF_AREA
    assert_tallies_add_up(db)  # the database's function gives the same figures


def test_the_card_says_the_crown_height_was_assumed(clean) -> None:
    with unit_of_work(clean) as session:
        pine = get_species(session, "pinus_sylvestris").id
        make_plant(session, geom=Point(*ASTANA), species_id=pine, trunk_diameter_cm=30,
                   height_m=10, crown_diameter_m=6, condition=1)  # fmt: skip
        set_rain(session, SYSTEM, "KZ-71", 318, 60, "test: a person's count")
    query = f"lon={ASTANA[0]}&lat={ASTANA[1]}&z=19"
    client = create_app({"TESTING": True}).test_client()
    for lang, says in [("en", "crown height assumed 5.0 m"), ("ru", "высота кроны принята 5,0 м"),
                       ("kk", "тәж биіктігі 5,0 м деп алынды")]:  # fmt: skip
        card = client.get(f"/api/v1/plants/at?{query}&lang={lang}").get_json()["html"]
        assert 'class="leaf-area-crown"' in card and says in card, lang
        rain = re.search(r'class="rain">([^<]+)<', card).group(1)
        assert rain.replace(",", ".").strip() in ("1.16", "1.159")
