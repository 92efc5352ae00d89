"""The deviation beside its follow-up and system-owner tasks (a ``context`` provider): only the
deviation itself, so the system owner, who has no role in the case, sees nothing else of it."""
from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.cases.models import Case
from webapp.deviations.models import Deviation


def deviation_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    try:
        deviation = session.get(Deviation, int(data.get("deviation_id")))
    except (TypeError, ValueError):
        deviation = None
    if deviation is not None and deviation.case_id != case.id:
        deviation = None
    return "deviations/context.html", {"deviation": deviation}
