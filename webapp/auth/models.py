from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, UTCDateTime, utcnow

#: System-wide roles (not case roles): what kind of user someone is.
ROLES = ("staff", "coordinating_unit", "system_owner", "process_owner", "admin")

#: The role of the person a group is for and of guardians with their own login (ID-porten, or a
#: demo login): they reach their own pages only (``webapp/portal``), never the staff pages. Not
#: among ``ROLES``: administrators do not give it; a login matched to a group does.
CITIZEN = "citizen"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(200), default="staff")
    #: the user's chosen language (nb, nn, en); None: the browser's choice, else bokmål
    language: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: a citizen's national identity number as a keyed digest (``cases.identity``): matched at
    #: login, never shown, never stored in the clear
    national_id_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def is_citizen(self) -> bool:
        return CITIZEN in self.role_set


class LoginAttempt(Base):
    """Failed and successful logins, for rate limiting across processes."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class UserSession(Base):
    """A login on the server side: the signed session cookie holds a random token whose SHA-256 is
    this row's id. Logout, deactivation and a password change delete the rows, so a copied cookie
    opens nothing afterwards; a row past ``expires_at`` is refused and pruned."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
