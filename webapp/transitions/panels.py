"""Information panels beside the transition review's forms (``context`` providers)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import active_consent
from webapp.transitions.models import Transition


def _transition(session: Session, case: Case, data: dict) -> Transition | None:
    try:
        transition = session.get(Transition, int(data.get("transition_id")))
    except (TypeError, ValueError):
        return None
    return transition if transition is not None and transition.case_id == case.id else None


def _active_members(session: Session, case: Case) -> list[CaseMember]:
    return list(session.scalars(select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.active.is_(True))
                                .order_by(CaseMember.id)))


def review_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    """The transition, today's members and what the consent in force covers."""
    return "transitions/context_review.html", {
        "transition": _transition(session, case, data), "members": _active_members(session, case),
        "consent": active_consent(session, case.id)}


def changes_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    """The change the person is asked to consent to, and the composition it gives."""
    members = _active_members(session, case)
    by_id = {str(m.id): m for m in members}
    leaving = [by_id[str(row.get("member_id"))] for row in data.get("leaving") or []
               if isinstance(row, dict) and str(row.get("member_id")) in by_id]
    joining = [row.get("name") for row in data.get("joining") or [] if isinstance(row, dict) and row.get("name")]
    try:
        coordinator = session.get(User, int(data.get("new_coordinator_user_id")))
    except (TypeError, ValueError):
        coordinator = None
    replaced = coordinator is not None and not data.get("overlap_until")  # the previous coordinator leaves at once
    staying = [m for m in members if m not in leaving and not (replaced and m.role == "koordinator")]
    return "transitions/context_changes.html", {
        "transition": _transition(session, case, data), "leaving": leaving, "joining": joining,
        "new_coordinator": coordinator, "overlap_until": data.get("overlap_until"), "staying": staying}
