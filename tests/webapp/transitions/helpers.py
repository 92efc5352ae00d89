"""A child born 10 March 2021 whose group becomes active on 12 January 2026, and walking its
transition reviews through the engine."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from tests.webapp.cases.helpers import PASSWORD, municipality
from webapp.auth.operations import create_user
from webapp.cases.models import Case, CaseMember, Unit
from webapp.cases.operations import add_member
from webapp.clock import OSLO
from webapp.engine.models import OpenTask, ScheduledStart
from webapp.transitions.models import Transition
from webapp.transitions.operations import review_key

BORN = "2021-03-10"
ACTIVE_ON = date(2026, 1, 12)

CONSENT_RENEWED = {
    "person_informed": True, "informed_on": "2026-08-20", "consent_renewed": "ja",
    "statement_composition": True, "statement_confidential": True, "statement_registration": True,
    "statement_voluntary": True, "signed_by": "Anne Berg", "signed_how": "paper", "signed_on": "2026-08-20"}


def oslo(day: date | str, hour: int = 9, minute: int = 0) -> datetime:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(day, time(hour, minute), OSLO)


def town(services) -> dict[str, int]:
    """The municipality of the case tests, plus a teacher, a kindergarten and the clock on the day
    the group becomes active."""
    services.clock.set(oslo(ACTIVE_ON))
    ids = municipality(services)
    with services.db.transaction() as s:
        ids["tor"] = create_user(s, "tor", "Tor Lærer", PASSWORD, roles=("staff",), at=services.clock.now(),
                                 email="tor@example.org").id
        kindergarten = Unit(name="Solsikken barnehage", kind="kindergarten")
        s.add(kindergarten)
        s.flush()
        ids["unit_kindergarten"] = kindergarten.id
    return ids


def add_kindergarten_member(services, users, case_id) -> int:
    with services.db.transaction() as s:
        return add_member(s, s.get(Case, case_id), "Bente Barnehage", "medlem", at=services.clock.now(),
                          email="bente@example.org", unit_id=users["unit_kindergarten"]).id


def transitions(services, case_id) -> dict[str, Transition]:
    with services.db.session() as s:
        return {t.kind: t for t in s.scalars(select(Transition).where(Transition.case_id == case_id))}


def review_task(services, transition: Transition, spec: str = "review") -> OpenTask | None:
    with services.db.session() as s:
        return s.scalar(select(OpenTask).where(OpenTask.instance_id == transition.instance_id,
                                               OpenTask.task_spec == spec))


def scheduled_start(services, transition: Transition) -> ScheduledStart | None:
    """The scheduled start of a transition's review episode."""
    with services.db.session() as s:
        return s.scalar(select(ScheduledStart).where(ScheduledStart.case_id == transition.case_id,
                                                     ScheduledStart.key == review_key(transition.id)))


def start_review(services, case_id, kind: str = "school_start") -> Transition:
    """Move the clock to the morning the review of ``kind`` starts and let the worker start what
    is due."""
    transition = transitions(services, case_id)[kind]
    services.clock.set(oslo(transition.review_from, 8))
    services.engine.fire_due_timers()
    return transitions(services, case_id)[kind]


def complete_step(services, transition: Transition, spec: str, data: dict, actor: int):
    task = review_task(services, transition, spec)
    assert task is not None, f"no open {spec} task"
    return services.engine.complete_task(task.instance_id, task.task_id, data, actor_id=actor)


def member_ids(services, case_id) -> dict[str, int]:
    with services.db.session() as s:
        return {m.name: m.id for m in s.scalars(select(CaseMember).where(CaseMember.case_id == case_id))}


def active_members(services, case_id) -> dict[str, str]:
    with services.db.session() as s:
        return {m.name: m.role for m in s.scalars(select(CaseMember).where(
            CaseMember.case_id == case_id, CaseMember.active.is_(True)))}
