"""Names of the registry's codes (condition grades, statuses, forms, categories) in the reader's
language, for templates. Condition grades carry their kk/ru/en names in the model itself.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from registry.inventory.models import CONDITION_GRADES
from web.i18n import language

STATUS_NAMES = {
    "alive": _l("alive"),
    "dead": _l("dead"),
    "removed": _l("removed"),
    "stump": _l("stump"),
    "vacant": _l("vacant site"),
}
FORM_NAMES = {
    "solitary": _l("solitary"),
    "row": _l("row"),
    "group": _l("group"),
    "hedge": _l("hedge"),
    "massif": _l("massif"),
}
CATEGORY_NAMES = {
    "public": _l("public use"),
    "limited": _l("limited use"),
    "special": _l("special purpose"),
}
LANGUAGE_COLUMN = {"ru": 0, "kk": 1, "en": 2}


def condition_names() -> dict[int, str]:
    column = LANGUAGE_COLUMN.get(language(), 0)
    return {grade: names[column] for grade, names in CONDITION_GRADES.items()}


def init_app(app: Flask) -> None:
    @app.context_processor
    def labels() -> dict:
        return {
            "condition_names": condition_names(),
            "status_names": STATUS_NAMES,
            "form_names": FORM_NAMES,
            "category_names": CATEGORY_NAMES,
        }
