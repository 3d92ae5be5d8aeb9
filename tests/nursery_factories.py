"""Builders for nursery tests, going through the real services."""

from __future__ import annotations

import itertools
from datetime import date

from shapely.geometry import Point
from sqlalchemy.orm import Session

from registry.access import Actor
from registry.accounts.services import actor_for
from registry.nursery.models import Batch, Nursery
from registry.nursery.services import add_section, create_nursery, set_stage, sow
from tests.factories import make_user, square

KONAEV = (77.07, 43.87)  # Almaty Region: desert, foothill, mountain
_counter = itertools.count(1)
SYSTEM = Actor.system("test")


def make_nursery(session: Session, centre: tuple[float, float] = KONAEV) -> Nursery:
    n = next(_counter)
    nursery = create_nursery(
        session,
        SYSTEM,
        f"TST-{n}",
        f"Питомник «Тест-{n}»",
        "РГКП «Тест»",
        Point(*centre),
        square(centre, 0.005),
    )
    add_section(session, SYSTEM, nursery, "Посевное отделение", "sowing", 500_000)
    add_section(session, SYSTEM, nursery, "Школьное отделение", "school", 100_000)
    add_section(session, SYSTEM, nursery, "Теплица ЗКС", "closed_root", 1_000_000)
    return nursery


def nursery_staff(session: Session, nursery: Nursery) -> Actor:
    user = make_user(session, "nursery", None)
    user.nursery_id = nursery.id
    session.flush()
    return actor_for(user)


def ready_batch(
    session: Session,
    nursery: Nursery,
    quantity: int = 100,
    species: str = "Ulmus pumila",
    on: date = date(2024, 4, 20),
) -> Batch:
    batch = sow(
        session,
        SYSTEM,
        nursery,
        section="school",
        quantity=quantity,
        on=on,
        species=species,
        supplier="ТОО «Саженцы-Юг»",
        age_years=1,
    )
    return set_stage(session, SYSTEM, batch.id, "ready", grade=1, standard="ГОСТ 24835-81")
