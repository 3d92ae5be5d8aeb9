"""Demo nurseries: the six announced forest-seed complexes in five regions, with a stock history.

Everything goes through the nursery services (seed lots, sowing, germination counts, losses,
transplants, grading, dispatch, receipt), so the demo ledger obeys the same rules as real work.
Seeded and dated, so two loads give the same figures; a second call adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from shapely.geometry import Point, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.accounts.services import add_user, find_user
from registry.demo.users import DEMO_PASSWORD
from registry.nursery import services, shipping
from registry.nursery.models import Nursery, RootSystem

SEED = 20260207
ACTOR = Actor.system("demo")


@dataclass(frozen=True)
class Crop:
    """One species grown by a demo nursery, sown every spring of the demo years."""

    species: str
    seed_zone: str
    collected_at: str
    sown_per_year: int  # pieces
    seed_kg_per_year: float
    root: RootSystem = RootSystem.OPEN
    ship_to: str = ""  # region the ready stock goes to


@dataclass(frozen=True)
class DemoNursery:
    code: str
    name: str
    operator: str
    lon: float
    lat: float
    site_km: float
    sections: tuple[tuple[str, str, int], ...]
    crops: tuple[Crop, ...]
    staff_email: str = ""


CLOSED = RootSystem.CLOSED
NURSERIES = (
    DemoNursery(
        "KST-AULIEKOL",
        "Аулиекольский лесосеменной комплекс (ЗКС)",
        "КГУ «Аулиекольское учреждение по охране лесов и животного мира»",
        64.10,
        52.37,
        0.9,
        (
            ("Посевное отделение", "sowing", 1_500_000),
            ("Школьное отделение", "school", 250_000),
            ("Тепличный комплекс ЗКС", "closed_root", 3_000_000),
            ("Маточная плантация", "mother", 0),
        ),
        (
            Crop(
                "Pinus sylvestris",
                "Наурзумский бор",
                "Наурзумское лесничество",
                900_000,
                9,
                CLOSED,
                "KZ-39",
            ),
            Crop(
                "Betula pendula",
                "Аманкарагайский бор",
                "Аманкарагайское лесничество",
                300_000,
                4,
                ship_to="KZ-39",
            ),
            Crop(
                "Tilia cordata",
                "Костанайская лесостепь",
                "дендропарк г. Костанай",
                40_000,
                12,
                ship_to="KZ-11",
            ),
        ),
        "nursery.kostanay@demo.jasyl.kz",
    ),
    DemoNursery(
        "ALM-KONAEV",
        "Питомник закрытой корневой системы «Конаев»",
        "ТОО «Жасыл Конаев» по заказу акимата Алматинской области",
        77.07,
        43.87,
        0.15,
        (
            ("Посевное отделение", "sowing", 2_000_000),
            ("Школьное отделение", "school", 400_000),
            ("Тепличный комплекс ЗКС", "closed_root", 6_000_000),
        ),
        (
            Crop("Ulmus pumila", "Илийская долина", "пойма р. Или", 1_200_000, 6, ship_to="KZ-75"),
            Crop(
                "Picea schrenkiana",
                "Заилийский Алатау",
                "Медеуское лесничество",
                400_000,
                5,
                CLOSED,
                "KZ-75",
            ),
            Crop(
                "Fraxinus sogdiana",
                "Чарынская ясеневая роща",
                "ГНПП «Шарын»",
                150_000,
                20,
                ship_to="KZ-19",
            ),
            Crop(
                "Malus sieversii",
                "Заилийский Алатау",
                "Талгарское лесничество",
                60_000,
                3,
                ship_to="KZ-19",
            ),
        ),
        "nursery.konaev@demo.jasyl.kz",
    ),
    DemoNursery(
        "KZO-ARAL",
        "Аральский питомник саксаула (осушенное дно Арала)",
        "КГУ «Аральское учреждение по охране лесов и животного мира»",
        61.67,
        46.80,
        0.25,
        (
            ("Посевное отделение", "sowing", 1_500_000),
            ("Тепличный комплекс ЗКС", "closed_root", 1_500_000),
        ),
        (
            Crop(
                "Haloxylon ammodendron",
                "Приаралье",
                "массив Кызылкум, Аральский р-н",
                1_000_000,
                25,
                CLOSED,
                "KZ-43",
            ),
            Crop(
                "Tamarix ramosissima", "Приаралье", "дельта Сырдарьи", 200_000, 2, ship_to="KZ-43"
            ),
        ),
    ),
    DemoNursery(
        "KZO-KAZALY",
        "Казалинский лесной питомник",
        "КГУ «Казалинское учреждение по охране лесов и животного мира»",
        62.10,
        45.76,
        0.2,
        (
            ("Посевное отделение", "sowing", 800_000),
            ("Школьное отделение", "school", 120_000),
        ),
        (
            Crop(
                "Haloxylon ammodendron",
                "Приаралье",
                "Казалинский р-н",
                500_000,
                14,
                ship_to="KZ-43",
            ),
            Crop(
                "Elaeagnus angustifolia",
                "Нижняя Сырдарья",
                "Казалинский р-н",
                120_000,
                30,
                ship_to="KZ-43",
            ),
            Crop(
                "Populus diversifolia",
                "Нижняя Сырдарья",
                "тугаи р. Сырдарьи",
                60_000,
                1,
                ship_to="KZ-43",
            ),
        ),
    ),
    DemoNursery(
        "KRG-NOVODOLINSKY",
        "Новодолинский лесной питомник",
        "КГУ «Карагандинское учреждение по охране лесов и животного мира»",
        72.70,
        49.71,
        0.6,
        (
            ("Посевное отделение", "sowing", 1_000_000),
            ("Школьное отделение", "school", 300_000),
            ("Маточная плантация", "mother", 0),
        ),
        (
            Crop(
                "Ulmus pumila",
                "Центральный Казахстан",
                "г. Караганда, Ботанический сад",
                500_000,
                3,
                ship_to="KZ-35",
            ),
            Crop(
                "Acer negundo", "Центральный Казахстан", "г. Караганда", 250_000, 8, ship_to="KZ-71"
            ),
            Crop(
                "Pinus sylvestris",
                "Каркаралинский бор",
                "Каркаралинский ГНПП",
                300_000,
                3,
                ship_to="KZ-35",
            ),
            Crop(
                "Crataegus sanguinea",
                "Центральный Казахстан",
                "Каркаралинский ГНПП",
                80_000,
                6,
                ship_to="KZ-71",
            ),
        ),
    ),
    DemoNursery(
        "ABY-SEMEY",
        "Лесной селекционно-семеноводческий центр «Семей орманы» (ЗКС)",
        "РГУ ГЛПР «Семей орманы»",
        80.25,
        50.45,
        1.2,
        (
            ("Посевное отделение", "sowing", 3_000_000),
            ("Школьное отделение", "school", 200_000),
            ("Тепличный комплекс ЗКС", "closed_root", 8_000_000),
            ("Маточная плантация", "mother", 0),
        ),
        (
            Crop(
                "Pinus sylvestris",
                "Ленточные боры Прииртышья",
                "Бородулихинское лесничество",
                2_500_000,
                22,
                CLOSED,
                "KZ-10",
            ),
            Crop(
                "Larix sibirica",
                "Западный Алтай",
                "Риддерское лесничество",
                200_000,
                4,
                ship_to="KZ-71",
            ),
            Crop("Betula pendula", "Прииртышье", "Semey Ormany", 250_000, 3, ship_to="KZ-10"),
        ),
    ),
)
YEARS = (2024, 2025, 2026)


def load_nursery_demo(session: Session) -> int:
    """Add the demo nurseries that are missing (with their whole history); returns how many."""
    existing = set(session.scalars(select(Nursery.code)))
    rng = random.Random(SEED)
    added = 0
    for plan in NURSERIES:
        if plan.code in existing:
            continue
        nursery = _nursery(session, plan)
        for n, crop in enumerate(plan.crops, start=1):
            _grow(session, nursery, plan, crop, n, rng)
        added += 1
    return added


def _nursery(session: Session, plan: DemoNursery) -> Nursery:
    half = plan.site_km / 111 / 2
    site = box(plan.lon - half * 1.5, plan.lat - half, plan.lon + half * 1.5, plan.lat + half)
    nursery = services.create_nursery(
        session, ACTOR, plan.code, plan.name, plan.operator, Point(plan.lon, plan.lat), site
    )
    for name, kind, capacity in plan.sections:
        services.add_section(session, ACTOR, nursery, name, kind, capacity)
    if plan.staff_email and find_user(session, plan.staff_email) is None:
        add_user(
            session, ACTOR, plan.staff_email, "nursery", None, DEMO_PASSWORD, nursery_id=nursery.id
        )
    return nursery


def _grow(
    session: Session, nursery: Nursery, plan: DemoNursery, crop: Crop, n: int, rng: random.Random
) -> None:
    """Three springs of sowing; older crops are counted, thinned, schooled, graded and shipped."""
    closed = crop.root is RootSystem.CLOSED
    has_school = any(kind == "school" for _, kind, _ in plan.sections)
    for year in YEARS:
        lot = services.register_seed_lot(
            session,
            ACTOR,
            nursery,
            code=f"{year - 1}-{n:02d}",
            species=crop.species,
            collection_place=crop.collected_at,
            seed_zone=crop.seed_zone,
            collection_year=year - 1,
            weight_kg=round(crop.seed_kg_per_year * rng.uniform(1.05, 1.4), 2),
            germination_pct=round(rng.uniform(62, 93), 1),
            certificate_no=f"KZ-{plan.code[:3]}-{year - 1}-{rng.randint(100, 999)}",
            storage="семенной склад, камера " + str(rng.randint(1, 4)),
            received_on=date(year - 1, 11, rng.randint(1, 28)),
        )
        sown = int(crop.sown_per_year * rng.uniform(0.85, 1.1))
        batch = services.sow(
            session,
            ACTOR,
            nursery,
            section="closed_root" if closed else "sowing",
            quantity=sown,
            on=date(year, 4, rng.randint(10, 28)),
            seed_lot_id=lot.id,
            seed_weight_kg=round(crop.seed_kg_per_year * rng.uniform(0.8, 1.0), 2),
            root_system=crop.root,
        )
        germinated = int(sown * float(lot.germination_pct) / 100 * rng.uniform(0.9, 1.0))
        services.count_batch(
            session,
            ACTOR,
            batch.id,
            germinated,
            date(year, 6, rng.randint(1, 20)),
            germination=True,
        )
        if year == 2026 and date.today() < date(2026, 9, 1):
            continue
        cause = rng.choice(["drought", "frost", "pests", "culling"])
        services.record_loss(
            session,
            ACTOR,
            batch.id,
            int(germinated * rng.uniform(0.03, 0.12)),
            cause,
            date(year, 8 if cause == "drought" else 9, rng.randint(1, 28)),
            "осмотр отделения",
        )
        if year == 2026:
            continue
        if closed or not has_school:
            _ready(session, nursery, batch.id, crop, year, rng)
            continue
        school = services.transplant(
            session,
            ACTOR,
            batch.id,
            int(batch.quantity * rng.uniform(0.25, 0.4)),
            "school",
            date(year + 1, 4, rng.randint(10, 28)),
        )
        services.count_batch(
            session,
            ACTOR,
            batch.id,
            int(batch.quantity * rng.uniform(0.95, 0.99)),
            date(year + 1, 10, 15),
            "осенняя инвентаризация",
        )
        if year == 2024:
            _ready(session, nursery, school.id, crop, year, rng)


def _ready(
    session: Session, nursery: Nursery, batch_id: int, crop: Crop, year: int, rng: random.Random
) -> None:
    """Grade the stock in its second autumn, ship part of it in October and confirm receipt."""
    services.set_stage(
        session, ACTOR, batch_id, "ready", grade=rng.choice([1, 1, 2]), standard="ГОСТ 3317-90"
    )
    autumn = date(year + 1, 10, rng.randint(1, 20))
    if autumn > date.today() or not crop.ship_to:
        return
    batch = services.get_batch(session, batch_id)
    shipped = int(batch.quantity * rng.uniform(0.3, 0.6))
    shipment = shipping.dispatch(
        session, ACTOR, nursery, crop.ship_to, [(batch.id, shipped)], autumn
    )
    arrived = shipped - int(shipped * rng.uniform(0.0, 0.02))
    shipping.receive(session, ACTOR, shipment.id, {batch.id: arrived}, date(year + 1, 10, 25))
