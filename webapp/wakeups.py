"""Waking the worker when work is added, instead of waiting for its next round.

A transaction that adds work due now (an e-mail in the outbox) calls :func:`work_added`. When it
commits, the workers are told: on PostgreSQL with ``NOTIFY`` (every worker process that
``LISTEN``s wakes, on any machine), and in this process through an event (the worker thread of
``serve``/``demo`` on SQLite). A worker that misses a wake-up still finds the work at its next
round, at most ``WORKER_INTERVAL`` later: wake-ups make the worker prompt, never correct.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "ansvarsgruppe_work"
_KEY = "wake_worker"
#: set when work was committed in this process (the in-process worker thread waits on it)
LOCAL = threading.Event()


def work_added(session: Session) -> None:
    """Tell the workers when this session's transaction commits."""
    if not session.info.get(_KEY):
        session.info[_KEY] = True
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SELECT pg_notify('{CHANNEL}', '')"))  # delivered on commit


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_KEY, False):
        LOCAL.set()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


class Listener:
    """What the worker sleeps on: a ``LISTEN`` connection on PostgreSQL (its own, autocommit),
    and the in-process event. ``wait(seconds)`` returns early when woken."""

    def __init__(self, db):
        self.db = db
        self._conn = None

    def _connection(self):
        if self.db.dialect != "postgresql":
            return None
        if self._conn is None or self._conn.closed:
            import psycopg
            url = self.db.engine.url.set(drivername="postgresql")
            self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    @staticmethod
    def arm() -> None:
        """Call before a round: work committed from now on ends the next ``wait`` early (work
        committed during the round is then not lost between the round and the sleep)."""
        LOCAL.clear()

    def wait(self, seconds: float, stop: threading.Event | None = None) -> None:
        try:
            conn = self._connection()
        except Exception:  # no listening now: a plain sleep, tried again next time
            log.warning("worker: LISTEN failed; sleeping without wake-ups", exc_info=True)
            conn = None
        if conn is None:
            _wait_either(stop, seconds)
            return
        remaining, step = seconds, 0.5  # short slices: stop and in-process wake-ups are seen too
        while remaining > 0 and not (stop is not None and stop.is_set()) and not LOCAL.is_set():
            try:
                if any(True for _ in conn.notifies(timeout=min(step, remaining), stop_after=1)):
                    return
            except Exception:
                log.warning("worker: lost the LISTEN connection", exc_info=True)
                self.close()
                _wait_either(stop, remaining)
                return
            remaining -= step

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None


def _wait_either(stop: threading.Event | None, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set or work is committed in this process."""
    remaining, step = seconds, 0.1
    while remaining > 0 and not LOCAL.is_set() and not (stop is not None and stop.is_set()):
        LOCAL.wait(min(step, remaining))
        remaining -= step
