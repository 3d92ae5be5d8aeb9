"""A forester writes only in their own region, also through a green space or an outline.

An Akmola forester (KZ-11, the oblast around Astana) may not draw a park whose outline reaches
into Astana (KZ-71), and an Almaty forester may not attach plants to an Astana green space: by
the services, the web form, the JSON API and the importer alike; each refusal is audited and
nothing is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Polygon, box, mapping
from sqlalchemy import func, select, text

from importers.services import import_file
from registry.db import engine_for, unit_of_work
from registry.errors import AccessDenied
from registry.inventory.models import GreenSpace, Plant
from registry.inventory.services import update_plant
from registry.species.services import get_species
from tests.factories import ALMATY, forester, make_green_space, make_plant, point_near
from tests.web_client import csrf_token, new_user, send, sign_in
from web import create_app

# Mostly Akmola oblast, its western end inside Astana: its point on the surface is in KZ-11.
REACHING_INTO_ASTANA: Polygon = box(71.43, 51.10, 72.6, 51.16)
# Wholly in Akmola oblast, east of Astana.
WHOLLY_IN_AKMOLA: Polygon = box(72.3, 51.10, 72.4, 51.16)


def denials(url: str, actor: str) -> list[tuple[str, str]]:
    """The refusals audited for ``actor``: (entity, attempted action)."""
    with engine_for(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT entity, new_value->>'attempted' FROM audit_log "
                "WHERE action = 'denied' AND actor = :actor ORDER BY id"
            ),
            {"actor": actor},
        )
        return [tuple(row) for row in rows]


def count(url: str, model: type) -> int:
    with unit_of_work(url) as session:
        return session.scalar(select(func.count()).select_from(model))


# -- the services ---------------------------------------------------------------------------------
def test_an_outline_reaching_into_another_region_is_refused(db) -> None:
    akmola = forester(db, "KZ-11")
    with pytest.raises(AccessDenied, match=r"reaching into KZ-71 \(region 71\)"):
        make_green_space(db, akmola, geom=REACHING_INTO_ASTANA)
    assert db.scalar(select(func.count()).select_from(GreenSpace)) == 0
    inside = make_green_space(db, akmola, geom=WHOLLY_IN_AKMOLA)
    assert inside.region_id == 11


def test_redrawing_an_outline_into_another_region_is_refused(db) -> None:
    from registry.inventory.services import update_green_space

    akmola = forester(db, "KZ-11")
    space = make_green_space(db, akmola, geom=WHOLLY_IN_AKMOLA)
    with pytest.raises(AccessDenied, match="may not redraw green space reaching into KZ-71"):
        update_green_space(db, akmola, space.id, 1, {"geom": REACHING_INTO_ASTANA})


def test_an_administrator_may_draw_across_regions(db) -> None:
    space = make_green_space(db, geom=REACHING_INTO_ASTANA)
    assert space.region_id == 11


def test_plants_are_not_attached_to_another_regions_green_space(db) -> None:
    astana_park = make_green_space(db)
    almaty = forester(db, "KZ-75")
    with pytest.raises(AccessDenied, match="may not attach plants to green space in region 71"):
        make_plant(db, almaty, geom=point_near(ALMATY), green_space_id=astana_park.id)
    own = make_plant(db, almaty, geom=point_near(ALMATY))
    with pytest.raises(AccessDenied, match="may not attach plants to green space in region 71"):
        update_plant(db, almaty, own.id, own.version, {"green_space_id": astana_park.id})
    astana = forester(db, "KZ-71")
    attached = make_plant(db, astana, green_space_id=astana_park.id)
    assert attached.green_space_id == astana_park.id


# -- the web form and the JSON API ---------------------------------------------------------------
@pytest.fixture
def site(clean):
    with unit_of_work(clean) as session:
        park = make_green_space(session, name="Парк Астаны")
        ids = {"park": park.id, "elm": get_species(session, "Ulmus pumila").id}
    new_user(clean, "akmola@test.jasyl.kz", "forester", "KZ-11")
    new_user(clean, "almaty@test.jasyl.kz", "forester", "KZ-75")
    return create_app({"TESTING": True}), ids, clean


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_the_green_space_form_refuses_an_outline_reaching_into_astana(site) -> None:
    app, _, url = site
    client = signed_in(app, "akmola@test.jasyl.kz")
    form = {
        "name": "Лесопояс",
        "category": "public",
        "kind": "park",
        "geometry": json.dumps(mapping(REACHING_INTO_ASTANA)),
        "csrf_token": csrf_token(client, "/green_spaces/new"),
    }
    response = client.post("/green_spaces/new", data=form)
    assert response.status_code == 403
    assert count(url, GreenSpace) == 1  # only the Astana park of the fixture
    assert denials(url, "akmola@test.jasyl.kz") == [("green space", "create")]


def test_the_api_refuses_plants_in_another_regions_green_space(site) -> None:
    app, ids, url = site
    client = signed_in(app, "almaty@test.jasyl.kz")
    body = {
        "species_id": ids["elm"],
        "lon": ALMATY[0],
        "lat": ALMATY[1],
        "green_space_id": ids["park"],
    }
    response = send(client, "POST", "/api/v1/plants", body)
    assert response.status_code == 403 and response.get_json()["error"] == "access_denied"
    assert count(url, Plant) == 0
    assert denials(url, "almaty@test.jasyl.kz") == [("green space", "attach plants to")]


# -- the importer ---------------------------------------------------------------------------------
def test_an_import_of_an_outline_reaching_into_astana_is_refused(clean, tmp_path: Path) -> None:
    akmola = new_user(clean, "akmola@test.jasyl.kz", "forester", "KZ-11")
    parks = geopandas.GeoDataFrame(
        pd.DataFrame({"НАЗВАНИЕ": ["Лесопояс", "Роща"], "ТИП": ["парк", "парк"]}),
        geometry=[WHOLLY_IN_AKMOLA, REACHING_INTO_ASTANA],
        crs="EPSG:4326",
    )
    path = tmp_path / "parks.gpkg"
    pyogrio.write_dataframe(parks, path)
    refused = pytest.raises(AccessDenied, match="reaching into KZ-71")
    with refused, unit_of_work(clean) as session:
        import_file(session, akmola, path, region="KZ-11")
    assert count(clean, GreenSpace) == 0  # the first, valid park was rolled back with it
    assert denials(clean, "akmola@test.jasyl.kz") == [("green space", "create")]
