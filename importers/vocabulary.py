"""The words surveys use for condition, planting form and status, mapped to the registry's values.

Numbers and Roman numerals go through ``registry.inventory.rules`` (one scale, one message);
words are folded (case, ё/е, punctuation) and looked up here, Russian, Kazakh and English.
"""

from __future__ import annotations

from typing import Any

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


def condition_of(value: Any) -> tuple[int, bool]:
    """A condition cell as (grade 1–6, hazardous): a grade, a Roman numeral or a word."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidValue("condition", "is empty; give a grade from I to VI or a word")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    word = CONDITION_WORDS.get(fold(str(value)))
    if word:
        return word
    try:
        return rules.check_condition(value), False
    except InvalidValue:
        raise InvalidValue(
            "condition",
            f"is not on the sanitary scale: use I–VI, 1–6 or a word ({CONDITION_HINT})",
            value,
        ) from None


def form_of(value: Any) -> str | None:
    """A planting-form cell as a ``PlantingForm`` value (checked against the geometry later)."""
    if value is None or str(value).strip() == "":
        return None
    key = fold(str(value))
    found = FORM_WORDS.get(key)
    return found.value if found else key


def status_of(value: Any) -> PlantStatus:
    if value is None or str(value).strip() == "":
        return PlantStatus.ALIVE
    key = fold(str(value))
    return STATUS_WORDS.get(key) or rules.check_status(key)
