"""Names of report kinds and statuses in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_NAMES = {
    "hazard": _l("hazardous tree"),
    "dead": _l("dead tree"),
    "damaged": _l("damaged tree"),
    "illegal_felling": _l("illegal felling"),
    "needs_care": _l("tree needs care"),
    "plant_request": _l("please plant a tree here"),
    "missing_tree": _l("a tree is missing here"),
}
STATUS_NAMES = {
    "received": _l("received"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "planned": _l("work planned"),
    "done": _l("done"),
}


def kind_names() -> dict:
    return KIND_NAMES


def status_names() -> dict:
    return STATUS_NAMES
