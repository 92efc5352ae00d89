from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.audit.operations import record
from webapp.auth.models import ROLES, LoginAttempt, User
from webapp.auth.passwords import check_password, hash_password, needs_rehash


def create_user(session: Session, username: str, full_name: str, password: str, *, roles=("staff",),
                email: str | None = None, at, actor_id: int | None = None) -> User:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    user = User(username=username, full_name=full_name, email=email,
                password_hash=hash_password(password), roles=",".join(roles), created_at=at)
    session.add(user)
    session.flush()
    record(session, "user_created", at=at, actor_id=actor_id, user_id=user.id, username=username)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None. A hash made with another cost
    than the configured one is replaced by a new hash, in a transaction of its own (``session`` may
    be a request's read session)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        with Session(session.get_bind()) as writer, writer.begin():
            writer.execute(update(User).where(User.id == user.id).values(password_hash=hash_password(password)))
    return user


MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_IP = 20
WINDOW_MINUTES = 15


def login_blocked(session: Session, username: str, ip: str, now) -> bool:
    """Too many failed logins for this username or address within the window."""
    since = now - timedelta(minutes=WINDOW_MINUTES)

    def failures(condition) -> int:
        return session.scalar(select(func.count(LoginAttempt.id)).where(
            LoginAttempt.success.is_(False), LoginAttempt.at >= since, condition)) or 0

    return (failures(LoginAttempt.username == username) >= MAX_FAILURES_PER_USERNAME
            or failures(LoginAttempt.ip == ip) >= MAX_FAILURES_PER_IP)


def record_login(session: Session, username: str, ip: str, success: bool, now) -> None:
    session.add(LoginAttempt(username=username[:80], ip=ip[:64], success=success, at=now))
    if success:
        record(session, "login", at=now, username=username)
