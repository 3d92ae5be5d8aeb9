"""Demo planting and care: three spring seasons of approved plans, plantings made against them,
survival re-counts and care works in the demo cities, so that the ministry's dashboard and the
region reports of ``make run`` have figures to show.

Everything goes through the planting and care services, so the demo obeys the same rules as real
work (dates never in the future, counts never above what was planted). Seeded, and dated from the
day it runs; a second call adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.care import services as care
from registry.inventory.models import GreenSpace
from registry.planting import services as planting
from registry.planting.models import PlantingPlan
from registry.regions.models import Region

SEED = 20261129
ACTOR = Actor.system("demo")
CITIES = ("KZ-71", "KZ-75", "KZ-79")
SPECIES = (
    "Ulmus pumila",
    "Betula pendula",
    "Pinus sylvestris",
    "Fraxinus pennsylvanica",
    "Populus balsamifera",
)
SPACES_PER_CITY = 3  # the parks of a city that get the plantings
SEASON_TITLE = "Весенняя посадка"  # stored text, as an akimat would write it


@dataclass(frozen=True)
class CitySeason:
    """One demo city's year: where its plantings and care go, and the day the demo runs."""

    iso: str
    year: int
    parks: list[GreenSpace]
    today: date


def load_planting_demo(session: Session, today: date | None = None) -> int:
    """Plans, plantings, re-counts and care for this year and the two before; the number of
    planting events recorded (0 when any planting plan exists already)."""
    if session.scalar(select(func.count()).select_from(PlantingPlan)):
        return 0
    today = today or date.today()
    rng = random.Random(SEED)
    events = 0
    for iso in CITIES:
        spaces = _parks(session, iso)
        if not spaces:
            continue
        for year in range(today.year - 2, today.year + 1):
            season = CitySeason(iso, year, spaces, today)
            events += _spring(session, rng, season)
            _care(session, rng, season)
    return events


def _parks(session: Session, iso: str) -> list[GreenSpace]:
    query = (
        select(GreenSpace)
        .join(Region, Region.id == GreenSpace.region_id)
        .where(Region.iso_code == iso)
        .order_by(GreenSpace.area_m2.desc(), GreenSpace.id)
        .limit(SPACES_PER_CITY)
    )
    return list(session.scalars(query))


def _spring(session: Session, rng: random.Random, season: CitySeason) -> int:
    """One approved spring plan; what was planted against each line (70–100 % of it, if the
    day has come) and its re-counts after the 1st and 3rd seasons (if those days have come)."""
    year = season.year
    plan = planting.create_plan(
        session, ACTOR, season.iso, year, "spring", f"{SEASON_TITLE} {year}"
    )
    lines = []
    for species, space in zip(rng.sample(SPECIES, 3), season.parks, strict=False):
        quantity = rng.randint(30, 60)
        line = planting.add_plan_line(
            session, ACTOR, plan.id, species, quantity, green_space_id=space.id
        )
        lines.append((line, species, space, quantity))
    planting.approve_plan(session, ACTOR, plan.id)
    events = 0
    for line, species, space, quantity in lines:
        planted_on = date(year, 4, rng.randint(15, 30))
        if planted_on > season.today:
            continue
        count = round(quantity * rng.uniform(0.7, 1.0))
        places = _points_inside(to_shape(space.geom), count, rng)
        event = planting.record_planting(
            session,
            ACTOR,
            species,
            planted_on,
            count,
            geometries=places,
            green_space_id=space.id,
            plan_line_id=line.id,
            performer="ТОО «Горзеленхоз»",
        )
        events += 1
        for growing_seasons, years_after in ((1, 0), (3, 2)):
            checked_on = date(year + years_after, 10, 1)
            if checked_on <= season.today:
                alive = round(count * rng.uniform(0.75, 0.95) ** growing_seasons)
                planting.record_survival_check(
                    session, ACTOR, event.id, growing_seasons, checked_on, alive, count - alive
                )
    return events


def _care(session: Session, rng: random.Random, season: CitySeason) -> None:
    """An approved care plan: summer watering and sanitary pruning in each park, done (with
    its volume and cost) once its day has passed."""
    year = season.year
    plan = care.create_care_plan(session, ACTOR, season.iso, year, f"Уход за насаждениями {year}")
    care.approve_care_plan(session, ACTOR, plan.id)
    for space in season.parks:
        for kind, unit, volume, price, day in (
            ("watering", "m3", rng.randint(200, 600), 450, date(year, 7, 1)),
            ("pruning_sanitary", "pieces", rng.randint(20, 80), 3500, date(year, 9, 15)),
        ):
            done = day <= season.today
            done_volume = round(volume * rng.uniform(0.8, 1.0)) if done else None
            care.add_care_work(
                session,
                ACTOR,
                kind,
                unit,
                plan_id=plan.id,
                planned_volume=volume,
                planned_on=day,
                planned_cost=volume * price,
                done_volume=done_volume,
                done_on=day if done else None,
                done_cost=done_volume * price if done else None,
                green_space_id=space.id,
            )


def _points_inside(area: BaseGeometry, count: int, rng: random.Random) -> list[Point]:
    """``count`` seeded random points inside ``area`` (a park)."""
    west, south, east, north = area.bounds
    points: list[Point] = []
    while len(points) < count:
        candidate = Point(rng.uniform(west, east), rng.uniform(south, north))
        if area.contains(candidate):
            points.append(candidate)
    return points
