"""Kazakh, Russian and English: which language a request is answered in, and the switcher.

The choice, in order: the signed-in user's saved preference, ``?lang=`` on the request (also kept
in the session so the next page stays in it), the session's earlier choice, the browser's
Accept-Language, and Russian. Catalogues live in ``web/translations`` (``.po`` committed, ``.mo``
compiled by ``make``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from flask_login import current_user

from registry.accounts.services import set_locale
from web.actors import current_actor
from web.db import request_session

LANGUAGES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT_LANGUAGE = "ru"
TRANSLATIONS = Path(__file__).with_name("translations")

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def language() -> str:
    """The current request's language code (kk, ru or en)."""
    return str(get_locale() or DEFAULT_LANGUAGE)


@bp.post("/language")
def choose_language():
    """The switcher: remembers the choice in the session and, when signed in, in the profile."""
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        actor = current_actor()
        if actor.signed_in:
            with request_session() as db:
                set_locale(db, actor, actor.user_id, chosen)
    back = request.form.get("next") or request.referrer or ""
    parts = urlsplit(back)
    same_site = parts.path.startswith("/") and not parts.path.startswith("//")
    target = parts.path + (f"?{parts.query}" if parts.query else "") if same_site else ""
    return redirect(target or url_for("map.index"))


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile each ``.po`` whose ``.mo`` is missing or older (``make`` does it too; this keeps a
    fresh clone or a just-updated catalogue working without a separate step)."""
    compiled = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        partial = mo.with_name(f"messages.mo.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        os.replace(partial, mo)  # atomic: parallel test workers never read half a catalogue
        compiled.append(mo)
    return compiled


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    try:
        compile_catalogues(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    except OSError as exc:  # a read-only install: the .mo files `make` compiled are used
        app.logger.warning("translations not recompiled: %s", exc)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def languages() -> dict:
        return {"languages": LANGUAGES, "current_language": language()}
