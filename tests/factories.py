"""Small builders for test records, going through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from shapely.geometry import Point, Polygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.accounts.models import User
from registry.accounts.services import actor_for, add_user
from registry.db import engine_for
from registry.inventory.models import GreenSpace, Plant
from registry.inventory.services import create_green_space, create_plant
from registry.species.services import get_species

ASTANA = (71.4304, 51.1282)
ALMATY = (76.9286, 43.2389)
OUTSIDE_KAZAKHSTAN = (37.6173, 55.7558)  # Moscow
_counter = itertools.count(1)


def point_near(centre: tuple[float, float], step: int | None = None) -> Point:
    n = next(_counter) if step is None else step
    return Point(centre[0] + 0.0003 * (n % 50), centre[1] + 0.0002 * (n // 50))


def square(centre: tuple[float, float], half_side_deg: float = 0.001) -> Polygon:
    x, y = centre
    d = half_side_deg
    return Polygon([(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d)])


def make_user(
    session: Session,
    role: str = "forester",
    region: str | None = "KZ-71",
    password: str | None = "correct horse battery",
) -> User:
    email = f"{role}{next(_counter)}@test.jasyl.kz"
    if role != "forester" and region == "KZ-71":
        region = None
    return add_user(session, Actor.system("test"), email, role, region, password)


def forester(session: Session, region: str = "KZ-71") -> Actor:
    return actor_for(make_user(session, "forester", region))


def make_plant(session: Session, actor: Actor | None = None, **overrides: Any) -> Plant:
    data: dict[str, Any] = {
        "species_id": get_species(session, "Ulmus pumila").id,
        "geom": point_near(ASTANA),
        "height_m": 8.5,
        "trunk_diameter_cm": 24,
        "crown_diameter_m": 5,
        "condition": 2,
        "planting_year": 2005,
    }
    data.update(overrides)
    return create_plant(session, actor or Actor.system("test"), data)


def make_green_space(session: Session, actor: Actor | None = None, **overrides: Any) -> GreenSpace:
    data: dict[str, Any] = {
        "name": "Сквер «Тестовый»",
        "category": "public",
        "geom": square(ASTANA),
    }
    data.update(overrides)
    return create_green_space(session, actor or Actor.system("test"), data)


def bulk_write(url: str, statement: str) -> None:
    """``statement`` as a bulk write (an import's size): more rows than ``jasyl.grid_bulk_rows``,
    set to 0 here, so it marks its regions' plant grid for a rebuild instead of adding itself."""
    with engine_for(url).begin() as conn:
        conn.execute(text("SET LOCAL jasyl.grid_bulk_rows = 0"))
        conn.execute(text(statement))
