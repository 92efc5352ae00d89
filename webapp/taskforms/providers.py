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
from webapp.plans.models import SECTIONS
from webapp.plans.operations import KIND_LABELS, adopted_plan, current_plan, goals_of, measures_of, snapshot
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
    values = {
        # nobody pre-checked as present: the minute-taker ticks who came, or writes the absence
        "attendance": [{"member_id": str(m.id)} for m in members],
        "previous_measures": [{"measure_id": str(m.id)} for m in open_measures],
        "items": [{"title": title} for title in (meeting.agenda if meeting else [])],
        "recipients": [str(m.id) for m in members],
    }
    if meeting is not None and meeting.persons_needs:
        # "først brukers egen beskrivelse" (002, 003): what the person (or a guardian) wrote before
        # the meeting, for the minute-taker to start from
        values["persons_account"] = meeting.persons_needs
    plan = adopted_plan(session, case.id)
    if plan is not None:  # the plan's goals, to record what changed in the meeting
        values["goal_changes"] = [{"goal_id": str(g.id), "status": g.status} for g in goals_of(session, plan)
                                  if g.status == "active"]
    return values


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
    """The agenda proposed to the coordinator. With the setting ``plan_is_agenda`` (001, 002) and an
    adopted plan, the plan's goals and the measures due by the meeting are the matters."""
    meeting = _meeting(session, data)
    items = []
    if meeting is not None and meeting.number == 1:
        items.append({"title": "Gjennomgang av retningslinjer for møtene"})
    plan = adopted_plan(session, case.id)
    if plan is not None and get_setting(session, "plan_is_agenda"):
        items += plan_agenda(session, plan, meeting.starts_at.astimezone(OSLO).date()
                             if meeting is not None and meeting.starts_at else today)
    elif plan is not None or case.individual_plan == "yes":
        items.append({"title": "Den individuelle planen: mål og tiltak"})
    if meeting is not None:
        items += [{"title": m.title} for m in meeting.matters if m.on_agenda]
    return {"agenda": items}


def plan_agenda(session: Session, plan, day: date) -> list[dict]:
    """Matters from the plan: each goal that applies, then each open measure due by ``day``."""
    items = [{"title": f"Mål: {g.text}"[:300]} for g in goals_of(session, plan) if g.status == "active"]
    items += [{"title": f"Tiltak: {m.description} (frist {m.deadline:%d.%m.%Y})"[:300]}
              for m in measures_of(session, plan) if m.status == "open" and m.deadline <= day]
    return items


def _plan_goals_defaults(session: Session, case: Case, data: dict, today: date) -> dict:
    """A revision (or a second round after "must be changed") starts from the plan as it is."""
    plan = current_plan(session, case.id)
    if plan is None:
        return {}
    values = {key: (plan.content or {}).get(key) for key in SECTIONS if (plan.content or {}).get(key)}
    values["goal_changes"] = [{"goal_id": str(g.id), "status": g.status} for g in goals_of(session, plan)
                              if g.status == "active"]
    return values


def _plan_measures_defaults(session: Session, case: Case, data: dict, today: date) -> dict:
    plan = current_plan(session, case.id)
    if plan is None:
        return {}
    return {"measure_progress": [{"measure_id": str(m.id), "status": "open"} for m in measures_of(session, plan)
                                 if m.status == "open"]}


def _plan_adopt_defaults(session: Session, case: Case, data: dict, today: date) -> dict:
    """The period from today, the revision after ``plan_revision_months`` (or the dates already set)."""
    from dateutil.relativedelta import relativedelta
    plan = current_plan(session, case.id)
    months = int(get_setting(session, "plan_revision_months"))
    start = plan.period_from if plan is not None and plan.period_from else today
    values = {"period_from": start.isoformat(),
              "revision_due_on": (today + relativedelta(months=months)).isoformat()}
    if plan is not None and plan.period_to:
        values["period_to"] = plan.period_to.isoformat()
    return values


def _plan_context(session: Session, case: Case, data: dict) -> tuple[str, dict]:
    """Beside the plan's steps and the meeting's plan steps: the plan as it stands."""
    plan = current_plan(session, case.id)
    return "plans/context_plan.html", {
        "plan": plan, "snapshot": snapshot(session, plan) if plan is not None else None,
        "kind_label": KIND_LABELS.get(plan.kind) if plan is not None else None}


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
    "plan_goals": _plan_goals_defaults,
    "plan_measures": _plan_measures_defaults,
    "plan_adopt": _plan_adopt_defaults,
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
    "plan": _plan_context,
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


def _plan_goals_check(session: Session, case: Case, data: dict, submitted: dict, now: datetime) -> dict[str, str]:
    from webapp.plans.rules import goals_errors
    return goals_errors(session, current_plan(session, case.id), submitted)


def _plan_measures_check(session: Session, case: Case, data: dict, submitted: dict, now: datetime) -> dict[str, str]:
    from webapp.plans.rules import measures_errors
    return measures_errors(session, current_plan(session, case.id), submitted)


def _plan_adoption_check(session: Session, case: Case, data: dict, submitted: dict, now: datetime) -> dict[str, str]:
    from webapp.plans.rules import adoption_errors
    return adoption_errors(submitted, now)


#: ``formCheck`` property: rules on a submitted form that need the case's data; errors per field
#: (keys as in webapp/taskforms/schema.py, '' for the whole form), the user's input kept.
CHECKS: dict[str, Callable] = {
    "meeting_minutes": _minutes_check,
    "meeting_notice": _notice_check,
    "meeting_cooperation": _cooperation_check,
    "plan_goals": _plan_goals_check,
    "plan_measures": _plan_measures_check,
    "plan_adoption": _plan_adoption_check,
}


def provider_names() -> dict[str, set[str]]:
    return {"options": set(OPTION_PROVIDERS), "defaults": set(DEFAULTS), "context": set(CONTEXTS),
            "checks": set(CHECKS)}
