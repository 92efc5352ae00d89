"""Options that forms take from the database (``"x-options": "<name>"`` in a form schema)."""
from __future__ import annotations

from datetime import date
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember, Unit
from webapp.cases.operations import current_coordinator
from webapp.settings.operations import get_setting


def _staff_users(session: Session, case: Case | None, today: date):
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name))
    return [(str(u.id), u.full_name) for u in users if u.has_role("staff")]


def _units(session: Session, case: Case | None, today: date):
    return [(str(u.id), u.name) for u in session.scalars(select(Unit).order_by(Unit.name))]


def _coordinator_kinds(session: Session, case: Case | None, today: date):
    """Who may lead the group, by the municipality's settings and the person's age."""
    age = case.person.age_on(today) if case is not None and case.person is not None else None
    if get_setting(session, "leader_by_age_stage") and age is not None:
        # guideline 001: before school age the health nurse, in primary school the school,
        # from upper secondary the coordinator
        if age < 6:
            kinds = [("health_nurse", _l("Helsesykepleier leder gruppen (før skolealder)"))]
        elif age < 16:
            kinds = [("school", _l("Skolen leder gruppen (grunnskole)"))]
        else:
            kinds = [("coordinator", _l("Koordinator"))]
    else:
        kinds = [("coordinator", _l("Koordinator"))]
        if age is None or age < int(get_setting(session, "child_coordinator_below_age")):
            kinds.append(("child_coordinator", _l("Barnekoordinator")))
    if get_setting(session, "uses_relay_log") and (age is None or age < int(get_setting(session, "relay_log_max_age"))):
        kinds.append(("relay_holder", _l("Stafettholder (stafettlogg)")))
    return kinds


def _case_members(session: Session, case: Case | None, today: date):
    if case is None:
        return []
    members = session.scalars(select(CaseMember).where(CaseMember.case_id == case.id,
                                                       CaseMember.active.is_(True)).order_by(CaseMember.id))
    return [(str(m.id), m.name) for m in members]


def _minute_takers(session: Session, case: Case | None, today: date):
    from webapp.meetings.operations import eligible_minute_takers
    return [(str(m.id), m.name) for m in eligible_minute_takers(session, case.id)] if case else []


def _open_measures(session: Session, case: Case | None, today: date):
    from webapp.meetings.models import Measure
    if case is None:
        return []
    rows = session.scalars(select(Measure).where(Measure.case_id == case.id, Measure.status == "open")
                           .order_by(Measure.deadline))
    return [(str(m.id), f"{m.description[:80]} ({m.deadline:%d.%m.%Y})") for m in rows]


def _flagged_matters(session: Session, case: Case | None, today: date):
    from webapp.meetings.models import Matter
    from webapp.meetings.operations import current_meeting
    meeting = current_meeting(session, case.id) if case else None
    if meeting is None:
        return []
    rows = session.scalars(select(Matter).where(Matter.meeting_id == meeting.id, Matter.excluded_kind.is_not(None)))
    return [(str(m.id), m.title) for m in rows]


def _transition_leaving_members(session: Session, case: Case | None, today: date):
    """Members who can leave at a transition (not the person; the coordinator changes separately)."""
    if case is None:
        return []
    members = session.scalars(select(CaseMember).where(
        CaseMember.case_id == case.id, CaseMember.active.is_(True),
        CaseMember.role.not_in(("bruker", "koordinator"))).order_by(CaseMember.id))
    return [(str(m.id), m.name) for m in members]


def _coordinator_candidates(session: Session, case: Case | None, today: date):
    """Staff users who could take over as coordinator (not the current one)."""
    current = current_coordinator(session, case.id) if case is not None else None
    return [(v, label) for v, label in _staff_users(session, case, today)
            if current is None or v != str(current.user_id)]


def _plan_goals(session: Session, case: Case | None, today: date):
    """The goals of the group's current plan that still apply (none: the group has no plan)."""
    from webapp.plans.operations import current_plan, goals_of
    plan = current_plan(session, case.id) if case is not None else None
    if plan is None:
        return []
    terms = {"long": _l("langsiktig"), "short": _l("kortsiktig")}
    return [(str(g.id), f"{g.text[:80]} ({terms.get(g.term, g.term)})") for g in goals_of(session, plan)
            if g.status == "active"]


def _plan_measures(session: Session, case: Case | None, today: date):
    """The open measures of the group's current plan."""
    from webapp.plans.operations import current_plan, measures_of
    plan = current_plan(session, case.id) if case is not None else None
    if plan is None:
        return []
    return [(str(m.id), f"{m.description[:80]} ({m.deadline:%d.%m.%Y})") for m in measures_of(session, plan)
            if m.status == "open"]


PROVIDERS: dict[str, Callable] = {
    "plan_goals": _plan_goals,
    "plan_measures": _plan_measures,
    "transition_leaving_members": _transition_leaving_members,
    "coordinator_candidates": _coordinator_candidates,
    "minute_takers": _minute_takers,
    "open_measures": _open_measures,
    "flagged_matters": _flagged_matters,
    "staff_users": _staff_users,
    "units": _units,
    "coordinator_kinds": _coordinator_kinds,
    "case_members": _case_members,
}


def option_source(session: Session, case: Case | None, today: date) -> Callable[[str], list[tuple[str, str]]]:
    """The ``options`` callable the form functions take, bound to a case."""
    cache: dict[str, list] = {}

    def options(name: str) -> list[tuple[str, str]]:
        if name not in cache:
            provider = PROVIDERS.get(name)
            cache[name] = provider(session, case, today) if provider else []
        return cache[name]

    return options
