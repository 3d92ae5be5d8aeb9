"""Sign-in and sign-out with Flask-Login; CSRF on every state-changing request; login throttling.

The session keeps only the user's id; each request reloads the user, so a deactivated account or
a changed role takes effect at once. Access itself is never decided here: the signed-in user
becomes an ``Actor`` (``web.actors.current_actor``) that the registry services judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from registry.access import Actor
from registry.accounts.models import User
from registry.accounts.services import actor_for, authenticate
from web.db import request_session

bp = Blueprint("auth", __name__)
LOGIN_LIMIT = "10 per minute;50 per hour"


@dataclass(frozen=True)
class SignedIn(UserMixin):
    """The signed-in user as the web app keeps it for one request."""

    id: int
    email: str
    full_name: str
    locale: str
    actor: Actor

    def get_id(self) -> str:
        return str(self.id)


def signed_in_from(user: User) -> SignedIn:
    return SignedIn(user.id, user.email, user.full_name, user.locale, actor_for(user))


def load_user(user_id: str) -> SignedIn | None:
    if not user_id.isdigit():
        return None
    with request_session() as session:
        user = session.get(User, int(user_id))
        return signed_in_from(user) if user is not None and user.active else None


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after sign-in would help phishing."""
    if not target:
        return url_for("map.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("map.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = SignInForm()
    if form.validate_on_submit():
        with request_session() as session:
            user = authenticate(session, form.email.data, form.password.data)
            signed = signed_in_from(user) if user is not None else None
        if signed is not None:
            login_user(signed)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_l("Wrong e-mail or password."))
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_l("You have signed out."))
    return redirect(url_for("map.index"))


def init_app(app: Flask) -> None:
    """Bind Flask-Login, CSRFProtect and a per-app login limiter (in-memory counters)."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to continue.")
    manager.session_protection = "strong"
    manager.user_loader(load_user)
    manager.init_app(app)
    CSRFProtect(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    login_view = app.view_functions["auth.login"]
    app.view_functions["auth.login"] = limiter.limit(
        lambda: current_app.config.get("JASYL_LOGIN_LIMIT", LOGIN_LIMIT), methods=["POST"]
    )(login_view)


def signed_in_user() -> SignedIn | None:
    return current_user if current_user.is_authenticated else None
