"""Users and roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base


class Role(enum.StrEnum):
    """Who a user is; what each may do is decided in ``registry.access`` alone."""

    FORESTER = "forester"
    PLANNER = "planner"
    MINISTRY = "ministry"
    NURSERY = "nursery"
    ADMIN = "admin"


ROLE_TYPE = SAEnum(Role, name="user_role", values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
        CheckConstraint("role <> 'forester' OR region_id IS NOT NULL", name="forester_has_region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[Role] = mapped_column(ROLE_TYPE)
    region_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("regions.id"))
    nursery_id: Mapped[int | None] = mapped_column(ForeignKey("nurseries.id"))
    locale: Mapped[str] = mapped_column(Text, default="ru")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written into each session cookie at sign-in; one more on sign-out or a new password ends
    # every session issued before (``web.auth.sessions``).
    session_generation: Mapped[int] = mapped_column(Integer, server_default="0", default=0)


class SignInThrottle(Base):
    """Failed sign-ins counted under one key (an account, an address, or both), shared by every
    worker through the database (``web.auth.throttle``)."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
