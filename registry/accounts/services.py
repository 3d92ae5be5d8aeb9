"""Adding users and checking their passwords (argon2id, the current OWASP recommendation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from registry.access import Actor, require_role
from registry.accounts.models import Role, User
from registry.errors import DuplicateRecord, InvalidValue
from registry.regions.services import resolve_region

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise InvalidValue("role", f"must be one of {valid}", value) from None


def add_user(
    session: Session,
    actor: Actor,
    email: str,
    role: str,
    region: str | None = None,
    password: str | None = None,
    full_name: str = "",
    nursery_id: int | None = None,
) -> User:
    """Create a user; a forester must name the region they answer for."""
    require_role(session, actor, {Role.ADMIN}, "add", "user")
    email = email.strip()
    if not EMAIL.match(email):
        raise InvalidValue("email", "is not an e-mail address", email)
    chosen = parse_role(role)
    region_id = resolve_region(session, region).id if region else None
    if chosen is Role.FORESTER and region_id is None:
        raise InvalidValue("region", "a forester must be given the region they work in (--region)")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(session, email) is not None:
        raise DuplicateRecord(f"email: a user {email} already exists", field="email", value=email)
    user = User(
        email=email,
        role=chosen,
        region_id=region_id,
        full_name=full_name.strip(),
        password_hash=_hasher.hash(password) if password else None,
        nursery_id=nursery_id,
        active=True,
        locale="ru",
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else ``None`` (never says which was wrong)."""
    user = find_user(session, email)
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = datetime.now(UTC)
    return user


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (asked again before it is changed)."""
    try:
        return bool(user.password_hash) and _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, actor: Actor, user: User, password: str) -> int:
    """A new password ends every session of the user signed in before it: whoever had learnt
    the old one may have signed in with it. Returns the new session generation."""
    if actor.user_id != user.id:
        require_role(session, actor, {Role.ADMIN}, "set the password of", "user", user.id)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = _hasher.hash(password)
    return end_sessions(session, user.id)


def end_sessions(session: Session, user_id: int) -> int:
    """Every session cookie issued to the user so far stops being a sign-in (sign-out, a new
    password); returns the new generation for the cookie of whoever stays signed in."""
    return session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
        .returning(User.session_generation)
    ).scalar_one()


def actor_for(user: User) -> Actor:
    return Actor(
        label=user.email,
        role=user.role,
        user_id=user.id,
        region_id=user.region_id,
        nursery_id=user.nursery_id,
    )


LOCALES = ("kk", "ru", "en")


def set_locale(session: Session, actor: Actor, user_id: int, locale: str) -> None:
    """Remember the language a user reads the registry in (Kazakh, Russian or English)."""
    if actor.user_id != user_id:
        require_role(session, actor, {Role.ADMIN}, "set the language of", "user", user_id)
    if locale not in LOCALES:
        raise InvalidValue("locale", f"must be one of {', '.join(LOCALES)}", locale)
    user = session.get(User, user_id)
    if user is None:
        raise InvalidValue("user_id", "no such user", user_id)
    user.locale = locale
