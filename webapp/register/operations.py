"""What reading the register writes besides the access log: the audit event of an export of the
yearly figures."""
from __future__ import annotations

from datetime import datetime

from webapp.audit.operations import record, titled


def record_figures_export(db, *, user_id: int, year: int, at: datetime) -> None:
    with db.transaction() as session:
        record(session, "register_figures_exported", at=at, actor_id=user_id,
               **titled("Årstall for %(year)s lastet ned", year=year), year=year)
