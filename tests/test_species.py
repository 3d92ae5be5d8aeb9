"""The species catalogue and how names written by hand find their species."""

from __future__ import annotations

import pytest

from registry.errors import NotFound
from registry.species.catalogue import catalogue_rows
from registry.species.services import SpeciesIndex, get_species, list_species

KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
REQUIRED_GENERA = {
    "Ulmus",
    "Betula",
    "Populus",
    "Pinus",
    "Picea",
    "Larix",
    "Fraxinus",
    "Acer",
    "Tilia",
    "Quercus",
    "Salix",
    "Haloxylon",
    "Tamarix",
    "Elaeagnus",
    "Syringa",
    "Lonicera",
    "Juniperus",
}


def test_catalogue_is_complete_and_trilingual(db) -> None:
    species = list_species(db)
    assert len([s for s in species if s.rank == "species"]) >= 60
    assert {s.genus for s in species} >= REQUIRED_GENERA
    for s in species:
        assert s.latin and s.name_ru and s.name_kk and s.name_en, s.code
        assert s.life_form in {"tree", "shrub"} and s.leaf_type in {"broadleaf", "conifer"}
        assert 0 < s.max_height_m <= 60 and 0 < s.max_trunk_diameter_cm <= 400
    assert sum(any(ch in KAZAKH_LETTERS for ch in s.name_kk) for s in species) > len(species) / 2


def test_the_database_holds_the_shipped_file_with_cyrillic_intact(db) -> None:
    rows = {r["code"]: r for r in catalogue_rows()}
    stored = {s.code: s for s in list_species(db)}
    assert set(rows) == set(stored)
    elm = stored["ulmus_pumila"]
    assert elm.name_kk == rows["ulmus_pumila"]["name_kk"] and "қ" in elm.name_kk


@pytest.mark.parametrize(
    "written, latin",
    [
        ("Ulmus pumila", "Ulmus pumila"),
        ("ВЯЗ ПРИЗЕМИСТЫЙ", "Ulmus pumila"),
        ("карагач", "Ulmus pumila"),
        ("берёза повислая", "Betula pendula"),
        ("береза повислая", "Betula pendula"),
        ("Сосна обыкновенная", "Pinus sylvestris"),
        ("тополь", "Populus sp."),
        ("клен ясенелист.", "Acer negundo"),
        ("сексеуіл", "Haloxylon sp."),
    ],
)
def test_names_as_foresters_write_them_find_the_species(db, written, latin) -> None:
    index = SpeciesIndex.load(db)
    match = index.match(written)
    assert match is not None and match.species.latin == latin


def test_a_near_spelling_is_not_taken_for_a_species(db) -> None:
    """ "повислоя" is probably "повислая", but only a person may say so (issue #17)."""
    assert SpeciesIndex.load(db).match("береза повислоя") is None
    with pytest.raises(NotFound, match="did you mean: берёза повислая"):
        get_species(db, "береза повислоя")


def test_an_unknown_name_suggests_the_nearest_species(db) -> None:
    with pytest.raises(NotFound) as caught:
        SpeciesIndex.load(db).require("бериза")
    assert "unknown species 'бериза'" in str(caught.value)
    assert "did you mean" in str(caught.value) and "Betula" in str(caught.value)


def test_search_finds_by_any_language(db) -> None:
    assert {s.latin for s in list_species(db, "қарағай")} >= {"Pinus sylvestris"}
    assert get_species(db, "ulmus_pumila").latin == "Ulmus pumila"
