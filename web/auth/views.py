"""Sign-in and sign-out with Flask-Login; CSRF on every state-changing request; sign-in throttling.

The session keeps the user's id and session generation; each request reloads the user, so a
deactivated account, a changed role, a sign-out elsewhere or a new password takes effect at once
(``web.auth.sessions``). Failed sign-ins are counted in the database (``web.auth.throttle``).
Access itself is never decided here: the signed-in user becomes an ``Actor``
(``web.actors.current_actor``) that the registry services judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from registry.access import Actor
from registry.accounts.models import User
from registry.accounts.services import (
    MIN_PASSWORD_LENGTH,
    actor_for,
    authenticate,
    end_sessions,
    password_matches,
    set_password,
)
from web.auth import sessions, throttle
from web.db import request_session

bp = Blueprint("auth", __name__)


@dataclass(frozen=True)
class SignedIn(UserMixin):
    """The signed-in user as the web app keeps it for one request."""

    id: int
    email: str
    full_name: str
    locale: str
    actor: Actor
    generation: int = 0

    def get_id(self) -> str:
        return str(self.id)


def signed_in_from(user: User) -> SignedIn:
    return SignedIn(
        user.id, user.email, user.full_name, user.locale, actor_for(user), user.session_generation
    )


def load_user(user_id: str) -> SignedIn | None:
    """The cookie's user, while the cookie is still a sign-in (``web.auth.sessions``)."""
    if not user_id.isdigit():
        return None
    with request_session() as work:
        user = work.get(User, int(user_id))
        if user is None or not user.active:
            return None
        if not sessions.still_signed_in(session, user.session_generation, current_app.config):
            sessions.forget(session)
            return None
        return signed_in_from(user)


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
        database, rules = current_app.config["DATABASE_URL"], current_app.config["SIGN_IN_RULES"]
        attempt = throttle.Attempt(form.email.data, request.remote_addr or "")
        wait = throttle.seconds_to_wait(database, attempt, rules)
        if wait:
            return _wait_page(form, wait, form.password, "auth/login.html")
        with request_session() as work:
            user = authenticate(work, form.email.data, form.password.data)
            signed = signed_in_from(user) if user is not None else None
        if signed is not None:
            throttle.record_success(database, attempt)
            login_user(signed)
            sessions.begin(session, signed.generation)
            return redirect(_safe_next(request.args.get("next")))
        throttle.record_failure(database, attempt, rules)
        form.password.errors.append(_l("Wrong e-mail or password."))
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


def _wait_page(form: FlaskForm, seconds: int, field, template: str):
    """429 beside the password field, with how long to wait (in minutes, rounded up)."""
    minutes = -(-seconds // 60)
    field.errors.append(
        _("Too many failed sign-ins; try again in %(minutes)s min.", minutes=minutes)
    )
    page = render_template(template, form=form)
    return page, 429, {"Retry-After": str(seconds)}


@bp.post("/logout")
def logout():
    """Sign out here and everywhere: every cookie issued to this user so far stops working,
    including copies of this one."""
    user = signed_in_user()
    if user is not None:
        with request_session() as work:
            end_sessions(work, user.id)
    logout_user()
    sessions.forget(session)
    flash(_l("You have signed out."))
    return redirect(url_for("map.index"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                MIN_PASSWORD_LENGTH, 1024, message=_l("Between %(min)d and %(max)d characters.")
            ),
        ],
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """A new password, asked with the current one; it ends the user's other sessions, and this
    one carries on with the new session generation."""
    form = PasswordForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("auth/password.html", form=form), status
    database, rules = current_app.config["DATABASE_URL"], current_app.config["SIGN_IN_RULES"]
    attempt = throttle.Attempt(current_user.email, request.remote_addr or "")
    wait = throttle.seconds_to_wait(database, attempt, rules)
    if wait:
        return _wait_page(form, wait, form.current, "auth/password.html")
    with request_session() as work:
        user = work.get(User, current_user.id)
        generation = None
        if password_matches(user, form.current.data):
            generation = set_password(work, current_user.actor, user, form.new.data)
    if generation is None:
        throttle.record_failure(database, attempt, rules)
        form.current.errors.append(_l("Wrong password."))
        return render_template("auth/password.html", form=form), 422
    sessions.begin(session, generation)
    flash(_l("Your password has been changed; your sessions elsewhere have ended."))
    return redirect(url_for("map.index"))


def init_app(app: Flask) -> None:
    """Bind Flask-Login and CSRFProtect; sign-in throttling follows ``SIGN_IN_RULES``."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to continue.")
    manager.session_protection = "strong"
    manager.user_loader(load_user)
    manager.init_app(app)
    CSRFProtect(app)
    app.config.setdefault("SIGN_IN_RULES", throttle.ThrottleRules())


def signed_in_user() -> SignedIn | None:
    return current_user if current_user.is_authenticated else None
