"""What reading the register writes: access-log rows for the cases listed, and the audit event of
an export of the yearly figures."""
from __future__ import annotations

from datetime import datetime
from collections.abc import Iterable

from webapp.audit.models import AccessLogEntry
from webapp.audit.operations import record


def log_register_read(db, *, user_id: int, case_ids: Iterable[int], at: datetime, page: str = "register") -> None:
    """One access-log row per case listed (on ``page``), in one short transaction."""
    rows = [AccessLogEntry(user_id=user_id, case_id=case_id, page=page, at=at) for case_id in case_ids]
    if not rows:
        return
    with db.transaction() as session:
        session.add_all(rows)


def record_figures_export(db, *, user_id: int, year: int, at: datetime) -> None:
    with db.transaction() as session:
        record(session, "register_figures_exported", at=at, actor_id=user_id,
               title=f"Årstall for {year} lastet ned", year=year)
