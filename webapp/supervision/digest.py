"""The weekly digest for supervisors (issue 13): on the weekday the setting
``supervision_digest_weekday`` names (Oslo date), one e-mail to every active user with the role
coordinating_unit or system_owner that has an address: how many cases each rule finds stuck, the
total and a link to ``/tilsyn/``. Counts only — no case, no reference, no name.

The worker asks every round (``send_digest_if_due``); the digest goes out once per ISO week. That
it went is an audit event (kind ``supervision_digest``) written in the transaction that queues the
messages, checked again inside that transaction while holding a lock: SQLite's write lock (a
serialised transaction, ``BEGIN IMMEDIATE``) or, on PostgreSQL, a transaction-level advisory lock,
so of several workers exactly one sends, and a restart in the same week sends nothing.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import force_locale
from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from webapp.audit.models import AuditEvent
from webapp.audit.operations import record, titled
from webapp.cases.roles import users_with_role
from webapp.clock import OSLO
from webapp.outbox.operations import Outbox, base_url
from webapp.settings.operations import get_setting
from webapp.supervision import rules

#: the audit event that says a week's digest was queued
KIND = "supervision_digest"
#: the roles that get the digest
ROLES = ("coordinating_unit", "system_owner")
#: where the link points (the supervisors' cockpit)
PATH = "/tilsyn/"
#: key of the PostgreSQL advisory lock that serialises the check-and-send (any fixed bigint)
LOCK_KEY = 0x5D16E57


def send_digest_if_due(services) -> int:
    """Queue this week's digest if today (Oslo) is the configured weekday and it has not gone out
    this ISO week; returns how many messages were queued (0 almost every round: two cheap reads)."""
    now = services.clock.now()
    today = now.astimezone(OSLO).date()
    with services.db.session() as session:
        if today.weekday() != digest_weekday(session) or sent_this_week(session, today):
            return 0
        addresses = recipients(session)
        if not addresses:
            return 0
        counts = rules.counts(session, now, today)  # the costly part: outside the lock
    subject, body = message(counts, today)
    with services.db.transaction(serialised=True) as session:
        if services.db.dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        if sent_this_week(session, today):
            return 0  # another worker was first
        week = iso_week(today)
        record(session, KIND, at=now, **titled("Ukesoversikt for uke %(week)s sendt", week=today.isocalendar().week),
               week=week, total=sum(counts.values()), recipients=len(addresses))
        outbox = Outbox(session, services.clock, None)
        for address in addresses:
            outbox.send(address, subject, body, link=PATH, plain=True)
    return len(addresses)


def digest_weekday(session: Session) -> int:
    """The configured weekday, 0 (Monday) to 6 (Sunday); Monday if the stored value is unusable."""
    value = str(get_setting(session, "supervision_digest_weekday"))
    return int(value) if value in {"0", "1", "2", "3", "4", "5", "6"} else 0


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(day: date) -> tuple[datetime, datetime]:
    """The ISO week of ``day`` as an aware [Monday 00:00, next Monday 00:00) pair in Oslo."""
    monday = day - timedelta(days=day.weekday())
    return (datetime.combine(monday, time(0), OSLO),
            datetime.combine(monday + timedelta(days=7), time(0), OSLO))


def sent_this_week(session: Session, day: date) -> bool:
    start, end = week_bounds(day)
    return bool(session.scalar(select(exists().where(
        AuditEvent.kind == KIND, AuditEvent.created_at >= start, AuditEvent.created_at < end))))


def recipients(session: Session) -> list[str]:
    """The addresses of active users with one of ``ROLES``, each once, in user order."""
    seen: dict[int, str] = {}
    for role in ROLES:
        for user in users_with_role(session, role):
            if user.email and user.email.strip():
                seen.setdefault(user.id, user.email.strip())
    return list(dict.fromkeys(seen[user_id] for user_id in sorted(seen)))


def message(counts: dict[str, int], today: date) -> tuple[str, str]:
    """(subject, body) in Norwegian bokmål whatever anyone's language: counts per rule, the total
    and the link. Nothing about any single case."""
    week = today.isocalendar().week
    with force_locale("nb"):  # bokmål is the source language: the rule titles as written
        lines = [f"{rules.RULES[key].title}: {count}" for key, count in counts.items()]
    total = sum(counts.values())
    body = "\n".join([
        f"Ukesoversikt over saker som står fast i ansvarsgruppe, uke {week} ({today.strftime('%d.%m.%Y')}).",
        "",
        *lines,
        "",
        f"Til sammen: {total} (en sak kan telle under flere grunner).",
        "",
        f"Se hvilke saker det gjelder etter innlogging: {base_url()}{PATH}",
        "",
        "Denne e-posten inneholder bare antall, ingen opplysninger om enkeltsaker.",
    ])
    return f"Ukesoversikt: saker som står fast (uke {week})", body
