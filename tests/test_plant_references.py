"""The plants' references to regions, species, import batches and users (revision 0018): checked
per statement by triggers instead of per row by foreign keys, with the same guarantees."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.species.services import get_species
from tests.factories import make_plant
from tests.locks import waiting_on

# A species of the catalogue's shape that nothing else refers to (seedlings, plans...).
NEW_SPECIES = """
INSERT INTO species (code, latin, name_ru, name_kk, name_en, rank, genus, life_form, leaf_type,
                     max_height_m, max_trunk_diameter_cm, zones, aliases)
SELECT 'testus-' || nextval('species_id_seq'), 'Testus deletabilis', 'Тестовое', 'Сынақ', 'Test',
       rank, genus, life_form, leaf_type, max_height_m, max_trunk_diameter_cm, zones, '{}'
FROM species WHERE latin = 'Ulmus pumila' RETURNING id
"""
PLANT_OF = """
INSERT INTO plants (region_id, inventory_number, species_id, planting_form, geom, quantity,
                    condition, status, address, notes)
VALUES ((SELECT id FROM regions WHERE iso_code = 'KZ-71'), %s, %s, 'solitary',
        ST_SetSRID(ST_MakePoint(71.43, 51.13), 4326), 1, 2, 'alive', '', '')
"""


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _plants(session: Session) -> int:
    return session.scalar(text("SELECT count(*) FROM plants"))


def test_a_plant_of_an_unknown_species_is_refused_by_name(db: Session) -> None:
    before = _plants(db)  # the services name it first; the database refuses it whoever writes
    with pytest.raises(IntegrityError) as refused, db.begin_nested():
        db.execute(
            text(PLANT_OF.replace("%s", ":number", 1).replace("%s", ":species")),
            {"number": "X-1", "species": 987654},
        )
    cause = refused.value.orig
    assert isinstance(cause, errors.ForeignKeyViolation)
    assert cause.diag.constraint_name == "fk_plants_species_id_species"
    assert "Key (species_id)=(987654) is not present" in str(cause)
    assert _plants(db) == before


def test_a_bulk_insert_with_one_bad_reference_writes_nothing(db: Session) -> None:
    before = _plants(db)
    species = get_species(db, "Ulmus pumila").id
    with pytest.raises(IntegrityError, match="fk_plants_species_id_species"), db.begin_nested():
        db.execute(
            text(
                "INSERT INTO plants (region_id, inventory_number, species_id, planting_form,"
                " geom, quantity, condition, status, address, notes) "
                "SELECT r.id, 'B-' || g, CASE WHEN g = 500 THEN 987654 ELSE :species END,"
                " 'solitary', ST_SetSRID(ST_MakePoint(71.43, 51.13), 4326), 1, 2, 'alive',"
                " '', '' FROM generate_series(1, 1000) g, regions r WHERE r.iso_code = 'KZ-71'"
            ),
            {"species": species},
        )
    assert _plants(db) == before


def test_an_edit_to_a_missing_user_or_batch_is_refused(db: Session) -> None:
    plant = make_plant(db)
    for column, constraint in (
        ("updated_by", "fk_plants_updated_by_users"),
        ("import_batch_id", "fk_plants_import_batch_id_import_batches"),
    ):
        with pytest.raises(IntegrityError, match=constraint), db.begin_nested():
            db.execute(
                text(f"UPDATE plants SET {column} = 424242 WHERE id = :id"),  # noqa: S608
                {"id": plant.id},
            )
    # Empty references need no parent, as with a foreign key.
    db.execute(
        text("UPDATE plants SET updated_by = NULL, import_batch_id = NULL WHERE id = :id"),
        {"id": plant.id},
    )


def test_a_parent_still_referred_to_cannot_go(db: Session) -> None:
    species = db.scalar(text(NEW_SPECIES))
    plant = make_plant(db, species_id=species)
    with pytest.raises(IntegrityError) as refused, db.begin_nested():
        db.execute(text("DELETE FROM species WHERE id = :id"), {"id": species})
    assert refused.value.orig.diag.constraint_name == "fk_plants_species_id_species"
    assert f"Key (id)=({species}) is still referenced" in str(refused.value.orig)
    with pytest.raises(IntegrityError, match="fk_plants_species_id_species"), db.begin_nested():
        db.execute(text("UPDATE species SET id = id + 100000 WHERE id = :id"), {"id": species})
    # Once no plant refers to it, the species may go.
    db.execute(text("DELETE FROM plants WHERE id = :id"), {"id": plant.id})
    db.execute(text("DELETE FROM species WHERE id = :id"), {"id": species})
    assert db.scalar(text("SELECT count(*) FROM species WHERE id = :id"), {"id": species}) == 0


@pytest.fixture
def committed_species(clean: str) -> Iterator[int]:
    """A species committed for a race, taken out again with its plants whatever the race left
    (``clean`` empties the plants, not the catalogue)."""
    with psycopg.connect(_dsn(clean), autocommit=True) as conn:
        species = conn.execute(NEW_SPECIES).fetchone()[0]
    yield species
    with psycopg.connect(_dsn(clean), autocommit=True) as conn:
        conn.execute("DELETE FROM plants WHERE species_id = %s", (species,))
        conn.execute("DELETE FROM species WHERE id = %s", (species,))


def _second_waits_then_is_refused(url: str, first: tuple, second: tuple) -> None:
    """``first`` runs and holds its transaction open; ``second``, on another connection, must
    wait for it, then fail on the reference once ``first`` commits."""
    outcome: list = []

    def run_second() -> None:
        try:
            with psycopg.connect(_dsn(url)) as conn:
                conn.execute(*second)
                conn.commit()
            outcome.append("committed")
        except psycopg.Error as exc:
            outcome.append(exc)

    with psycopg.connect(_dsn(url)) as holding:
        holding.execute(*first)
        thread = threading.Thread(target=run_second)
        thread.start()
        waiting = waiting_on(url, holding.info.backend_pid)
        assert waiting is not None, "the second writer should wait on the first one's lock"
        statement = second[0].split("%s")[0].strip()  # the server shows $1 for %s
        assert waiting.query.strip().startswith(statement) and thread.is_alive()
        holding.commit()
        thread.join(10)
    assert isinstance(outcome[0], errors.ForeignKeyViolation)


def _plants_of(url: str, species: int) -> int:
    with psycopg.connect(_dsn(url)) as conn:
        query = "SELECT count(*) FROM plants WHERE species_id = %s"
        return conn.execute(query, (species,)).fetchone()[0]


def test_a_plant_written_while_its_species_is_deleted_waits_and_is_refused(
    clean: str, committed_species: int
) -> None:
    species = committed_species
    delete = ("DELETE FROM species WHERE id = %s", (species,))
    _second_waits_then_is_refused(clean, delete, (PLANT_OF, ("RACE-1", species)))
    assert _plants_of(clean, species) == 0


def test_a_species_deleted_while_a_plant_of_it_is_written_waits_and_is_refused(
    clean: str, committed_species: int
) -> None:
    species = committed_species
    delete = ("DELETE FROM species WHERE id = %s", (species,))
    _second_waits_then_is_refused(clean, (PLANT_OF, ("RACE-2", species)), delete)
    assert _plants_of(clean, species) == 1
