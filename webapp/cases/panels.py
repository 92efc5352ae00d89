"""Information panels beside establishment steps (see webapp/taskforms/providers.py CONTEXTS).

The wish (its text and the contact details given with it) is addressed to whoever appoints the
coordinator, so it is shown in the appointment step, and to the coordinator (consent step and
case page). It is content: it is never shown on register pages."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cases import operations as ops
from webapp.cases.models import Case, CaseMember


def wish_view(session: Session, case: Case) -> dict:
    """The wish as registered: text, who asked, the person's contact details, the guardians' and
    relatives' contact details, and other open cases of the same person (possible duplicates)."""
    relatives = session.scalars(select(CaseMember).where(
        CaseMember.case_id == case.id, CaseMember.active.is_(True),
        CaseMember.role.in_(("foresatt", "parorende"))).order_by(CaseMember.id)).all()
    person = case.person
    return {
        "case": case, "person": person, "relatives": relatives,
        "duplicates": ops.open_cases_for(session, person.national_id if person else None,
                                         exclude_case_id=case.id),
    }


def wish_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    return "cases/context_wish.html", wish_view(session, case)
