"""The map's search takes ``%`` and ``_`` as typed, and a miss is answered from the trigram
indexes (revision 0021: addresses) and the B-tree of lowered inventory numbers (0034) instead
of a scan of every plant."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from registry.db import unit_of_work
from registry.inventory.models import Plant
from registry.inventory.queries import escape_like, plants_matching
from tests.factories import make_plant
from web import create_app


@pytest.fixture
def site(clean):
    with unit_of_work(clean) as session:
        for number, address in enumerate(("Абая 50%", "Абая 505", "Кенесары A_1")):
            make_plant(session, inventory_number=f"N_{number}", address=address)
        make_plant(session, inventory_number="NX1", address="Кенесары AB1")
        make_plant(session, inventory_number="Ақ-7", address="")
    return create_app({"TESTING": True}), clean


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("50%", ["Абая 50%"]),
        ("A_1", ["Кенесары A_1"]),
        ("N_", ["N_0", "N_1", "N_2"]),
        ("n_", ["N_0", "N_1", "N_2"]),  # a number's start in any case
        ("аҚ-", ["Ақ-7"]),
        ("_%", []),
    ],
)
def test_search_takes_percent_and_underscore_literally(site, typed, found) -> None:
    app, _ = site
    items = app.test_client().get("/api/v1/search", query_string={"q": typed}).get_json()["items"]
    labels = [item["label"] for item in items]
    assert len(labels) == len(found) and all(
        any(want in label for label in labels) for want in found
    ), labels


def test_a_search_miss_reads_the_indexes(site) -> None:
    """The plan of the search's own condition for a miss: the trigrams of the addresses there
    are and the numbers' B-tree, not a scan of every plant (forced on a small table by turning
    sequential scans off, as the planner chooses at a million plants)."""
    _, url = site
    query = select(Plant.id).where(plants_matching(escape_like("ZZqx")))
    miss = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with unit_of_work(url) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(session.execute(text(f"EXPLAIN {miss}")).scalars())
    assert "ix_plants_address_trgm" in plan and "ix_plants_inventory_number_lower" in plan, plan


def test_the_address_index_holds_only_plants_with_an_address(site) -> None:
    """Revision 0036: a GIN index keeps a placeholder entry for a value without trigrams; the
    index of addresses is partial, so a plant without one costs it nothing."""
    _, url = site
    with unit_of_work(url) as session:
        defined = session.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_plants_address_trgm'")
        )
    assert defined.endswith("WHERE (address <> ''::text)"), defined
