"""``jasyl species add``: a species the catalogue lacks is added by those allowed, audited,
instead of being forced onto a neighbour (issue #17)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import geopandas
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from registry.access import Actor
from registry.accounts.models import Role
from registry.audit.models import AuditEntry
from registry.db import unit_of_work
from registry.errors import AccessDenied
from registry.species.models import Species
from registry.species.services import NewSpecies, SpeciesIndex, add_species
from tests.conftest import empty_inventory
from tests.test_species_proposals import survey
from web.cli import main

HORNBEAM = [
    "--latin",
    "Carpinus betulus",
    "--ru",
    "граб обыкновенный",
    "--kk",
    "кәдімгі граб",
    "--en",
    "European hornbeam",
    "--life-form",
    "tree",
    "--leaf-type",
    "broadleaf",
    "--max-height",
    "25",
    "--max-trunk-diameter",
    "80",
    "--zone",
    "foothill",
    "--alias",
    "граб",
]


@pytest.fixture
def jasyl(clean):
    """The CLI; species added by a test are taken out of the catalogue afterwards."""
    with unit_of_work() as session:
        before = set(session.scalars(select(Species.code)))
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, [str(a) for a in args])
    empty_inventory(clean)  # plants of the added species first
    with unit_of_work() as session:
        session.execute(
            text("DELETE FROM species WHERE NOT code = ANY(:before)"), {"before": list(before)}
        )


def species(code: str) -> Species | None:
    with unit_of_work() as session:
        found = session.scalar(select(Species).where(Species.code == code))
        if found is not None:
            session.expunge(found)
        return found


def test_an_added_species_is_imported_as_itself(jasyl, tmp_path: Path) -> None:
    path = survey(tmp_path, ["Carpinus betulus L.", "граб"])
    assert jasyl("import", path, "--region", "KZ-71").exit_code == 3  # a proposal: stopped

    added = jasyl("species", "add", *HORNBEAM)
    assert added.exit_code == 0, added.output
    assert "added carpinus_betulus: Carpinus betulus (граб обыкновенный, кәдімгі граб)" in (
        added.output
    )
    hornbeam = species("carpinus_betulus")
    assert (hornbeam.rank, hornbeam.genus, hornbeam.zones, hornbeam.aliases) == (
        "species",
        "Carpinus",
        ["foothill"],
        ["граб"],
    )
    assert (hornbeam.max_height_m, hornbeam.max_trunk_diameter_cm) == (Decimal(25), Decimal(80))

    done = jasyl("import", path, "--region", "KZ-71", "--json")
    assert done.exit_code == 0, done.output
    with unit_of_work() as session:
        codes = session.scalars(
            text("SELECT s.code FROM plants p JOIN species s ON s.id = p.species_id")
        ).all()
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "species", AuditEntry.action == "create")
        ).all()
    assert codes == ["carpinus_betulus", "carpinus_betulus"]
    assert [(a.entity_id, a.actor, a.new_value["latin"]) for a in audit] == [
        (hornbeam.id, "cli", "Carpinus betulus")
    ]


def test_its_size_limits_check_its_plants(jasyl, tmp_path: Path) -> None:
    assert jasyl("species", "add", *HORNBEAM).exit_code == 0
    path = survey(tmp_path, ["Carpinus betulus"])  # 6.5 m: fine
    tall = path.with_name("tall.gpkg")
    frame = geopandas.read_file(path)
    frame["HEIGHT_M"] = [31.0]
    frame.to_file(tall, driver="GPKG")
    result = jasyl("import", tall, "--region", "KZ-71", "--json")
    assert result.exit_code == 3
    [problem] = json.loads(result.output)["problems"]
    assert "exceeds the plausible maximum of 25.0 for граб обыкновенный" in problem["message"]


def test_a_hybrid_is_found_by_every_way_of_writing_its_sign(jasyl) -> None:
    args = [a if a != "Carpinus betulus" else "Platanus x acerifolia" for a in HORNBEAM]
    args = [a if a != "граб обыкновенный" else "платан кленолистный" for a in args]
    args = [a if a != "граб" else "платан гибридный" for a in args]
    result = jasyl("species", "add", *args)
    assert result.exit_code == 0, result.output
    plane = species("platanus_x_acerifolia")
    assert plane.latin == "Platanus × acerifolia" and plane.genus == "Platanus"
    with unit_of_work() as session:
        index = SpeciesIndex.load(session)
        for written in ("Platanus ×acerifolia (Aiton) Willd.", "PLATANUS X ACERIFOLIA"):
            assert index.match(written).species.code == "platanus_x_acerifolia", written


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Carpinus betulus", "carpinus"), "latin: must be a Latin name"),
        (("граб обыкновенный", "Вяз приземистый"), "already names вяз приземистый (Ulmus pumila"),
        (("граб", "карагач"), "alias: 'карагач' already names вяз приземистый"),
        (("25", "0"), "max_height_m: must be above 0 and at most 60"),
        (("80", "500"), "max_trunk_diameter_cm: must be above 0 and at most 400"),
        (("European hornbeam", " "), "name_en: is required"),
    ],
)
def test_bad_input_is_refused_and_nothing_added(jasyl, change, message) -> None:
    old, new = change
    result = jasyl("species", "add", *[new if a == old else a for a in HORNBEAM])
    assert result.exit_code == 1 and message in result.output, result.output
    assert species("carpinus_betulus") is None and species("carpinus") is None


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.MINISTRY, True), (Role.ADMIN, True), (Role.FORESTER, False), (Role.PLANNER, False)],
)
def test_who_may_add_species(jasyl, role: Role, allowed: bool) -> None:
    actor = Actor(label=f"a {role}", role=role, region_id=71 if role is Role.FORESTER else None)
    new = NewSpecies(
        "Carpinus betulus",
        "граб",
        "граб",
        "hornbeam",
        "tree",
        "broadleaf",
        Decimal(25),
        Decimal(80),
    )
    with unit_of_work() as session:
        if allowed:
            assert add_species(session, actor, new).code == "carpinus_betulus"
        else:
            with pytest.raises(AccessDenied, match="may not add species to the catalogue"):
                add_species(session, actor, new)
    assert (species("carpinus_betulus") is not None) is allowed
    if not allowed:
        with unit_of_work() as session:
            denied = session.scalars(
                select(AuditEntry.actor).where(
                    AuditEntry.action == "denied", AuditEntry.entity == "species"
                )
            ).all()
        assert denied == [f"a {role}"]
