"""Groups that were active before the evaluation cycle and transition reviews existed get them
scheduled when the app starts; running it again schedules nothing."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from webapp.cases import operations as ops
from webapp.cases.upkeep import start_missing_cycles
from webapp.clock import OSLO
from webapp.engine.models import ProcessInstance, ScheduledStart
from webapp.evaluations.models import Evaluation
from webapp.transitions.models import Transition


def test_active_groups_from_before_get_their_cycles_once(services, users, clock):
    clock.set(datetime(2026, 3, 1, 10, 0, tzinfo=OSLO))
    with services.db.transaction() as s:
        now = clock.now()
        case = ops.register_wish(s, full_name="Ida Ås", birth_date=date(2015, 2, 1), at=now, actor_id=None)
        ops.activate(s, case, date(2026, 3, 20), at=now, actor_id=None)
        closed = ops.register_wish(s, full_name="Ole Vik", birth_date=date(2015, 2, 1), at=now, actor_id=None)
        ops.change_status(s, closed, "closed", at=now, actor_id=None)
        case_id, closed_id = case.id, closed.id
    assert start_missing_cycles(services) == 4  # the evaluation; lower and upper secondary; 18 years
    with services.db.session() as s:
        assert [(e.kind, e.due_on) for e in s.scalars(select(Evaluation).where(Evaluation.case_id == case_id))] == [
            ("evaluation", date(2027, 3, 1))]
        kinds = sorted(t.kind for t in s.scalars(select(Transition).where(Transition.case_id == case_id)))
        assert kinds == ["adulthood", "lower_secondary", "upper_secondary"]
        assert s.scalar(select(Evaluation.id).where(Evaluation.case_id == closed_id)) is None
        starts = s.scalars(select(ScheduledStart).where(ScheduledStart.case_id == case_id)).all()
        assert sorted((r.process_id, r.status) for r in starts) == [("evaluation", "pending")] + [
            ("transition_review", "pending")] * 3
        assert s.scalars(select(ProcessInstance)).all() == []  # nothing waits in an instance
    assert start_missing_cycles(services) == 0


def test_an_evaluation_overdue_after_the_upgrade_starts_on_the_next_round(services, users, clock):
    clock.set(datetime(2024, 5, 1, 10, 0, tzinfo=OSLO))
    with services.db.transaction() as s:
        case = ops.register_wish(s, full_name="Ida Ås", birth_date=date(2000, 2, 1), at=clock.now(), actor_id=None)
        ops.activate(s, case, date(2024, 5, 20), at=clock.now(), actor_id=None)
        case_id = case.id
    clock.set(datetime(2026, 3, 1, 10, 0, tzinfo=OSLO))
    assert start_missing_cycles(services) == 1  # an adult: the evaluation only, due since May 2025
    with services.db.session() as s:
        evaluation = s.scalar(select(Evaluation).where(Evaluation.case_id == case_id))
        assert (evaluation.due_on, evaluation.instance_id) == (date(2025, 5, 1), None)
    services.engine.fire_due_timers()
    with services.db.session() as s:
        evaluation = s.get(Evaluation, evaluation.id)
        instance = s.get(ProcessInstance, evaluation.instance_id)
        assert (instance.definition.process_id, instance.status) == ("evaluation", "running")
