"""Transitions planned at activation, and the review that starts on time (moved clock)."""
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.webapp.cases.helpers import establish
from tests.webapp.transitions.helpers import ACTIVE_ON, oslo, review_task, transitions
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case
from webapp.engine.models import ProcessInstance
from webapp.outbox.models import OutboxMessage
from webapp.settings.operations import change_setting
from webapp.transitions import operations as ops


def test_activation_plans_the_school_transitions_with_their_review_dates(services, users, case_id):
    found = transitions(services, case_id)
    assert {k: (t.on_date, t.review_from, t.status, t.source) for k, t in found.items()} == {
        "school_start": (date(2027, 8, 15), date(2026, 8, 15), "planned", "birth_date"),
        "lower_secondary": (date(2034, 8, 15), date(2033, 8, 15), "planned", "birth_date"),
        "upper_secondary": (date(2037, 8, 15), date(2036, 8, 15), "planned", "birth_date"),
        "adulthood": (date(2039, 3, 10), date(2038, 3, 10), "planned", "birth_date"),
    }
    with services.db.session() as s:
        episodes = {i.id: (i.definition.process_id, i.status) for i in s.scalars(select(ProcessInstance))}
        assert all(episodes[t.instance_id] == ("transition_review", "running") for t in found.values())
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "transition_planned",
                                                                AuditEvent.case_id == case_id)) == 4
    assert all(review_task(services, t) is None for t in found.values())


def test_the_review_opens_for_the_coordinator_at_the_start_of_its_day(services, users, case_id):
    school = transitions(services, case_id)["school_start"]
    services.clock.set(oslo("2026-08-14", 23, 59))
    services.engine.fire_due_timers()
    assert review_task(services, school) is None
    assert transitions(services, case_id)["school_start"].status == "planned"

    services.clock.set(oslo("2026-08-15", 0, 1))
    services.engine.fire_due_timers()
    task = review_task(services, school)
    assert task is not None and task.assignee_id == users["kari"] and task.lane == "koordinator"
    assert task.title == "Gjennomgå sammensetningen før overgangen – Skolestart 15.08.2027"
    assert transitions(services, case_id)["school_start"].status == "under_review"
    assert review_task(services, transitions(services, case_id)["lower_secondary"]) is None
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
    assert review_task(services, school) is None
    services.clock.set(oslo("2027-02-15", 0, 5))
    services.engine.fire_due_timers()
    assert review_task(services, school).assignee_id == users["kari"]


def test_past_transitions_are_left_out_and_a_passed_review_day_starts_at_once(services, users):
    case_id = establish(services, users, born="2019-05-20")  # school start 15.08.2025 has passed
    assert set(transitions(services, case_id)) == {"lower_secondary", "upper_secondary", "adulthood"}
    case_id = establish(services, users, born="2020-11-01")  # school start 15.08.2026, within 12 months
    school = transitions(services, case_id)["school_start"]
    assert (school.on_date, school.review_from, school.status) == (date(2026, 8, 15), ACTIVE_ON, "under_review")
    assert review_task(services, school).assignee_id == users["kari"]


def test_an_evaluation_can_start_a_composition_review_at_once(services, users, case_id):
    with services.db.transaction(serialised=True) as s:
        def start_episode(process_id, data):
            return services.engine.start_in(s, case_id, process_id, actor_id=users["kari"], data=data).instance_id
        transition = ops.start_composition_review(s, s.get(Case, case_id), at=services.clock.now(),
                                                  actor_id=users["kari"], start_episode=start_episode,
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
