"""Reading the fields of an HTML form: a wrong value is ``InvalidValue`` naming the field.

A form is text typed or altered by anyone; a view that called ``int()`` on it answered
``version=²`` or ``got_abc`` with a server error. These helpers give the form's view the same
kind of error the services raise, which it shows next to the field (or in the form's summary).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.errors import InvalidValue
from registry.inventory.rules import check_flag


def whole_number(field: str, raw: Any) -> int:
    """A non-negative whole number written in ASCII digits (``"²".isdigit()`` is true, and
    ``int("²")`` then fails)."""
    text = "" if raw is None else str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidValue(field, "is not a whole number", text[:60])
    return int(text)


def version_of(form: Mapping[str, Any]) -> int:
    """The version of the record the form was drawn from (a hidden field)."""
    return whole_number("version", form.get("version"))


def checkbox(form: Mapping[str, Any], name: str) -> bool:
    """A checkbox: absent is unchecked; ``"on"`` (a browser's), ``"true"`` or ``"1"`` checked;
    ``"false"``, ``"0"`` or ``"off"`` unchecked (it used to be checked: present meant true)."""
    return check_flag(name, form.get(name), False)


def numbered(form: Mapping[str, Any], prefix: str) -> dict[int, Any]:
    """Fields named ``prefix`` + an id (``got_12``) as {id: value}; any other name after the
    prefix (``got_abc``) is refused naming it."""
    return {
        whole_number(name, name[len(prefix) :]): value
        for name, value in form.items()
        if name.startswith(prefix)
    }
