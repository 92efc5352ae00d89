"""The access log: every read of case data — who, when, which case, which page (Normen).

A page that only reads adds its rows to an in-memory buffer; the buffer is written in batches
(one multi-row INSERT, one commit) by a background thread every ``flush_seconds``, when it holds
``max_rows``, and when the process exits. So a GET costs no transaction of its own. A write that
reads the case (a completed step) puts its row in its own transaction instead (``add_to``).
With ``flush_seconds == 0`` every row is written at once (the tests' default).

The cost of batching: rows of the last ``flush_seconds`` are lost if the process is killed
without running its exit handlers. Pages that show the log flush first, so a reader sees their
own reads.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from datetime import datetime
from typing import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from webapp.audit.models import AccessLogEntry

log = logging.getLogger(__name__)
_INSERT_ROW = insert(AccessLogEntry.__table__)


class AccessLog:
    def __init__(self, db, *, flush_seconds: float = 1.0, max_rows: int = 500):
        self.db = db
        self.flush_seconds = max(0.0, float(flush_seconds))
        self.max_rows = max(1, int(max_rows))
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one batch written at a time, in order
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------- recording
    def record(self, *, user_id: int, case_id: int, page: str, at: datetime) -> None:
        """Log one read of one case."""
        self.record_many(user_id=user_id, case_ids=(case_id,), page=page, at=at)

    def record_many(self, *, user_id: int, case_ids: Iterable[int], page: str, at: datetime) -> None:
        """Log one read of several cases (a list page): one row per case."""
        rows = [{"user_id": user_id, "case_id": case_id, "page": page, "at": at} for case_id in case_ids]
        if not rows:
            return
        with self._lock:
            self._rows.extend(rows)
            full = len(self._rows) >= self.max_rows
        if self.flush_seconds == 0 or full:
            self.flush()
        else:
            self._ensure_thread()

    @staticmethod
    def add_to(session: Session, *, user_id: int, case_id: int, page: str, at: datetime) -> None:
        """Log a read inside the caller's transaction (it commits or rolls back with it): a Core
        insert at once, as ``audit.operations.record``."""
        session.connection().execute(_INSERT_ROW, {"user_id": user_id, "case_id": case_id, "page": page, "at": at})

    # ---------------------------------------------------------------------- writing
    def flush(self) -> int:
        """Write what is buffered; returns the number of rows written. On a database error the
        rows go back to the buffer and are tried again next time."""
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                with self.db.transaction() as session:
                    session.execute(insert(AccessLogEntry), rows)
            except Exception:
                log.exception("access log: %d row(s) could not be written; kept for the next try", len(rows))
                with self._lock:
                    self._rows[:0] = rows
                return 0
            return len(rows)

    def close(self) -> None:
        """Stop the flusher and write what is buffered (the app is shutting down)."""
        self._closed.set()
        if self._thread is not None:
            atexit.unregister(self.flush)
        self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    # ---------------------------------------------------------------------- the flusher
    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="ansvarsgruppe-access-log", daemon=True)
            self._thread.start()
            atexit.register(self.flush)

    def _run(self) -> None:
        while not self._closed.wait(self.flush_seconds):
            started = time.monotonic()
            self.flush()
            if time.monotonic() - started > self.flush_seconds:
                log.warning("access log: writing a batch took longer than the flush interval")
