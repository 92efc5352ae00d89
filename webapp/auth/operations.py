from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from webapp.audit.operations import record, titled
from webapp.auth.models import CITIZEN, ROLES, LoginAttempt, User, UserSession
from webapp.auth.passwords import check_dummy, check_password, hash_password, needs_rehash


def create_user(session: Session, username: str, full_name: str, password: str, *, roles=("staff",),
                email: str | None = None, at, actor_id: int | None = None) -> User:
    unknown = set(roles) - {*ROLES, CITIZEN}
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    user = User(username=username, full_name=full_name, email=email,
                password_hash=hash_password(password), roles=",".join(roles), created_at=at)
    session.add(user)
    session.flush()
    record(session, "user_created", at=at, actor_id=actor_id, user_id=user.id, username=username)
    return user


#: the languages of the user interface: bokmål (the source), nynorsk, English
LANGUAGES = ("nb", "nn", "en")


def set_language(session: Session, user: User, language: str, *, at: datetime) -> None:
    """The user's language choice, kept on the account (it follows them to the next login)."""
    if language not in LANGUAGES:
        raise ValueError("unknown language")
    if user.language != language:
        user.language = language
        record(session, "language_changed", at=at, actor_id=user.id, **titled("Språkvalg endret"), language=language)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None. An unknown username is verified
    against a dummy hash made with the same hasher, so it costs the same as a wrong password. A hash
    made with another cost than the configured one is replaced by a new hash, in a transaction of
    its own (``session`` may be a request's read session)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_dummy(password)
        return None
    if not check_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        with Session(session.get_bind()) as writer, writer.begin():
            writer.execute(update(User).where(User.id == user.id).values(password_hash=hash_password(password)))
    return user


# ------------------------------------------------------------------------------ server-side sessions
def _session_id(token: str) -> str:
    """The row id of a cookie's token: its SHA-256, so a copy of the table opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user_id: int, *, now: datetime, lifetime: timedelta) -> str:
    """A new server-side session for ``user_id``; returns the token for the signed cookie."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=_session_id(token), user_id=user_id, created_at=now, expires_at=now + lifetime))
    return token


def session_user(session: Session, token: str | None, now: datetime) -> User | None:
    """The active user of a live session, or None (no such row, expired, or user deactivated).

    Run on every request, so read as a plain row on the session's connection and returned as a
    detached ``User`` (the ORM's loading cost more than the query; nothing relates to a user, so
    a detached one serves as a loaded one, as after a view closes its session). The row's values
    go into the new instance's state as loaded values, as the ORM's loader puts them: the
    constructor would record each as a change, at four times the cost."""
    if not isinstance(token, str) or not token:
        return None
    row = session.connection().execute(_SESSION_USER, {"session_id": _session_id(token), "now": now}).first()
    if row is None:
        return None
    user = User.__mapper__.class_manager.new_instance()
    user.__dict__.update(row._mapping)
    make_transient_to_detached(user)
    return user


#: the user of a live session: built once, run on every request with its parameters
_SESSION_USER = select(*User.__table__.columns).join(UserSession, UserSession.user_id == User.id).where(
    UserSession.id == bindparam("session_id", type_=UserSession.id.type),
    UserSession.expires_at > bindparam("now", type_=UserSession.expires_at.type), User.active.is_(True))


def end_session(session: Session, token: str | None) -> None:
    if isinstance(token, str) and token:
        session.execute(delete(UserSession).where(UserSession.id == _session_id(token)))


def end_user_sessions(session: Session, user_id: int) -> None:
    """End every session of the user: call it when the user is deactivated or gets a new password
    (``webapp.admin.operations`` does)."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))


# ---------------------------------------------------------------------------------- throttling
#: Failed logins counted within this window.
WINDOW_MINUTES = 15
#: One address may fail this often on one username (since its last success there) before that
#: address is refused for that username.
MAX_FAILURES_PER_CLIENT = 5
#: After this many failures on one username from all addresses together (distributed guessing),
#: an address that has failed on it is refused: one guess per address.
MAX_FAILURES_PER_USERNAME = 10
#: After this many failures from one address over all usernames (spraying), the address is refused
#: for every username it has failed on: one guess per username.
MAX_FAILURES_PER_IP = 20


def login_blocked(session: Session, username: str, ip: str, now: datetime) -> bool:
    """Whether this address must not try this username now (docs/architecture.md, "Logins and
    sessions"). An address that has not failed on the username is never blocked, so no attacker
    can lock a user (or everyone behind one proxy) out: the right password from a clean address
    always reaches the password check."""
    since = now - timedelta(minutes=WINDOW_MINUTES)

    def failures(*conditions) -> int:
        return session.scalar(select(func.count(LoginAttempt.id)).where(
            LoginAttempt.success.is_(False), LoginAttempt.at >= since, *conditions)) or 0

    last_success = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.success.is_(True), LoginAttempt.username == username, LoginAttempt.ip == ip,
        LoginAttempt.at >= since))
    this_client = (LoginAttempt.username == username, LoginAttempt.ip == ip)
    here = failures(*this_client, *((LoginAttempt.at > last_success,) if last_success else ()))
    if here == 0:
        return False
    return (here >= MAX_FAILURES_PER_CLIENT
            or failures(LoginAttempt.username == username) >= MAX_FAILURES_PER_USERNAME
            or failures(LoginAttempt.ip == ip) >= MAX_FAILURES_PER_IP)


def record_login(session: Session, username: str, ip: str, success: bool, now) -> None:
    session.add(LoginAttempt(username=username[:80], ip=ip[:64], success=success, at=now))
    if success:
        record(session, "login", at=now, username=username)


#: Login attempts older than this are deleted by the worker.
KEEP_LOGIN_ATTEMPTS = timedelta(days=30)


def prune_logins(session: Session, now: datetime) -> tuple[int, int]:
    """Delete login attempts older than :data:`KEEP_LOGIN_ATTEMPTS` and expired sessions; returns
    how many of each."""
    attempts = session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_LOGIN_ATTEMPTS)).rowcount
    sessions = session.execute(delete(UserSession).where(UserSession.expires_at <= now)).rowcount
    return attempts or 0, sessions or 0
