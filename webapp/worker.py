"""The background worker: fires due timers and sends the outbox. Run several side by side on
PostgreSQL (``ansvarsgruppe worker``); ``demo``/``serve`` run one in a thread.

It works in rounds of at most ``WORKER_BATCH`` timers, starts and messages, and goes straight on
to the next round while a round found work. When one finds none it checkpoints SQLite's WAL and
sleeps until the earliest next due time (:func:`next_due_at`), at most ``WORKER_INTERVAL``, or
until a transaction adds work (``webapp.wakeups``)."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import func, or_, select, union_all

from webapp.auth.operations import prune_logins
from webapp.db import UTCDateTime
from webapp.engine.models import ProcessInstance, ScheduledStart
from webapp.outbox.models import OutboxMessage
from webapp.outbox.sending import SmtpSettings, send_due
from webapp.supervision.digest import send_digest_if_due
from webapp.wakeups import Listener

log = logging.getLogger(__name__)

#: Busy rounds in a row before the worker takes an idle pause anyway (a row that keeps failing
#: without leaving the due set must not spin the worker for ever).
MAX_BUSY_ROUNDS = 1000


@dataclass
class Busy:
    """What :func:`run_until_idle` did."""
    fired: int = 0
    sent: int = 0
    rounds: int = 0


def run_once(app: Flask) -> tuple[int, int]:
    """One round: start due episodes and fire due timers, then send the outbox. A failure in one
    part is logged and never keeps the other from running (each instance or message that fails
    becomes an incident or a retry of its own inside the engine and the sender)."""
    with app.app_context():  # handlers writing mail read BASE_URL from the app's config
        return _round(app)


def run_until_idle(app: Flask, stop: threading.Event | None = None,
                   max_rounds: int = MAX_BUSY_ROUNDS) -> Busy:
    """Rounds one after the other, without sleeping, while the last one found work (at most
    ``max_rounds``). Ends after the first round that fired, started and sent nothing."""
    busy = Busy()
    while busy.rounds < max_rounds and not (stop is not None and stop.is_set()):
        fired, sent = run_once(app)
        busy.fired, busy.sent, busy.rounds = busy.fired + fired, busy.sent + sent, busy.rounds + 1
        if not fired and not sent:
            break
    return busy


def _round(app: Flask) -> tuple[int, int]:
    services = app.extensions["ansvarsgruppe"]
    limit = _batch(app)
    fired = _logged("firing due timers", lambda: services.engine.fire_due_timers(limit), 0)
    _logged("queuing the weekly supervision digest", lambda: send_digest_if_due(services), 0)
    sent = _logged("sending the outbox", lambda: send_due(
        services.db, services.clock, SmtpSettings.from_config(app.config), limit=limit), 0)
    _logged("pruning old login attempts", lambda: _prune(services), None)
    return fired, sent


def _prune(services) -> None:
    with services.db.transaction() as session:
        prune_logins(session, services.clock.now())


def _logged(what: str, work, fallback):
    """Run one part of a round; a failure is logged and never keeps the others from running."""
    try:
        return work()
    except Exception:
        log.exception("%s failed", what)
        return fallback


def _batch(app: Flask) -> int:
    return max(1, int(app.config.get("WORKER_BATCH") or 500))


def next_due_at(db, *, outbox: bool = True) -> datetime | None:
    """The earliest time anything is due, in one query: a running instance's ``next_due_at``, a
    pending scheduled start's ``due_at`` and (``outbox``) a waiting message's ``next_attempt_at``."""
    parts = [
        select(func.min(ProcessInstance.next_due_at).label("at"))
        .where(ProcessInstance.status == "running", ProcessInstance.next_due_at.is_not(None)),
        select(func.min(ScheduledStart.due_at).label("at")).where(ScheduledStart.status == "pending"),
    ]
    if outbox:
        parts.append(select(func.min(OutboxMessage.next_attempt_at).label("at"))
                     .where(OutboxMessage.channel == "email",
                            or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
                            OutboxMessage.next_attempt_at.is_not(None)))
    union = union_all(*parts).subquery()
    with db.session() as s:
        values = [v for v in s.execute(select(union.c.at)).scalars() if v is not None]
    return min((_utc(v) for v in values), default=None)


def _utc(value) -> datetime:
    """Aware UTC, also if ``min`` over the union came back as SQLite's stored text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)


def idle_delay(app: Flask) -> float:
    """Seconds to sleep when a round found nothing: until the next due time, at least
    ``WORKER_MIN_SLEEP`` (something due that another worker holds) and at most ``WORKER_INTERVAL``."""
    services = app.extensions["ansvarsgruppe"]
    interval = float(app.config["WORKER_INTERVAL"])
    shortest = min(interval, float(app.config.get("WORKER_MIN_SLEEP", 0.2)))
    outbox = bool(SmtpSettings.from_config(app.config).host)  # no sender: the outbox just waits
    due = next_due_at(services.db, outbox=outbox)
    if due is None:
        return interval
    return max(shortest, min(interval, (due - services.clock.now()).total_seconds()))


def _idle(app: Flask) -> float:
    """Checkpoint SQLite's WAL (nothing is being written now) and tell how long to sleep."""
    services = app.extensions["ansvarsgruppe"]
    _logged("checkpointing the database", services.db.checkpoint, None)
    return _logged("finding the next due time", lambda: idle_delay(app), float(app.config["WORKER_INTERVAL"]))


def run_forever(app: Flask, stop: threading.Event) -> None:
    """Rounds while there is work; between them sleep until the next due time, or until a
    transaction adds work (``webapp.wakeups``: NOTIFY on PostgreSQL, an event in this process)."""
    listener = Listener(app.extensions["ansvarsgruppe"].db)
    try:
        while not stop.is_set():
            listener.arm()
            try:
                run_until_idle(app, stop)
            except Exception:  # keep the worker alive; the failure is logged and retried next round
                log.exception("worker round failed")
            listener.wait(_idle(app), stop)
    finally:
        listener.close()


def start_thread(app: Flask) -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app, stop), name="ansvarsgruppe-worker", daemon=True)
    thread.start()
    return stop
