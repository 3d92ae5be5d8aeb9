"""Where the benefits show: ``/api/v1/plants/{id}`` (declared in the OpenAPI document), the
plant card in kk/ru/en with "how computed", the region page and the ministry's dashboard."""

from __future__ import annotations

import re

import pytest
from shapely.geometry import Point

from registry.benefits import services
from registry.db import unit_of_work
from registry.inventory.models import Plant
from registry.species.services import get_species
from tests.factories import ALMATY, ASTANA, make_green_space, make_plant, point_near, square
from tests.web_client import new_user, sign_in
from web import create_app


@pytest.fixture
def site(clean):
    """The UTD elm (38.6 cm, 13.8 m) in Astana, a lilac hedge, an Almaty elm; three users."""
    with unit_of_work(clean) as session:
        park = make_green_space(session, name="Сквер Жастар", geom=square(ASTANA))
        elm = make_plant(
            session,
            geom=Point(*ASTANA),
            green_space_id=park.id,
            trunk_diameter_cm=38.6,
            height_m=13.8,
            condition=1,
        )
        lilac = get_species(session, "syringa_vulgaris").id
        hedge = make_plant(
            session,
            geom=Point(ASTANA[0] + 0.01, ASTANA[1]),
            species_id=lilac,
            planting_form="hedge",
            height_m=2,
            trunk_diameter_cm=None,
        )
        make_plant(session, geom=point_near(ALMATY), trunk_diameter_cm=30, height_m=None)
        ids = {"elm": elm.id, "hedge": hedge.id, "park": park.id}
        ids["elm_benefits"] = services.plant_benefits(session, session.get(Plant, elm.id))
    new_user(clean, "astana@test.jasyl.kz", "forester", "KZ-71")
    new_user(clean, "ministry@test.jasyl.kz", "ministry")
    return create_app({"TESTING": True}), ids


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_the_plant_api_has_a_benefits_object_the_openapi_declares(site) -> None:
    app, ids = site
    client = app.test_client()  # the public reads a published plant, and its benefits
    benefits = client.get(f"/api/v1/plants/{ids['elm']}").get_json()["benefits"]
    assert benefits == ids["elm_benefits"]
    assert benefits["kind"] == "computed" and benefits["co2_stored_kg"] > 0
    assert benefits["method"]["equation"] == "utd_ulmus_pumila_dh"
    assert benefits["method"]["inputs"] == {
        "dbh_cm": 38.6,
        "height_m": 13.8,
        "crown_diameter_m": 5.0,
        "condition": 1,
        "quantity": 1,
    }
    assert benefits["co2_price"]["kzt"] == 502.93 and "KZ ETS" in benefits["co2_price"]["source"]
    hedge = client.get(f"/api/v1/plants/{ids['hedge']}").get_json()["benefits"]
    assert hedge["kind"] == "no_method" and hedge["co2_stored_kg"] is None
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "benefits" in schemas["PlantAnswer"]["properties"]
    assert "co2_sequestered_kg_per_year" in schemas["PlantBenefits"]["properties"]


@pytest.mark.parametrize(
    ("lang", "heading", "how"),
    [
        ("en", "Benefits (estimates)", "How computed"),
        ("ru", "Экологическая польза (оценка)", "Как рассчитано"),
        ("kk", "Экологиялық пайда (бағалау)", "Қалай есептелді"),
    ],
)
def test_the_plant_card_shows_the_figures_and_how_they_were_computed(
    site, lang, heading, how
) -> None:
    app, ids = site
    elm = ids["elm_benefits"]
    client = app.test_client()
    query = f"lon={ASTANA[0]}&lat={ASTANA[1]}&z=19&lang={lang}"
    answer = client.get(f"/api/v1/plants/at?{query}").get_json()
    assert answer["kind"] == "plant" and answer["id"] == ids["elm"]
    html = answer["html"]
    assert heading in html and how in html
    assert "utd_ulmus_pumila_dh" in html and "PSW-GTR-253" in html
    shown = re.search(r'class="co2-stored">([^<]+)<', html).group(1)
    # en 2,067.68; kk and ru 2 067,68 (grouped by a no-break space, a decimal comma)
    shown = shown.replace(",", "") if lang == "en" else re.sub(r"\s", "", shown).replace(",", ".")
    assert float(shown) == pytest.approx(elm["co2_stored_kg"], abs=0.01)


def test_the_region_page_and_the_dashboard_carry_the_totals(site) -> None:
    app, ids = site
    ministry = signed_in(app, "ministry@test.jasyl.kz")
    national = ministry.get("/api/v1/reports/dashboard?year=2026").get_json()
    by_region = {r["region"]: r for r in national["benefits"]}
    assert set(by_region) == {"KZ-71", "KZ-75"}
    assert national["benefit_total"]["trees"] == 2
    assert national["benefit_total"]["plants_without_method"] == 1
    total_t = by_region["KZ-71"]["co2_stored_t"] + by_region["KZ-75"]["co2_stored_t"]
    assert national["benefit_total"]["co2_stored_t"] == pytest.approx(total_t, abs=0.001)
    page = ministry.get("/reports/dashboard?year=2026").get_data(as_text=True)  # their Russian
    assert 'id="benefits-table"' in page and "Только деревья; растений без методики: 1." in page
    forester = signed_in(app, "astana@test.jasyl.kz")
    region = forester.get("/api/v1/reports/dashboard/KZ-71?year=2026").get_json()
    assert region["benefits"] == by_region["KZ-71"]
    region_page = forester.get("/reports/dashboard/KZ-71?year=2026&lang=ru").get_data(as_text=True)
    assert "Польза деревьев (оценка)" in region_page and 'data-region="KZ-71"' in region_page
    park = next(g for g in region["green_spaces"] if g["id"] == ids["park"])
    assert park["benefits"]["trees"] == 1
    assert park["benefits"]["co2_stored_t"] == round(ids["elm_benefits"]["co2_stored_kg"] / 1000, 3)
    assert f'data-green-space="{ids["park"]}"' in region_page
    assert forester.get("/api/v1/reports/dashboard/KZ-75?year=2026").status_code == 403


def test_the_ogc_plants_collection_and_its_exports_carry_the_figures(site) -> None:
    app, ids = site
    client = app.test_client()
    items = client.get("/ogc/collections/plants/items?limit=10").get_json()["features"]
    by_id = {f["id"]: f["properties"] for f in items}
    elm, hedge = by_id[ids["elm"]], by_id[ids["hedge"]]
    assert elm["co2_stored_kg"] == ids["elm_benefits"]["co2_stored_kg"]
    assert elm["co2_sequestered_kg_per_year"] == ids["elm_benefits"]["co2_sequestered_kg_per_year"]
    assert elm["rain_intercepted_m3_per_year"] is None  # not computed, never 0
    assert hedge["co2_stored_kg"] is None
    queryables = client.get("/ogc/collections/plants/queryables").get_json()["properties"]
    assert queryables["co2_stored_kg"]["title"] == "CO₂ stored, kg (estimate)"
    exported = client.get("/ogc/collections/plants/download?format=geojson&region=KZ-71")
    rows = {
        f["properties"]["inventory_number"]: f["properties"]
        for f in exported.get_json()["features"]
    }
    assert sorted(r["co2_stored_kg"] is not None for r in rows.values()) == [False, True]
