"""The words surveys use for condition, planting form and status, mapped to the registry's values.

Numbers and Roman numerals go through ``registry.inventory.rules`` (one scale, one message);
words, Russian, Kazakh and English, are found in any grammatical form or abbreviation by
``importers.lemmas.Vocabulary`` (усыхающее, усыхающие, усыхающий are all grade IV). A word
found nowhere is refused with the accepted words listed; a mapping's ``[values.<field>]``
translates a survey's own words before these tables are consulted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from importers.lemmas import Vocabulary
from registry.errors import InvalidValue
from registry.inventory import rules
from registry.inventory.models import CONDITION_GRADES, PlantingForm, PlantStatus
from registry.text import fold

# word -> (grade, hazardous)
CONDITION_WORDS: dict[str, tuple[int, bool]] = {
    "хорошее": (1, False),
    "хор": (1, False),
    "здоровое": (1, False),
    "отличное": (1, False),
    "удовлетворительное": (2, False),
    "удовл": (2, False),
    "уд": (2, False),
    "неудовлетворительное": (3, False),
    "неудовл": (3, False),
    "неуд": (3, False),
    "плохое": (3, False),
    "аварийное": (4, True),
    "аварийн": (4, True),
    "сухостой": (5, False),
    "сухое": (5, False),
    "сухостойное": (5, False),
    "погибшее": (6, False),
    "жақсы": (1, False),
    "жаксы": (1, False),
    "қанағаттанарлық": (2, False),
    "канагаттанарлык": (2, False),
    "қанағаттанарлықсыз": (3, False),
    "канагаттанарлыксыз": (3, False),
    "апатты": (4, True),
    "қураған": (5, False),
    "кураган": (5, False),
    "good": (1, False),
    "healthy": (1, False),
    "fair": (2, False),
    "poor": (3, False),
    "dying": (4, False),
    "hazardous": (4, True),
    "dead": (5, False),
}
for _grade, _names in CONDITION_GRADES.items():
    for _name in _names:
        CONDITION_WORDS.setdefault(fold(_name), (_grade, False))
CONDITION_HINT = "хорошее, удовлетворительное, неудовлетворительное, аварийное, сухостой"
CONDITION_WORDS.update({"свежий сухостой": (5, False), "старый сухостой": (6, False)})

FORM_WORDS = {
    "солитер": PlantingForm.SOLITARY,
    "одиночное": PlantingForm.SOLITARY,
    "одиночная": PlantingForm.SOLITARY,
    "жеке": PlantingForm.SOLITARY,
    "рядовая": PlantingForm.ROW,
    "рядовое": PlantingForm.ROW,
    "ряд": PlantingForm.ROW,
    "аллея": PlantingForm.ROW,
    "қатар": PlantingForm.ROW,
    "группа": PlantingForm.GROUP,
    "групповая": PlantingForm.GROUP,
    "топ": PlantingForm.GROUP,
    "живая изгородь": PlantingForm.HEDGE,
    "изгородь": PlantingForm.HEDGE,
    "бордюр": PlantingForm.HEDGE,
    "тірі қоршау": PlantingForm.HEDGE,
    "массив": PlantingForm.MASSIF,
    "алқап": PlantingForm.MASSIF,
}
STATUS_WORDS = {
    "живое": PlantStatus.ALIVE,
    "растет": PlantStatus.ALIVE,
    "тірі": PlantStatus.ALIVE,
    "сухое": PlantStatus.DEAD,
    "погибшее": PlantStatus.DEAD,
    "қураған": PlantStatus.DEAD,
    "пень": PlantStatus.STUMP,
    "түбір": PlantStatus.STUMP,
    "удалено": PlantStatus.REMOVED,
    "вырублено": PlantStatus.REMOVED,
    "снесено": PlantStatus.REMOVED,
    "пустое место": PlantStatus.VACANT,
    "вакантное место": PlantStatus.VACANT,
    "бос орын": PlantStatus.VACANT,
    # Stumps, vacant sites, dead and removed trees, as akimat and foreign surveys write them.
    "посадочное место": PlantStatus.VACANT,
    "свободное место": PlantStatus.VACANT,
    "вакант": PlantStatus.VACANT,
    "отырғызу орны": PlantStatus.VACANT,
    "vacant site": PlantStatus.VACANT,
    "planting site": PlantStatus.VACANT,
    "empty site": PlantStatus.VACANT,
    "пни": PlantStatus.STUMP,
    "сухостой": PlantStatus.DEAD,
    "погибло": PlantStatus.DEAD,
    "погиб": PlantStatus.DEAD,
    "мертвое": PlantStatus.DEAD,
    "курап калган": PlantStatus.DEAD,
    "қурап қалған": PlantStatus.DEAD,
    "удален": PlantStatus.REMOVED,
    "спилено": PlantStatus.REMOVED,
    "кесілген": PlantStatus.REMOVED,
    "жойылған": PlantStatus.REMOVED,
    "растущее": PlantStatus.ALIVE,
}


CONDITIONS = Vocabulary(CONDITION_WORDS)
FORMS = Vocabulary({**FORM_WORDS, **{f.value: f for f in PlantingForm}})
STATUSES = Vocabulary(
    {**STATUS_WORDS, "пни": PlantStatus.STUMP, **{s.value: s for s in PlantStatus}}
)


def condition_of(value: Any) -> tuple[int, bool]:
    """A condition cell as (grade 1–6, hazardous): a grade, a Roman numeral or a word."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidValue("condition", "is empty; give a grade from I to VI or a word")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return rules.check_condition(value), False
    except InvalidValue:
        pass
    word = CONDITIONS.find(str(value)) if isinstance(value, str) else None
    if word:
        return word
    raise InvalidValue(
        "condition",
        "is not on the sanitary scale: use I–VI, 1–6 or a word in any form "
        f"({CONDITIONS.accepted()}), or translate it in the mapping's [values.condition]",
        value,
    )


def form_of(value: Any) -> str | None:
    """A planting-form cell as a ``PlantingForm`` value (checked against the geometry later)."""
    if value is None or str(value).strip() == "":
        return None
    found = FORMS.find(str(value))
    if found is None:
        raise InvalidValue(
            "planting_form",
            f"is not a planting form: use a word in any form ({FORMS.accepted()}), "
            "or translate it in the mapping's [values.planting_form]",
            value,
        )
    return found.value


def status_of(value: Any) -> PlantStatus:
    if value is None or str(value).strip() == "":
        return PlantStatus.ALIVE
    found = STATUSES.find(str(value))
    if found is None:
        raise InvalidValue(
            "status",
            f"is not a status: use a word in any form ({STATUSES.accepted()}), "
            "or translate it in the mapping's [values.status]",
            value,
        )
    return found


WORD_FIELDS = ("condition", "status", "planting_form")


def translated(field: str, cells: np.ndarray, table: dict[str, Any]) -> np.ndarray:
    """Cells through a mapping's ``[values.<field>]``: as written, and for the word fields
    (condition, status, planting form) also in any form ("MORTO", "morte" for ``Morto``);
    cells the table does not name pass unchanged to the built-in words. Worked out once per
    distinct cell, not per row."""
    table = {k: v for k, v in table.items() if not unconfirmed(v)}
    words = Vocabulary({str(k): v for k, v in table.items()}) if field in WORD_FIELDS else None
    codes, distinct = pd.factorize(pd.Series(cells, dtype=object), use_na_sentinel=False)
    out = np.full(len(distinct), _MISSING, dtype=object)
    for i, cell in enumerate(distinct):
        value = table.get(str(cell), _MISSING)
        if value is _MISSING and (key := _cell_text(cell)) is not None:
            value = table.get(key, _MISSING)  # 2.0 read from a DBF is the template's "2"
        if value is _MISSING and words is not None and isinstance(cell, str) and cell.strip():
            found = words.find(cell)
            value = _MISSING if found is None else found
        out[i] = value
    result = out[codes]
    untouched = np.array([v is _MISSING for v in out], dtype=bool)[codes]
    result[untouched] = np.asarray(cells, dtype=object)[untouched]  # None stays None
    return result


_MISSING = object()
DISTINCT_CAP = 200  # distinct words kept per column for a mapping template


def unconfirmed(meaning: Any) -> bool:
    """A ``[values.<field>]`` meaning of ``"?"`` confirms nothing: the word stays refused."""
    return isinstance(meaning, str) and meaning.strip() == "?"


class WordTally:
    """The distinct cells of a survey's word columns (condition, status, planting form) and
    how many rows wrote each, as the file wrote them: what a mapping template lists under
    ``[values.<field>]``. At most ``DISTINCT_CAP`` cells per column, so a free-text column
    taken for a word column costs no more than that."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, field: str, cells: pd.Series) -> None:
        counted = self.counts.setdefault(field, {})
        for value, rows in cells.value_counts(dropna=True).items():  # per distinct, not per row
            cell = _cell_text(value)
            if cell is not None and (cell in counted or len(counted) < DISTINCT_CAP):
                counted[cell] = counted.get(cell, 0) + int(rows)


def _cell_text(value: Any) -> str | None:
    """A cell as a mapping's key (``2.0`` read from a DBF is ``"2"``); empty cells: None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return text if text.strip() else None
