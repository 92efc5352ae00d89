"""Named providers a diagram's user task may refer to (validated at deploy time):

- ``x-options`` in a form: choices from the database (webapp/taskforms/options.py);
- ``formDefaults`` property: initial values computed when the task page opens;
- ``context`` property: an information panel shown beside the form (a template + its values).
"""
from __future__ import annotations

from datetime import date
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseClosure, CaseMember
from webapp.deviations.panel import deviation_context
from webapp.evaluations.models import Evaluation
from webapp.meetings.models import EXCLUDED_MATTERS, Measure, Meeting, Minutes, MinutesApproval
from webapp.settings.operations import get_setting
from webapp.taskforms.options import PROVIDERS as OPTION_PROVIDERS
from webapp.transitions.panels import changes_context, review_context


def _meeting(session: Session, data: dict) -> Meeting | None:
    try:
        return session.get(Meeting, int(data.get("meeting_id")))
    except (TypeError, ValueError):
        return None


def _minutes_defaults(session: Session, case: Case, data: dict, today: date) -> dict:
    meeting = _meeting(session, data)
    members = session.scalars(select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.active.is_(True))
                              .order_by(CaseMember.id)).all()
    open_measures = session.scalars(select(Measure).where(Measure.case_id == case.id, Measure.status == "open")
                                    .order_by(Measure.deadline)).all()
    return {
        "attendance": [{"member_id": str(m.id), "present": True} for m in members],
        "previous_measures": [{"measure_id": str(m.id)} for m in open_measures],
        "items": [{"title": title} for title in (meeting.agenda if meeting else [])],
        "recipients": [str(m.id) for m in members],
    }


def _agenda_defaults(session: Session, case: Case, data: dict, today: date) -> dict:
    meeting = _meeting(session, data)
    items = []
    if meeting is not None and meeting.number == 1:
        items.append({"title": "Gjennomgang av retningslinjer for møtene"})
    if case.individual_plan == "yes":
        items.append({"title": "Den individuelle planen: mål og tiltak"})
    if meeting is not None:
        items += [{"title": m.title} for m in meeting.matters if m.on_agenda]
    return {"agenda": items}


def _matters_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    meeting = _meeting(session, data)
    return "meetings/context_matters.html", {
        "meeting": meeting, "matters": meeting.matters if meeting else [], "excluded": EXCLUDED_MATTERS}


def _minutes_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    from webapp.meetings.minutes import minutes_doc

    meeting = _meeting(session, data)
    minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id)) if meeting else None
    approvals = []
    if minutes is not None:
        approvals = session.execute(select(MinutesApproval, CaseMember)
                                    .join(CaseMember, CaseMember.id == MinutesApproval.member_id)
                                    .where(MinutesApproval.minutes_id == minutes.id)).all()
    return "meetings/context_minutes.html", {
        "doc": minutes_doc(session, minutes) if minutes else None, "approvals": approvals, "minutes": minutes}


def _meeting_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    return "meetings/context_meeting.html", {"meeting": _meeting(session, data)}


def _evaluation_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    """What happened since the last evaluation (counts only), beside the evaluation forms."""
    previous = session.scalar(select(Evaluation).where(Evaluation.case_id == case.id, Evaluation.status == "done")
                              .order_by(Evaluation.evaluated_at.desc()).limit(1))
    since = previous.evaluated_at if previous else case.activated_at
    held = select(func.count(Meeting.id)).where(Meeting.case_id == case.id, Meeting.held_at.is_not(None))
    measures = select(Measure.status, func.count(Measure.id)).where(Measure.case_id == case.id)
    if since is not None:
        held = held.where(Meeting.held_at >= since)
        measures = measures.where((Measure.closed_at.is_(None)) | (Measure.closed_at >= since))
    counts = dict(session.execute(measures.group_by(Measure.status)).all())
    return "evaluations/context_evaluation.html", {
        "since": since, "previous": previous, "meetings_held": session.scalar(held) or 0,
        "measures_done": counts.get("done", 0), "measures_not_done": counts.get("not_done", 0),
        "measures_open": counts.get("open", 0)}


def _closing_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    try:
        closure = session.get(CaseClosure, int(data.get("closure_id")))
    except (TypeError, ValueError):
        closure = None
    open_measures = session.scalar(select(func.count(Measure.id)).where(Measure.case_id == case.id,
                                                                        Measure.status == "open"))
    return "closing/context_closing.html", {
        "closure": closure if closure is not None and closure.case_id == case.id else None,
        "read_months": get_setting(session, "coordinator_read_months"), "open_measures": open_measures}


DEFAULTS: dict[str, Callable] = {
    "meeting_minutes": _minutes_defaults,
    "meeting_agenda": _agenda_defaults,
}

CONTEXTS: dict[str, Callable] = {
    "meeting_matters": _matters_context,
    "meeting_minutes": _minutes_context,
    "meeting": _meeting_context,
    "transition": review_context,
    "transition_changes": changes_context,
    "deviation": deviation_context,
    "evaluation": _evaluation_context,
    "closing": _closing_context,
}


def provider_names() -> dict[str, set[str]]:
    return {"options": set(OPTION_PROVIDERS), "defaults": set(DEFAULTS), "context": set(CONTEXTS)}
