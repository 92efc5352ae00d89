"""Transitions planned at activation with the scheduled starts of their reviews, and the review
that starts on time (moved clock) in the diagram version current then."""
import shutil
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.webapp.cases.helpers import establish
from tests.webapp.transitions.helpers import ACTIVE_ON, oslo, review_task, scheduled_start, transitions
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case
from webapp.engine.models import ProcessInstance, ScheduledStart
from webapp.engine.operations import deploy_library
from webapp.outbox.models import OutboxMessage
from webapp.settings.operations import change_setting
from webapp.transitions import operations as ops

ROOT = Path(__file__).resolve().parents[3]


def _reviews(services) -> list[ProcessInstance]:
    with services.db.session() as s:
        return [i for i in s.scalars(select(ProcessInstance)) if i.definition.process_id == "transition_review"]


def test_activation_plans_the_school_transitions_with_their_review_dates(services, users, case_id):
    found = transitions(services, case_id)
    assert {k: (t.on_date, t.review_from, t.status, t.source) for k, t in found.items()} == {
        "school_start": (date(2027, 8, 15), date(2026, 8, 15), "planned", "birth_date"),
        "lower_secondary": (date(2034, 8, 15), date(2033, 8, 15), "planned", "birth_date"),
        "upper_secondary": (date(2037, 8, 15), date(2036, 8, 15), "planned", "birth_date"),
        "adulthood": (date(2039, 3, 10), date(2038, 3, 10), "planned", "birth_date"),
    }
    # no instance waits for the day: each review is a scheduled start at midnight (Oslo) of its day
    assert _reviews(services) == [] and all(t.instance_id is None for t in found.values())
    for transition in found.values():
        start = scheduled_start(services, transition)
        assert (start.process_id, start.status, start.due_at) == (
            "transition_review", "pending", oslo(transition.review_from, 0))
        assert start.data == {"transition_id": transition.id,
                              "transition_title": f"{transition.label} {transition.on_date:%d.%m.%Y}"}
    with services.db.session() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "transition_planned",
                                                                AuditEvent.case_id == case_id)) == 4


def test_the_review_opens_for_the_coordinator_at_the_start_of_its_day(services, users, case_id):
    school = transitions(services, case_id)["school_start"]
    services.clock.set(oslo("2026-08-14", 23, 59))
    services.engine.fire_due_timers()
    assert review_task(services, school) is None
    assert transitions(services, case_id)["school_start"].status == "planned"

    services.clock.set(oslo("2026-08-15", 0, 1))
    services.engine.fire_due_timers()
    started = transitions(services, case_id)["school_start"]
    assert started.instance_id is not None and scheduled_start(services, school).instance_id == started.instance_id
    task = review_task(services, started)
    assert task is not None and task.assignee_id == users["kari"] and task.lane == "koordinator"
    assert task.title == "Gjennomgå sammensetningen før overgangen – Skolestart 15.08.2027"
    assert transitions(services, case_id)["school_start"].status == "under_review"
    assert scheduled_start(services, transitions(services, case_id)["lower_secondary"]).status == "pending"
    with services.db.session() as s:
        mail = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "kari@example.org",
                                                     OutboxMessage.subject.like("Gjennomgang før overgang%"))).all()
    assert [m.subject for m in mail] == ["Gjennomgang før overgang: Skolestart (AG-2026-0001)"]


def test_the_lead_time_is_a_setting(services, users):
    with services.db.transaction() as s:
        change_setting(s, "transition_review_months", 6, at=services.clock.now(), actor_id=None)
    case_id = establish(services, users, born="2021-03-10")
    school = transitions(services, case_id)["school_start"]
    assert school.review_from == date(2027, 2, 15)
    services.clock.set(oslo("2026-08-15"))
    services.engine.fire_due_timers()
    assert transitions(services, case_id)["school_start"].instance_id is None
    services.clock.set(oslo("2027-02-15", 0, 5))
    services.engine.fire_due_timers()
    assert review_task(services, transitions(services, case_id)["school_start"]).assignee_id == users["kari"]


def test_past_transitions_are_left_out_and_a_passed_review_day_starts_at_once(services, users):
    case_id = establish(services, users, born="2019-05-20")  # school start 15.08.2025 has passed
    assert set(transitions(services, case_id)) == {"lower_secondary", "upper_secondary", "adulthood"}
    case_id = establish(services, users, born="2020-11-01")  # school start 15.08.2026, within 12 months
    school = transitions(services, case_id)["school_start"]
    assert (school.on_date, school.review_from, school.status) == (date(2026, 8, 15), ACTIVE_ON, "under_review")
    assert review_task(services, school).assignee_id == users["kari"]
    assert scheduled_start(services, school) is None  # started in the activation's own transaction


def test_an_evaluation_can_start_a_composition_review_at_once(services, users, case_id):
    with services.db.transaction(serialised=True) as s:
        transition = ops.start_composition_review(
            s, s.get(Case, case_id), at=services.clock.now(), actor_id=users["kari"],
            start_episode=services.engine.episode_starter(s, case_id, actor_id=users["kari"]),
            schedule_episode=services.engine.episode_scheduler(s, case_id, actor_id=users["kari"]),
            reason="Evalueringen: skolen bør inn i gruppen")
        transition_id = transition.id
    found = transitions(services, case_id)["composition_change"]
    assert (found.id, found.on_date, found.review_from, found.source) == (transition_id, ACTIVE_ON, ACTIVE_ON, "evaluation")
    assert found.status == "under_review" and found.description == "Evalueringen: skolen bør inn i gruppen"
    assert review_task(services, found).assignee_id == users["kari"]


def test_next_transition_and_cancelling_the_open_ones_when_the_group_closes(services, users, case_id):
    with services.db.session() as s:
        assert ops.next_transition(s, case_id, ACTIVE_ON).kind == "school_start"
        assert ops.next_transition(s, case_id, date(2027, 8, 16)).kind == "lower_secondary"
        assert ops.next_transition(s, case_id, date(2039, 3, 11)) is None
    with services.db.transaction() as s:
        assert ops.cancel_open(s, case_id, at=services.clock.now(), actor_id=users["kari"],
                               reason="Gruppen er avsluttet") == 4
    with services.db.session() as s:
        assert ops.next_transition(s, case_id, ACTIVE_ON) is None
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "transition_cancelled")) == 4
    assert {t.status for t in transitions(services, case_id).values()} == {"cancelled"}
    with services.db.transaction() as s:
        assert ops.cancel_open(s, case_id, at=services.clock.now() + timedelta(days=1), actor_id=None, reason="x") == 0


def test_a_one_year_olds_adulthood_review_starts_in_the_version_current_then(services, users, tmp_path):
    case_id = establish(services, users, born="2025-01-12")  # one year old on 12 January 2026
    adulthood = transitions(services, case_id)["adulthood"]
    assert (adulthood.on_date, adulthood.review_from) == (date(2043, 1, 12), date(2042, 1, 12))
    start = scheduled_start(services, adulthood)
    assert (start.status, start.due_at) == ("pending", oslo("2042-01-12", 0))
    assert start.due_at - services.clock.now() > timedelta(days=365 * 15)
    # no instance waits for it: the group's running episodes are its first meeting and its
    # individual plan (waiting for consent to the plan)
    assert _reviews(services) == []
    with services.db.session() as s:
        running = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                          ProcessInstance.status == "running")).all()
        assert sorted((i.definition.process_id, i.next_due_at) for i in running) == [
            ("individual_plan", None), ("meeting", None)]

    # years later the process owner changes the review
    services.clock.set(oslo("2035-05-01"))
    shutil.copytree(ROOT / "processes", tmp_path / "processes")
    diagram = tmp_path / "processes" / "transition_review.bpmn"
    diagram.write_text(diagram.read_text(encoding="utf-8").replace(
        'name="Gjennomgå sammensetningen før overgangen"', 'name="Gå gjennom gruppen før overgangen"'),
        encoding="utf-8")
    deployed = deploy_library(services.db, services.clock, tmp_path / "processes", ROOT / "forms",
                              services.engine.handlers.keys())
    assert [(d.process_id, d.version) for d in deployed] == [("transition_review", 2)]

    services.clock.set(oslo("2042-01-11", 23, 59))
    services.engine.fire_due_timers()
    assert transitions(services, case_id)["adulthood"].status == "planned"
    services.clock.set(oslo("2042-01-12", 0, 1))
    services.engine.fire_due_timers()
    adulthood = transitions(services, case_id)["adulthood"]
    assert adulthood.status == "under_review"
    with services.db.session() as s:
        instance = s.get(ProcessInstance, adulthood.instance_id)
        assert (instance.definition.process_id, instance.definition.version) == ("transition_review", 2)
        assert s.get(ScheduledStart, start.id).status == "started"
    task = review_task(services, adulthood)
    assert task.title == "Gå gjennom gruppen før overgangen – Myndig (18 år) 12.01.2043"
