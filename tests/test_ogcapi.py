"""OGC API – Features at /ogc: conformance-level HTTP checks, and GDAL's OAPIF client (as QGIS)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import g
from sqlalchemy import text

from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.species.services import get_species
from tests.factories import ALMATY, ASTANA, make_green_space, make_plant, point_near
from web import create_app

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
PLANTS = 23


@pytest.fixture
def inventory(clean):
    """23 published plants in Astana and Almaty, one unpublished with notes, one green space."""
    with unit_of_work(clean) as session:
        oak = get_species(session, "Quercus robur").id
        ids = []
        for n in range(PLANTS):
            centre = ASTANA if n % 2 == 0 else ALMATY
            plant = make_plant(
                session,
                geom=point_near(centre, n),
                condition=1 + n % 3,
                address=f"улица Абая, {n}",
                **({"species_id": oak} if n < 5 else {}),
            )
            ids.append(plant.id)
        hidden = make_plant(
            session, published=False, notes="жалоба жителей", geom=point_near(ASTANA, 99)
        )
        space = make_green_space(session, name="Сквер «Қарағай»")
    return {"plants": ids, "hidden": hidden.id, "space": space.id}


@pytest.fixture
def client(database_url):
    return create_app({"TESTING": True}).test_client()


@pytest.fixture
def staff_client(database_url):
    app = create_app({"TESTING": True})

    @app.before_request
    def as_planner() -> None:
        g.jasyl_actor = Actor(label="planner@test", role="planner", user_id=None)

    return app.test_client()


def test_landing_page_has_what_qgis_needs(client) -> None:
    page = client.get("/ogc/").get_json()
    rels = {(link["rel"], link["type"]) for link in page["links"]}
    assert ("service-desc", "application/vnd.oai.openapi+json;version=3.0") in rels
    assert ("data", "application/json") in rels
    assert ("conformance", "application/json") in rels
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert CORE in conformance
    assert any(c.endswith("/conf/geojson") for c in conformance)
    assert any(c.endswith("/conf/oas30") for c in conformance)
    api = client.get("/ogc/api")
    assert api.mimetype == "application/vnd.oai.openapi+json"
    doc = json.loads(api.data)
    assert doc["openapi"].startswith("3.0")
    assert "/collections/plants/items" in doc["paths"]
    assert "/collections/regions/items/{featureId}" in doc["paths"]


def test_collections_describe_extent_crs_and_items_link(client, inventory) -> None:
    listing = client.get("/ogc/collections").get_json()
    ids = [c["id"] for c in listing["collections"]]
    assert {"plants", "green_spaces", "regions"} <= set(ids)
    plants = client.get("/ogc/collections/plants").get_json()
    x1, y1, x2, y2 = plants["extent"]["spatial"]["bbox"][0]
    assert x1 <= ASTANA[0] <= x2 and y1 <= ALMATY[1] <= y2
    assert any(
        link["rel"] == "items" and link["type"] == "application/geo+json"
        for link in plants["links"]
    )
    assert "http://www.opengis.net/def/crs/EPSG/0/32642" in plants["crs"]
    assert client.get("/ogc/collections/secrets").status_code == 404


def _items(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def test_keyset_paging_visits_every_published_plant_once(client, inventory) -> None:
    first = _items(client, "/ogc/collections/plants/items")
    assert first["numberReturned"] == 10 == len(first["features"])
    seen, url = [], "/ogc/collections/plants/items?limit=7"
    while url:
        page = _items(client, url)
        assert page["numberReturned"] == len(page["features"]) <= 7
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        assert all("offset" not in href for href in nxt)
        url = nxt[0].replace("http://localhost", "") if nxt else None
    assert seen == sorted(inventory["plants"])
    assert inventory["hidden"] not in seen


def test_limits_are_bounded_and_bad_parameters_are_400(client, inventory) -> None:
    assert _items(client, "/ogc/collections/plants/items?limit=20000")["numberReturned"] == PLANTS
    for bad in (
        "limit=0",
        "limit=many",
        "bbox=1,2,3",
        "datetime=yesterday",
        "colour=red",
        "condition=good",
        "crs=EPSG:9999",
        "notes=x",
    ):
        response = client.get(f"/ogc/collections/plants/items?{bad}")
        assert response.status_code == 400, bad
        assert response.get_json()["description"]


def test_plants_are_found_by_box_through_their_one_spatial_index(client, inventory, clean):
    """Plants keep one GiST index, on geom_3857 (revision 0019): boxes in degrees are looked up
    there, up to the whole world (cut where Web Mercator ends), and exact tests stay on geom."""
    world = _items(client, "/ogc/collections/plants/items?limit=100&bbox=-180,-90,180,90")
    assert world["numberReturned"] == PLANTS
    x, y = ALMATY
    box = {"bbox": [x - 0.1, y - 0.1, x + 0.1, y + 0.1]}
    edge = {"op": "s_intersects", "args": [{"property": "geometry"}, box]}
    almaty = _items(
        client,
        "/ogc/collections/plants/items?limit=100&filter-lang=cql2-json"
        f"&filter={quote(json.dumps(edge))}",
    )
    assert almaty["numberReturned"] == 11  # the odd plants of the fixture
    assert {f["properties"]["region"] for f in almaty["features"]} == {"KZ-75"}
    with engine_for(clean).begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = conn.execute(
            text(
                "EXPLAIN SELECT id FROM plants WHERE geom_3857 && jasyl_mercator_box("
                "ST_MakeEnvelope(76.8, 43.1, 77.0, 43.3, 4326))"
            )
        ).scalars()
        assert "ix_plants_geom_3857" in "\n".join(plan)


def test_bbox_datetime_and_property_filters(client, inventory, clean) -> None:
    x, y = ASTANA
    astana = _items(
        client,
        f"/ogc/collections/plants/items?limit=100&bbox={x - 0.1},{y - 0.1},{x + 0.1},{y + 0.1}",
    )
    assert astana["numberReturned"] == 12
    assert all(f["properties"]["region"] == "KZ-71" for f in astana["features"])
    by_crs = _items(
        client,
        "/ogc/collections/plants/items?limit=100&bbox-crs=EPSG:4326"
        f"&bbox={y - 0.1},{x - 0.1},{y + 0.1},{x + 0.1}",
    )
    assert by_crs["numberReturned"] == 12
    oaks = _items(
        client, "/ogc/collections/plants/items?limit=100&species=Quercus%20robur&condition=1"
    )
    assert {f["properties"]["species"] for f in oaks["features"]} == {"Quercus robur"}
    assert oaks["numberReturned"] == 2  # plants 0 and 3 are oaks of condition 1
    by_region = _items(client, "/ogc/collections/plants/items?limit=100&region=Алматы")
    assert by_region["numberReturned"] == 11
    with engine_for(clean).begin() as conn:
        conn.execute(
            text("UPDATE plants SET updated_at = '2020-05-01' WHERE id = :id"),
            {"id": inventory["plants"][0]},
        )
    old = _items(client, "/ogc/collections/plants/items?datetime=2020-01-01/2020-12-31")
    assert [f["id"] for f in old["features"]] == [inventory["plants"][0]]
    assert (
        _items(client, "/ogc/collections/plants/items?datetime=2020-05-01")["numberReturned"] == 1
    )
    assert (
        _items(client, "/ogc/collections/plants/items?datetime=../2019-12-31")["numberReturned"]
        == 0
    )


def test_one_feature_crs_and_what_the_public_may_not_see(client, staff_client, inventory) -> None:
    fid = inventory["plants"][0]
    one = _items(client, f"/ogc/collections/plants/items/{fid}")
    assert one["id"] == fid and one["properties"]["address"] == "улица Абая, 0"
    assert "notes" not in one["properties"]
    lon, lat = one["geometry"]["coordinates"]
    flipped = client.get(f"/ogc/collections/plants/items/{fid}?crs=EPSG:4326")
    assert flipped.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    assert flipped.get_json()["geometry"]["coordinates"] == [lat, lon]
    utm = client.get(
        f"/ogc/collections/plants/items/{fid}?crs=http://www.opengis.net/def/crs/EPSG/0/32642"
    ).get_json()
    assert 200_000 < utm["geometry"]["coordinates"][0] < 800_000
    assert client.get(f"/ogc/collections/plants/items/{inventory['hidden']}").status_code == 404
    assert client.get("/ogc/collections/plants/items/999999").status_code == 404
    staff = _items(staff_client, f"/ogc/collections/plants/items/{inventory['hidden']}")
    assert staff["properties"]["notes"] == "жалоба жителей"
    staff_page = _items(staff_client, "/ogc/collections/plants/items?limit=100&published=false")
    assert [f["id"] for f in staff_page["features"]] == [inventory["hidden"]]


def test_html_pages_in_three_languages(client, inventory) -> None:
    page = client.get("/ogc/collections/green_spaces/items?f=html&lang=kk").get_data(as_text=True)
    assert "Сквер «Қарағай»" in page and "Нысандар" in page
    assert "Коллекции" in client.get("/ogc/?f=html&lang=ru").get_data(as_text=True)
    browser = client.get("/ogc/collections", headers={"Accept": "text/html"})
    assert browser.mimetype == "text/html"
    regions = _items(client, "/ogc/collections/regions/items?limit=50")
    assert regions["numberReturned"] == 20
    assert "Алматинская область" in {f["properties"]["name_ru"] for f in regions["features"]}


def _gdal(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_reads_the_service_like_qgis(live_server, inventory, clean, tmp_path: Path) -> None:
    info = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}/ogc", "plants")
    assert "Feature Count: 23" in info and "Geometry: Point" in info
    listing = _gdal("ogrinfo", "-ro", f"OAPIF:{live_server}/ogc")
    assert "plants" in listing and "green_spaces" in listing and "regions" in listing
    target = tmp_path / "plants.gpkg"
    # a page size of 5 makes GDAL follow five `next` links
    _gdal(
        "ogr2ogr",
        "-f",
        "GPKG",
        str(target),
        f"OAPIF:{live_server}/ogc",
        "plants",
        "-oo",
        "PAGE_SIZE=5",
    )
    with sqlite3.connect(target) as copy:
        rows = copy.execute(
            "SELECT fid, address, species_ru, condition, height_m FROM plants ORDER BY fid"
        ).fetchall()
    with engine_for(clean).connect() as conn:
        expected = conn.execute(
            text(
                "SELECT p.id, p.address, s.name_ru, p.condition, p.height_m::float8 FROM plants p "
                "JOIN species s ON s.id = p.species_id WHERE p.published ORDER BY p.id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [tuple(r) for r in expected]


def test_nurseries_and_planting_events_are_collections_too(client, clean) -> None:
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point

    from registry.nursery.models import Nursery

    with unit_of_work(clean) as session:
        session.add(
            Nursery(
                code="KZ-71-N1",
                name="Питомник «Көктем»",
                operator="ГКП «Астана Зеленстрой»",
                region_id=71,
                location=from_shape(Point(*ASTANA), srid=4326),
                zones=["dry_steppe"],
            )  # fmt: skip
        )
    ids = [c["id"] for c in client.get("/ogc/collections").get_json()["collections"]]
    assert {"nurseries", "planting_events"} <= set(ids)
    nurseries = _items(client, "/ogc/collections/nurseries/items?region=KZ-71")
    assert [f["properties"]["name"] for f in nurseries["features"]] == ["Питомник «Көктем»"]
    assert nurseries["features"][0]["properties"]["zones"] == "dry_steppe"
    assert _items(client, "/ogc/collections/planting_events/items")["numberReturned"] == 0
