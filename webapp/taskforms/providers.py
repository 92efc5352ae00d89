"""Named providers a diagram's user task may refer to (validated at deploy time):

- ``x-options`` in a form: choices from the database (webapp/taskforms/options.py);
- ``formDefaults`` property: initial values computed when the task page opens;
- ``context`` property: an information panel shown beside the form (a template + its values).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseClosure, CaseMember
from webapp.cases.panels import wish_context
from webapp.clock import OSLO
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
        # nobody pre-checked as present: the minute-taker ticks who came, or writes the absence
        "attendance": [{"member_id": str(m.id)} for m in members],
        "previous_measures": [{"measure_id": str(m.id)} for m in open_measures],
        "items": [{"title": title} for title in (meeting.agenda if meeting else [])],
        "recipients": [str(m.id) for m in members],
    }


def _plan_defaults(session: Session, case: Case, data: dict, today: date) -> dict:
    """What the group already agreed (the date, and for the first meeting the place) is not asked again."""
    meeting = _meeting(session, data)
    values: dict = {}
    if meeting is not None:
        if meeting.starts_at is not None:
            values["meeting_date"] = meeting.starts_at.astimezone(OSLO).date().isoformat()
        if meeting.place:
            values["place"] = meeting.place
        values["duration_minutes"] = meeting.duration_minutes
    return values


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
    if minutes is not None:  # the answers of the current round (since the last correction)
        query = (select(MinutesApproval, CaseMember).join(CaseMember, CaseMember.id == MinutesApproval.member_id)
                 .where(MinutesApproval.minutes_id == minutes.id).order_by(MinutesApproval.id))
        history = (minutes.content or {}).get("corrections") or []
        if history:
            query = query.where(MinutesApproval.at > datetime.fromisoformat(history[-1]["at"]))
        approvals = session.execute(query).all()
    return "meetings/context_minutes.html", {
        "doc": minutes_doc(session, minutes) if minutes else None, "approvals": approvals, "minutes": minutes}


def _notice_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    """Beside the late-notice step: the meeting's time, the notice period and the earliest date."""
    from webapp.meetings.rules import earliest_notice_start
    from webapp.services import services

    meeting = _meeting(session, data)
    now = services().clock.now()
    at = meeting.starts_at.astimezone(OSLO).time() if meeting is not None and meeting.starts_at else None
    return "meetings/context_notice.html", {
        "meeting": meeting, "notice_days": int(get_setting(session, "notice_days")),
        "earliest": earliest_notice_start(session, now, at) if at else None,
        "rejected": data.get("new_date") if data.get("notice_decision_applied") == "too_soon" else None}


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
    "meeting_plan": _plan_defaults,
}

CONTEXTS: dict[str, Callable] = {
    "meeting_matters": _matters_context,
    "meeting_minutes": _minutes_context,
    "meeting": _meeting_context,
    "meeting_notice": _notice_context,
    "transition": review_context,
    "transition_changes": changes_context,
    "deviation": deviation_context,
    "evaluation": _evaluation_context,
    "closing": _closing_context,
    "wish": wish_context,
}


def _minutes_check(session: Session, case: Case, data: dict, submitted: dict, now: datetime) -> dict[str, str]:
    from webapp.meetings.rules import minutes_errors
    return minutes_errors(_meeting(session, data), submitted, now)


def _notice_check(session: Session, case: Case, data: dict, submitted: dict, now: datetime) -> dict[str, str]:
    from webapp.meetings.rules import moved_meeting_errors
    return moved_meeting_errors(session, submitted, now)


def _cooperation_check(session: Session, case: Case, data: dict, submitted: dict, now: datetime) -> dict[str, str]:
    from webapp.meetings.rules import cooperation_errors
    return cooperation_errors(_meeting(session, data), submitted)


#: ``formCheck`` property: rules on a submitted form that need the case's data; errors per field
#: (keys as in webapp/taskforms/schema.py, '' for the whole form), the user's input kept.
CHECKS: dict[str, Callable] = {
    "meeting_minutes": _minutes_check,
    "meeting_notice": _notice_check,
    "meeting_cooperation": _cooperation_check,
}


def provider_names() -> dict[str, set[str]]:
    return {"options": set(OPTION_PROVIDERS), "defaults": set(DEFAULTS), "context": set(CONTEXTS),
            "checks": set(CHECKS)}
