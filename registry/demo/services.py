"""Generate and load the demo data set: green spaces, plants and their inspections in three cities.

Everything is drawn from one seeded random generator, so every machine gets the same data set.
Plants are loaded with PostgreSQL's COPY (the path real imports use), inside the caller's
transaction; a marker import batch makes the whole load run once only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.demo.cities import CITIES, CityPlan
from registry.imports.models import ImportBatch
from registry.inventory.models import GreenSpace, GreenSpaceCategory
from registry.regions.models import Region
from registry.species.models import Species

DEMO_MARKER = "jasyl-demo-v1"
SEED = 2025
CONDITION_WEIGHTS = np.array([0.55, 0.22, 0.10, 0.06, 0.04, 0.03])
Progress = Callable[[str, int, int], None]


@dataclass
class CityDraft:
    plan: CityPlan
    region_id: int
    to_wgs: Transformer
    boundary_m: Polygon | MultiPolygon
    spaces: list[tuple[str, str, GreenSpaceCategory, Polygon]] = field(default_factory=list)
    streets: list[tuple[str, LineString]] = field(default_factory=list)


def demo_loaded(session: Session) -> bool:
    return (
        session.scalar(select(ImportBatch.id).where(ImportBatch.file_sha256 == DEMO_MARKER))
        is not None
    )


def load_demo(session: Session, scale: float = 1.0, progress: Progress | None = None) -> int:
    """Load the demo data once; returns the number of plants added (0 when already loaded)."""
    if demo_loaded(session):
        return 0
    rng = np.random.default_rng(SEED)
    species = {s.latin: s for s in session.scalars(select(Species))}
    batch = ImportBatch(
        file_name="demo data set",
        file_sha256=DEMO_MARKER,
        source="demo",
        status="done",
        details={"scale": scale},
    )
    session.add(batch)
    session.flush()
    total = 0
    for plan in CITIES:
        draft = _draft_city(session, plan, rng)
        space_ids = _store_spaces(session, draft, batch.id)
        rows = _plants(draft, space_ids, species, rng, int(plan.plants * scale), batch.id)
        total += _copy_plants(session, rows, plan, progress)
    _add_inspections(session, batch.id)
    batch.rows_read = batch.rows_imported = total
    batch.finished_at = datetime.now(UTC)
    session.execute(text("ANALYZE plants"))
    return total


# -- city layout ----------------------------------------------------------------------------------
def _draft_city(session: Session, plan: CityPlan, rng: np.random.Generator) -> CityDraft:
    region = session.scalar(select(Region).where(Region.kato == plan.region_kato))
    to_m = Transformer.from_crs(4326, plan.utm_epsg, always_xy=True)
    boundary = shapely.transform(to_shape(region.boundary), to_m.transform, interleaved=False)
    draft = CityDraft(
        plan,
        region.id,
        Transformer.from_crs(plan.utm_epsg, 4326, always_xy=True),
        boundary.buffer(-30),
    )
    cx, cy = to_m.transform(*plan.centre)
    _lay_parks(draft, (cx, cy), rng)
    _lay_streets(draft, (cx, cy), rng)
    return draft


def _random_point(draft: CityDraft, centre: tuple[float, float], rng: np.random.Generator) -> Point:
    while True:
        r = draft.plan.radius_m * math.sqrt(rng.random())
        a = rng.random() * 2 * math.pi
        p = Point(centre[0] + r * math.cos(a), centre[1] + r * math.sin(a))
        if draft.boundary_m.contains(p):
            return p


def _lay_parks(draft: CityDraft, centre: tuple[float, float], rng: np.random.Generator) -> None:
    names = list(draft.plan.parks) + [f"Сквер №{n}" for n in range(1, 26)]
    taken: list[Polygon] = []
    for index, name in enumerate(names):
        for _ in range(50):
            p = _random_point(draft, centre, rng)
            half_w, half_h = rng.uniform(60, 320 if index < 15 else 120, size=2)
            shape = shapely.affinity.rotate(
                Polygon(
                    [(-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)]
                ),
                rng.uniform(0, 90),
            )
            shape = shapely.affinity.translate(shape, p.x, p.y)
            if draft.boundary_m.contains(shape) and not any(shape.intersects(t) for t in taken):
                taken.append(shape)
                kind = "square" if name.startswith("Сквер") else "park"
                draft.spaces.append((name, kind, GreenSpaceCategory.PUBLIC, shape))
                break
    draft.spaces[-1] = (*draft.spaces[-1][:2], GreenSpaceCategory.LIMITED, draft.spaces[-1][3])


def _lay_streets(draft: CityDraft, centre: tuple[float, float], rng: np.random.Generator) -> None:
    for name in draft.plan.streets:
        p = _random_point(draft, centre, rng)
        length = rng.uniform(1500, 4500)
        angle = rng.choice([0.0, 90.0]) + rng.uniform(-8, 8)
        dx, dy = (
            length / 2 * math.cos(math.radians(angle)),
            length / 2 * math.sin(math.radians(angle)),
        )
        line = LineString([(p.x - dx, p.y - dy), (p.x + dx, p.y + dy)]).intersection(
            draft.boundary_m
        )
        if line.geom_type == "LineString" and line.length > 300:
            draft.streets.append((name, line))
            belt = line.buffer(12, cap_style="flat")
            draft.spaces.append((f"Озеленение: {name}", "street", GreenSpaceCategory.SPECIAL, belt))


def _to_wgs(draft: CityDraft, geometry):
    return shapely.transform(geometry, draft.to_wgs.transform, interleaved=False)


def _store_spaces(session: Session, draft: CityDraft, batch_id: int) -> list[int]:
    ids = []
    for index, (name, kind, category, shape) in enumerate(draft.spaces):
        holder = "ГКП «Жасыл аймақ»" if index % 2 else "ТОО «Горзеленхоз»"
        space = GreenSpace(
            name=name,
            kind=kind,
            category=category,
            balance_holder=holder,
            region_id=draft.region_id,
            version=1,
            import_batch_id=batch_id,
            geom=from_shape(MultiPolygon([_to_wgs(draft, shape)]), srid=4326),
        )
        session.add(space)
        session.flush()
        ids.append(space.id)
    return ids


# -- plants ---------------------------------------------------------------------------------------
def _plants(
    draft: CityDraft,
    space_ids: list[int],
    species: dict[str, Species],
    rng: np.random.Generator,
    count: int,
    batch_id: int,
) -> Iterator[tuple]:
    mix = [(species[latin], w) for latin, w in draft.plan.mix.items() if latin in species]
    weights = np.array([w for _, w in mix], dtype=float)
    weights /= weights.sum()
    street_share = 0.55
    street_count = int(count * street_share)
    places = list(_street_places(draft, space_ids, street_count))
    places += list(_park_places(draft, space_ids, count - len(places), rng))
    picks = rng.choice(len(mix), size=len(places), p=weights)
    this_year = date.today().year
    years = this_year - np.minimum(
        rng.gamma(2.2, 9.0, size=len(places)).astype(int) + 2, this_year - draft.plan.oldest_year
    )
    conditions = rng.choice(6, size=len(places), p=CONDITION_WEIGHTS) + 1
    noise = rng.normal(1.0, 0.12, size=(len(places), 3)).clip(0.6, 1.4)
    points = _to_wgs(draft, np.array([place[0] for place in places]))
    ewkb = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    for i, (_, space_id, address) in enumerate(places):
        sp = mix[picks[i]][0]
        age = this_year - int(years[i])
        grade = int(conditions[i])
        yield _plant_row(
            draft,
            sp,
            ewkb[i],
            space_id,
            address,
            int(years[i]),
            age,
            grade,
            noise[i],
            rng.random(),
            batch_id,
            i,
        )


def _plant_row(draft, sp, ewkb, space_id, address, year, age, grade, noise, chance, batch_id, i):
    growth = 1 - math.exp(-age / 18)
    height = min(float(sp.max_height_m) * 0.75 * growth * noise[0] + 0.8, float(sp.max_height_m))
    trunk = min(
        float(sp.max_trunk_diameter_cm) * 0.55 * growth * noise[1] + 1.5,
        float(sp.max_trunk_diameter_cm),
    )
    crown = max(0.5, min(height * 0.45 * noise[2], 25))
    status = "alive" if grade < 5 else ("stump" if chance < 0.15 else "dead")
    hazardous = grade >= 4 and chance < 0.35
    number = f"{draft.plan.region_kato}-D{i + 1:06d}"
    form = "solitary" if sp.life_form == "tree" or chance > 0.3 else "group"
    return (
        draft.region_id,
        space_id,
        number,
        sp.id,
        form,
        ewkb,
        1,
        year,
        round(height, 1),
        round(trunk, 1),
        round(crown, 1),
        grade,
        hazardous,
        status,
        address,
        "",
        batch_id,
    )


def _street_places(draft: CityDraft, space_ids: list[int], count: int) -> Iterator[tuple]:
    """At most ``count`` places along the streets, both sides, shared by length. A street too
    short for its share gets none: a floor of two a side gave a city more street trees than a
    small ``--scale`` asked for, and its parks a negative number."""
    street_spaces = space_ids[len(space_ids) - len(draft.streets) :]
    total_length = sum(line.length for _, line in draft.streets) or 1
    for (name, line), space_id in zip(draft.streets, street_spaces, strict=True):
        n = int(count * line.length / total_length / 2)
        if n == 0:
            continue
        step = line.length / n
        for side in (-7.0, 7.0):
            offset = line.offset_curve(side)
            for k in range(n):
                point = offset.interpolate(k * step + step / 2)
                yield point, space_id, f"{name}, {int(k * step // 20) * 2 + (1 if side > 0 else 2)}"


def _park_places(
    draft: CityDraft, space_ids: list[int], count: int, rng: np.random.Generator
) -> Iterator[tuple]:
    parks = [
        (s[3], sid) for s, sid in zip(draft.spaces, space_ids, strict=True) if s[1] != "street"
    ]
    areas = np.array([shape.area for shape, _ in parks])
    shares = np.floor(count * areas / areas.sum()).astype(int)
    for (shape, space_id), n in zip(parks, shares, strict=True):
        x0, y0, x1, y1 = shape.bounds
        points = shapely.points(rng.uniform(x0, x1, n * 3), rng.uniform(y0, y1, n * 3))
        inside = points[shapely.contains(shape, points)][:n]
        for point in inside:
            yield point, space_id, ""


COPY_PLANTS = (
    "COPY plants (region_id, green_space_id, inventory_number, species_id, planting_form, geom, "
    "quantity, planting_year, height_m, trunk_diameter_cm, crown_diameter_m, condition, "
    "hazardous, status, address, notes, import_batch_id) FROM STDIN"
)


def _copy_plants(
    session: Session, rows: Iterator[tuple], plan: CityPlan, progress: Progress | None
) -> int:
    raw = session.connection().connection.driver_connection
    count = 0
    with raw.cursor() as cursor, cursor.copy(COPY_PLANTS) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
            if progress and count % 5000 == 0:
                progress(plan.region_kato, count, plan.plants)
    if progress:
        progress(plan.region_kato, count, count)
    return count


def _add_inspections(session: Session, batch_id: int) -> None:
    """Give one plant in ten an inspection history: a past condition, one grade better."""
    session.execute(
        text(
            """
        INSERT INTO inspections (plant_id, inspected_on, inspector, condition, hazardous, notes)
        SELECT id, make_date(GREATEST(planting_year, extract(year FROM now())::int - 3), 5, 15),
               'Инвентаризация 2022', GREATEST(condition - 1, 1), false, ''
        FROM plants WHERE import_batch_id = :batch AND id % 10 = 0
        UNION ALL
        SELECT id, make_date(extract(year FROM now())::int - 1, 9, 20),
               'Инвентаризация ' || (extract(year FROM now())::int - 1), condition, hazardous, ''
        FROM plants WHERE import_batch_id = :batch AND id % 10 = 0
        """
        ),
        {"batch": batch_id},
    )
