"""OGC API – Features Part 3 at /ogc: queryables, CQL2 filters (text and JSON), numberMatched."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import quote

import pytest
from sqlalchemy import text

from registry.access import Actor
from registry.db import engine_for, unit_of_work
from registry.opendata import services
from registry.opendata.collections import PLANTS, Collection
from registry.opendata.rules import FeatureQuery, parse_query
from tests import test_ogcapi
from tests.factories import ALMATY, ASTANA
from tests.test_ogcapi import PLANTS as PLANT_COUNT

# the 23 plants, public and staff clients of the Part 1 tests
inventory, client, staff_client = (
    test_ogcapi.inventory,
    test_ogcapi.client,
    test_ogcapi.staff_client,
)

PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"


def _get(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.data
    return response.get_json()


def _ids(client, filter_: str, lang: str = "cql2-text", **extra: str) -> list[int]:
    """Every feature id the filter selects, following `next` links (pages of 5)."""
    url = f"/ogc/collections/plants/items?limit=5&filter-lang={lang}&filter={quote(filter_)}"
    for name, value in extra.items():
        url += f"&{name.replace('_', '-')}={quote(value)}"
    ids: list[int] = []
    while url:
        page = _get(client, url)
        ids += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    return ids


def _expected(database_url: str, where: str, **params: object) -> list[int]:
    """The published plants the same condition selects, written by hand in SQL."""
    sql = (
        "SELECT p.id FROM plants p JOIN species s ON s.id = p.species_id "
        f"WHERE p.published AND ({where}) ORDER BY p.id"
    )
    with engine_for(database_url).connect() as conn:
        return list(conn.execute(text(sql), params).scalars())


def test_conformance_queryables_and_links(client, staff_client, inventory) -> None:
    conformance = _get(client, "/ogc/conformance")["conformsTo"]
    for suffix in ("queryables", "filter", "features-filter"):
        assert PART3 + suffix in conformance
    for suffix in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
                   "basic-spatial-functions", "spatial-functions"):  # fmt: skip
        assert CQL2 + suffix in conformance
    described = _get(client, "/ogc/collections/plants")
    link = next(
        link
        for link in described["links"]
        if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"
    )
    assert link["type"] == "application/schema+json"
    response = client.get("/ogc/collections/plants/queryables")
    assert response.status_code == 200 and response.mimetype == "application/schema+json"
    schema = response.get_json()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    public = schema["properties"]
    assert public["condition"]["type"] == "integer" and public["species"]["type"] == "string"
    assert public["updated_at"]["format"] == "date-time" and "geometry" in public
    assert "notes" not in public and "published" not in public
    staff = _get(staff_client, "/ogc/collections/plants/queryables")["properties"]
    assert {"notes", "published"} <= set(staff)
    api = json.loads(client.get("/ogc/api").data)
    assert "/collections/plants/queryables" in api["paths"]
    names = {p["name"] for p in api["paths"]["/collections/plants/items"]["get"]["parameters"]}
    assert {"filter", "filter-lang", "filter-crs"} <= names


@pytest.mark.parametrize(
    "cql, where",
    [
        ("condition = 1", "p.condition = 1"),
        ("condition <> 1 AND condition >= 2", "p.condition <> 1 AND p.condition >= 2"),
        ("species = 'Quercus robur' OR condition < 2",
         "s.latin = 'Quercus robur' OR p.condition < 2"),
        ("address LIKE 'улица Абая, 1%'", "p.address LIKE 'улица Абая, 1%'"),
        ("NOT (address LIKE '%2')", "NOT (p.address LIKE '%2')"),
        ("condition IN (1, 3)", "p.condition IN (1, 3)"),
        ("species_ru IN ('дуб черешчатый', 'клён')", "s.name_ru = 'дуб черешчатый'"),
        ("condition BETWEEN 2 AND 3 AND height_m > 8", "p.condition BETWEEN 2 AND 3"),
        ("green_space_id IS NULL", "p.green_space_id IS NULL"),
        ("region = 'KZ-71' AND hazardous = false", "p.region_id = 71 AND NOT p.hazardous"),
        ("updated_at > TIMESTAMP('2000-01-01T00:00:00Z')", "true"),
        ("crown_diameter_m < height_m", "p.crown_diameter_m < p.height_m"),
        (f"S_INTERSECTS(geometry, BBOX({ASTANA[0] - 0.1}, {ASTANA[1] - 0.1}, "
         f"{ASTANA[0] + 0.1}, {ASTANA[1] + 0.1}))", "p.id % 2 = p.id % 2 AND p.region_id = 71"),
        (f"S_INTERSECTS(geometry, POLYGON(({ALMATY[0] - 0.1} {ALMATY[1] - 0.1}, "
         f"{ALMATY[0] + 0.1} {ALMATY[1] - 0.1}, {ALMATY[0] + 0.1} {ALMATY[1] + 0.1}, "
         f"{ALMATY[0] - 0.1} {ALMATY[1] - 0.1})))", "p.region_id = 75"),
        (f"S_DISJOINT(geometry, BBOX({ASTANA[0] - 0.1}, {ASTANA[1] - 0.1}, "
         f"{ASTANA[0] + 0.1}, {ASTANA[1] + 0.1})) AND condition = 2",
         "p.region_id <> 71 AND p.condition = 2"),
    ],
)  # fmt: skip
def test_cql2_text_selects_what_sql_selects(client, inventory, clean, cql, where) -> None:
    expected = _expected(clean, where)
    assert expected, "the case should select something"
    assert _ids(client, cql) == expected


def test_cql2_json_and_filter_crs(client, inventory, clean) -> None:
    oaks_in_astana = {
        "op": "and",
        "args": [
            {"op": "like", "args": [{"property": "species"}, "Quercus%"]},
            {
                "op": "s_intersects",
                "args": [
                    {"property": "geometry"},
                    {"type": "Point", "coordinates": list(ASTANA)},
                ],
            },
        ],
    }
    near = _ids(client, json.dumps(oaks_in_astana), "cql2-json")
    point = f"ST_SetSRID(ST_MakePoint({ASTANA[0]}, {ASTANA[1]}), 4326)"
    assert near == _expected(clean, f"s.latin LIKE 'Quercus%' AND ST_Equals(p.geom, {point})")
    box = {"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [40, 76, 46, 78]}]}
    # EPSG:4326 by the book is latitude first: (40…46 N, 76…78 E) is around Almaty
    almaty = _ids(client, json.dumps(box), "cql2-json", filter_crs="EPSG:4326")
    assert almaty == _expected(clean, "p.region_id = 75") and almaty


def test_the_filter_survives_paging_and_numbers_match(client, inventory, clean) -> None:
    cql = quote("condition IN (1, 2) AND region = 'KZ-71'")
    first = _get(client, f"/ogc/collections/plants/items?limit=3&filter={cql}")
    expected = _expected(clean, "p.condition IN (1, 2) AND p.region_id = 71")
    assert first["numberMatched"] == len(expected) and first["numberReturned"] == 3
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "filter=" in nxt
    second = _get(client, nxt.replace("http://localhost", ""))
    assert second["numberMatched"] == len(expected)  # the count ignores the page
    assert [f["id"] for f in first["features"] + second["features"]] == expected[:6]
    everything = _get(client, "/ogc/collections/plants/items")
    assert everything["numberMatched"] == PLANT_COUNT  # the unpublished plant is not counted


@pytest.mark.parametrize(
    "query, message",
    [
        ("filter=colour = 'red'", "'colour' is not a queryable of plants; queryables: geometry"),
        ("filter=notes LIKE '%жалоба%'", "'notes' is not a queryable of plants"),
        ("filter=condition = 'good'", "condition is an integer; \"good\" is not"),
        ("filter=height_m LIKE '8%'", "LIKE does not apply to height_m"),
        ("filter=condition = ", "is not valid cql2-text"),
        ("filter=T_BEFORE(updated_at, TIMESTAMP('2020-01-01T00:00:00Z'))",
         "the operator 't_before' is not supported"),
        ("filter=S_INTERSECTS(species, POINT(1 2))", "spatial functions take the property"),
        ("filter=S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))",
         "not a valid geometry: Self-intersection"),
        ("filter=updated_at > TIMESTAMP('2020-13-45T00:00:00Z')", "not a valid date or timestamp"),
        ("filter=condition = 1&filter-lang=ecql", "filter-lang: must be one of cql2-text"),
        ("filter={\"op\": \"=\"}&filter-lang=cql2-json", "is not valid cql2-json"),
        ("filter=condition = 1&filter-crs=EPSG:9999", "filter-crs: is not offered"),
        ("filter-lang=ecql", "filter-lang: must be one of cql2-text"),  # even without a filter
    ],
)  # fmt: skip
def test_bad_filters_are_400_with_a_reason(client, inventory, query, message) -> None:
    name, _, value = query.partition("=")
    url = f"/ogc/collections/plants/items?{name}={quote(value, safe='=&-')}"
    response = client.get(url)
    assert response.status_code == 400, (query, response.data)
    assert message in response.get_json()["description"], response.get_json()


def test_staff_may_filter_on_internal_fields(staff_client, inventory) -> None:
    hidden = _get(
        staff_client,
        "/ogc/collections/plants/items?filter="
        + quote("notes LIKE '%жалоба%' AND published = false"),
    )
    assert [f["id"] for f in hidden["features"]] == [inventory["hidden"]]


def test_values_are_bound_never_spliced(client, inventory, clean) -> None:
    sneaky = "inventory_number = 'x'' OR 1=1; DROP TABLE plants; --'"
    page = _get(client, "/ogc/collections/plants/items?filter=" + quote(sneaky))
    assert page["numberReturned"] == 0
    query = parse_query(PLANTS, {"filter": sneaky}, internal=False)
    sql, params = query.cql.sql()
    assert "DROP" not in sql and "DROP TABLE plants" in next(iter(params.values()))
    with engine_for(clean).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plants")).scalar() == PLANT_COUNT + 1


def test_number_matched_is_left_out_when_counting_is_not_cheap(
    client, inventory, monkeypatch
) -> None:
    monkeypatch.setattr(services, "COUNT_COST_LIMIT", 0.0)
    page = _get(client, "/ogc/collections/plants/items?limit=5")
    assert "numberMatched" not in page and page["numberReturned"] == 5


def test_a_count_over_its_time_limit_is_dropped_and_the_page_still_reads(inventory, clean) -> None:
    slow = Collection(
        id="slow_plants",
        title="Plants, slowly",
        description="every row waits 2 ms",
        source="plants t CROSS JOIN LATERAL (SELECT pg_sleep(0.002 + 0 * t.id)) AS nap",
        geometry="t.geom",
        properties=PLANTS.properties[:1],
    )
    actor = Actor.system("test")
    with unit_of_work(clean) as session:
        everything = PLANT_COUNT + 1  # the system actor sees the unpublished plant too
        assert services.number_matched(session, actor, slow, FeatureQuery()) == everything
        assert services.number_matched(session, actor, slow, FeatureQuery(), timeout_ms=10) is None
        page = services.feature_page(session, actor, slow, FeatureQuery(limit=100))
        assert page.number_returned == everything
        timeout = session.execute(text("SHOW statement_timeout")).scalar()
        assert timeout == "0"  # the count's limit ended with its savepoint


def _gdal(*args: str) -> subprocess.CompletedProcess:
    env = {"CPL_DEBUG": "ON", "CPL_CURL_VERBOSE": "NO", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return done


def test_gdal_pushes_its_where_clause_to_the_service(live_server, inventory, clean) -> None:
    done = _gdal("ogrinfo", "-ro", "-al", "-q", f"OAPIF:{live_server}/ogc", "plants",
                 "-where", "condition = 1 AND species = 'Quercus robur'")  # fmt: skip
    expected = _expected(clean, "p.condition = 1 AND s.latin = 'Quercus robur'")
    found = [line for line in done.stdout.splitlines() if line.startswith("OGRFeature(plants)")]
    assert len(found) == len(expected) == 2, done.stdout
    # GDAL 3.6 hands the equalities to the server as Part 1 queryable parameters (GDAL ≥ 3.7
    # may send them as a CQL2 filter); either way the server does the filtering
    asked = [line for line in done.stderr.splitlines() if "/items?" in line]
    assert any("condition=1" in line and "species=Quercus" in line for line in asked), asked
