"""The closing report archived with the case (PDF), built from what the closing recorded."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseClosure, CaseMember
from webapp.cases.operations import coordinator_user
from webapp.closing.operations import INITIATOR_LABELS
from webapp.meetings.documents import html_to_pdf, render_document


def report_pdf(session: Session, case: Case, closure: CaseClosure, today: date) -> bytes:
    """Rendered before the members' access ends, so it lists the group as it was."""
    coordinator = coordinator_user(session, case.id)
    members = session.scalars(select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.active.is_(True))
                              .order_by(CaseMember.id)).all()
    minutes = closure.final_minutes or {}
    meeting_date = date.fromisoformat(minutes["meeting_date"]) if minutes.get("meeting_date") else None
    html = render_document("closing/report_document.html", case=case, closure=closure, members=members,
                           coordinator=coordinator, initiated_by=INITIATOR_LABELS[closure.initiated_by],
                           today=today, meeting_date=meeting_date)
    return html_to_pdf(html)
