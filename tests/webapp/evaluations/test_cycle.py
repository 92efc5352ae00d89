"""The evaluation cycle with a moved clock: each evaluation is a scheduled start of its episode on
its due day (no instance waits for it), due per the interval setting, the yearly need check, and
the three decisions."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from tests.webapp.cases.helpers import complete, establish, municipality, open_task
from webapp.cases.models import Case, CaseClosure
from webapp.clock import OSLO
from webapp.engine.models import ProcessInstance, ScheduledStart
from webapp.evaluations.models import Evaluation
from webapp.outbox.models import OutboxMessage
from webapp.settings.operations import change_setting
from webapp.transitions.models import Transition

ACTIVATED = datetime(2026, 1, 12, 10, 0, tzinfo=OSLO)

EVALUATION = {"composition": "Riktige tjenester er med", "atmosphere": "Godt", "efficiency": "Møtene er korte",
              "challenges": "", "work": "Tiltakene følges opp", "persons_view": "Emma er fornøyd",
              "still_needed": "ja", "decision": "continue"}
NEED_CHECK = {"persons_view": "Emma vil fortsette", "still_needed": "ja", "decision": "continue"}


@pytest.fixture
def users(services):
    return municipality(services)


def _set(services, key, value):
    with services.db.transaction() as s:
        change_setting(s, key, value, at=services.clock.now(), actor_id=None)


def _activate(services, clock, users) -> int:
    clock.set(ACTIVATED)
    return establish(services, users, until="active")


def _on(services, clock, day: date) -> None:
    """Move to 09:00 in Oslo on ``day`` and let the worker fire what is due."""
    clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=OSLO))
    services.engine.fire_due_timers()


def _scheduled(services, case_id) -> list[tuple[str, date]]:
    with services.db.session() as s:
        return [(e.kind, e.due_on) for e in s.scalars(select(Evaluation).where(
            Evaluation.case_id == case_id, Evaluation.status == "scheduled"))]


def _starts(services, case_id, process_id="evaluation") -> list[tuple[str, datetime, str | None]]:
    with services.db.session() as s:
        return [(r.status, r.due_at, r.key) for r in s.scalars(select(ScheduledStart).where(
            ScheduledStart.case_id == case_id, ScheduledStart.process_id == process_id).order_by(ScheduledStart.id))]


def _instances(services, case_id, process_id="evaluation") -> list[ProcessInstance]:
    with services.db.session() as s:
        return [i for i in s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id))
                if i.definition.process_id == process_id]


def test_yearly_interval_evaluation_falls_due_after_twelve_months(services, clock, users):
    case_id = _activate(services, clock, users)
    assert _scheduled(services, case_id) == [("evaluation", date(2027, 1, 12))]
    # no instance waits a year: the episode is a scheduled start at midnight (Oslo) of the due day
    with services.db.session() as s:
        evaluation = s.scalar(select(Evaluation).where(Evaluation.case_id == case_id))
    assert evaluation.instance_id is None and _instances(services, case_id) == []
    assert _starts(services, case_id) == [
        ("pending", datetime(2027, 1, 12, tzinfo=OSLO), f"evaluation:{evaluation.id}")]
    _on(services, clock, date(2027, 1, 11))
    assert open_task(services, case_id, "evaluate") is None and _instances(services, case_id) == []
    _on(services, clock, date(2027, 1, 12))
    task = open_task(services, case_id, "evaluate")
    assert task is not None and task.assignee_id == users["kari"]
    assert open_task(services, case_id, "need_check") is None
    with services.db.session() as s:
        assert s.get(Evaluation, evaluation.id).instance_id == task.instance_id  # linked when it started
        notice = s.scalar(select(OutboxMessage).where(OutboxMessage.subject.like("Tid for evaluering%")))
        assert notice.recipient == "kari@example.org"
    complete(services, case_id, "evaluate", EVALUATION, users["kari"])
    # the next one is a year after this evaluation, again a scheduled start
    assert _scheduled(services, case_id) == [("evaluation", date(2028, 1, 12))]
    assert [status for status, _due, _key in _starts(services, case_id)] == ["started", "pending"]
    assert [i.status for i in _instances(services, case_id)] == ["completed"]


def test_every_second_year_with_a_yearly_need_check(services, clock, users):
    _set(services, "evaluation_interval_months", "24")
    case_id = _activate(services, clock, users)
    assert _scheduled(services, case_id) == [("need_check", date(2027, 1, 12))]
    _on(services, clock, date(2027, 1, 12))
    assert open_task(services, case_id, "evaluate") is None
    complete(services, case_id, "need_check", NEED_CHECK, users["kari"])
    assert _scheduled(services, case_id) == [("evaluation", date(2028, 1, 12))]
    _on(services, clock, date(2028, 1, 11))
    assert open_task(services, case_id, "evaluate") is None
    _on(services, clock, date(2028, 1, 12))
    assert open_task(services, case_id, "evaluate") is not None


def test_every_second_year_without_need_check(services, clock, users):
    _set(services, "evaluation_interval_months", "24")
    _set(services, "need_check_yearly", False)
    case_id = _activate(services, clock, users)
    _on(services, clock, date(2027, 1, 12))
    assert open_task(services, case_id, "need_check") is None and open_task(services, case_id, "evaluate") is None
    _on(services, clock, date(2028, 1, 12))
    assert open_task(services, case_id, "evaluate") is not None


def test_decision_to_close_starts_the_closing(services, clock, users):
    case_id = _activate(services, clock, users)
    _on(services, clock, date(2027, 1, 12))
    complete(services, case_id, "evaluate", {**EVALUATION, "still_needed": "nei", "decision": "close",
                                             "decision_reason": "Målene er nådd"}, users["kari"])
    with services.db.session() as s:
        closure = s.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id))
        assert closure.initiated_by == "evaluation" and closure.request_reason == "Målene er nådd"
        assert s.get(Case, case_id).status == "active"  # until the coordinator confirms
    assert _scheduled(services, case_id) == []
    assert open_task(services, case_id, "confirm_closing", users["kari"]) is not None


def test_decision_to_change_composition_starts_a_review(services, clock, users):
    case_id = _activate(services, clock, users)
    _on(services, clock, date(2027, 1, 12))
    complete(services, case_id, "evaluate", {**EVALUATION, "decision": "change_composition",
                                             "decision_reason": "Skolen trenger PPT med"}, users["kari"])
    with services.db.session() as s:
        review = s.scalar(select(Transition).where(Transition.case_id == case_id,
                                                   Transition.kind == "composition_change"))
        assert review is not None and review.on_date == date(2027, 1, 12)
    assert _scheduled(services, case_id) == [("evaluation", date(2028, 1, 12))]


def test_closing_after_the_evaluation_cancels_what_was_scheduled(services, clock, users):
    case_id = _activate(services, clock, users)
    _on(services, clock, date(2027, 1, 12))
    complete(services, case_id, "evaluate", {**EVALUATION, "still_needed": "nei", "decision": "close",
                                             "decision_reason": "Målene er nådd"}, users["kari"])
    assert _starts(services, case_id, "transition_review")  # the reviews before the next school stages
    complete(services, case_id, "confirm_closing", {
        "confirmed": "ja", "confirmed_with": "Anne Berg", "confirmed_on": "2027-01-12",
        "reason": "Målene er nådd", "closing_meeting": "nei"}, users["kari"])
    with services.db.session() as s:
        assert s.get(Case, case_id).status == "closed"
        pending = s.scalars(select(ScheduledStart).where(ScheduledStart.case_id == case_id,
                                                         ScheduledStart.status == "pending")).all()
    assert pending == []
    assert {status for status, _due, _key in _starts(services, case_id, "transition_review")} == {"cancelled"}


def test_a_closing_not_confirmed_schedules_the_next_evaluation(services, clock, users):
    case_id = _activate(services, clock, users)
    _on(services, clock, date(2027, 1, 12))
    complete(services, case_id, "evaluate", {**EVALUATION, "still_needed": "nei", "decision": "close",
                                             "decision_reason": "Målene er nådd"}, users["kari"])
    assert _scheduled(services, case_id) == []
    complete(services, case_id, "confirm_closing", {"confirmed": "nei", "reason": "Emma vil fortsette"},
             users["kari"])
    assert _scheduled(services, case_id) == [("evaluation", date(2028, 1, 12))]
    assert [status for status, _due, _key in _starts(services, case_id)] == ["started", "pending"]
