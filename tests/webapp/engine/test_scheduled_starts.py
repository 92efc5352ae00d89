"""Episodes start when they fall due: a scheduled start becomes an instance of the version
current then, exactly once, also with two workers at the same time."""
from __future__ import annotations

import shutil
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.conftest import DIAGRAMS, deploy_test_diagrams
from tests.statements import counting
from tests.webapp.engine.helpers import fire_with_two_workers, make_case
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case
from webapp.auth.models import User
from webapp.cases.operations import (add_member, appoint_coordinator, coordinator_user, current_coordinator,
                                     remove_member)
from webapp.cases.roles import resolve_role
from webapp.engine.models import OpenTask, ProcessInstance, ScheduledStart
from webapp.engine.runtime import START_BATCH
from webapp.transitions.models import Transition


def schedule(services, case_id, process_id, due_in: timedelta, data=None, key=None) -> int:
    with services.db.transaction() as s:
        return services.engine.schedule_in(s, case_id, process_id, services.clock.now() + due_in,
                                           data or {}, key=key)


def deploy_renamed_version(services, tmp_path) -> None:
    """Version 2 of ``two_steps``: its first step renamed "Første steg (ny)"."""
    changed = tmp_path / "v2"
    shutil.copytree(DIAGRAMS, changed)
    path = changed / "two_steps.bpmn"
    path.write_text(path.read_text().replace('name="Første steg"', 'name="Første steg (ny)"'))
    deploy_test_diagrams(services, changed, DIAGRAMS / "forms")


def test_nothing_runs_before_it_is_due_and_the_then_current_version_starts(services, tmp_path):
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    row_id = schedule(services, case_id, "two_steps", timedelta(days=400), {"x": 3}, key="review:1")
    assert services.engine.fire_due_timers() == 0
    with services.db.session() as s:
        assert s.scalar(select(func.count(ProcessInstance.id))) == 0

    deploy_renamed_version(services, tmp_path)  # a new version is deployed while the start waits

    services.clock.advance(timedelta(days=401))
    assert services.engine.fire_due_timers() == 1
    with services.db.session() as s:
        row = s.get(ScheduledStart, row_id)
        instance = s.get(ProcessInstance, row.instance_id)
        assert (row.status, instance.definition.version) == ("started", 2)
        assert [t.title for t in s.scalars(select(OpenTask).where(OpenTask.instance_id == instance.id))] == [
            "Første steg (ny)"]
        assert services.engine.task_data(s, instance, s.scalar(select(OpenTask.task_id)))["x"] == 3
    assert services.engine.fire_due_timers() == 0  # exactly once


def test_cancelled_starts_never_run(services):
    deploy_test_diagrams(services)
    case_id, _user_id = make_case(services)
    schedule(services, case_id, "two_steps", timedelta(days=1), key="a")
    schedule(services, case_id, "two_steps", timedelta(days=1), key="b")
    with services.db.transaction() as s:
        assert services.engine.cancel_scheduled_in(s, case_id, key="a", reason="Overgangen er avbrutt") == 1
    services.clock.advance(timedelta(days=2))
    assert services.engine.fire_due_timers() == 1
    with services.db.session() as s:
        statuses = dict(s.execute(select(ScheduledStart.key, ScheduledStart.status)).all())
    assert statuses == {"a": "cancelled", "b": "started"}


def test_two_workers_start_each_scheduled_episode_exactly_once(services):
    deploy_test_diagrams(services)
    case_id, _user_id = make_case(services)
    ids = [schedule(services, case_id, "two_steps", timedelta(hours=1), {"x": i}) for i in range(8)]
    services.clock.advance(timedelta(hours=2))
    counts = fire_with_two_workers(services)
    assert sum(counts) == 8
    with services.db.session() as s:
        rows = s.scalars(select(ScheduledStart).where(ScheduledStart.id.in_(ids))).all()
        assert {r.status for r in rows} == {"started"}
        assert len({r.instance_id for r in rows}) == 8
        assert s.scalar(select(func.count(ProcessInstance.id))) == 8


def test_a_start_that_fails_keeps_its_instance_with_an_incident(services):
    deploy_test_diagrams(services)
    case_id, _user_id = make_case(services)
    schedule(services, case_id, "data_driven", timedelta(minutes=5), {"wait_for": "P99999999Y", "how_many": None})
    schedule(services, case_id, "two_steps", timedelta(minutes=5), {"x": 1})
    services.clock.advance(timedelta(minutes=10))
    assert services.engine.fire_due_timers() == 2
    with services.db.session() as s:
        statuses = sorted(s.scalars(select(ProcessInstance.status)).all())
        assert statuses == ["incident", "running"]
        assert s.scalar(select(func.count(ScheduledStart.id)).where(ScheduledStart.status == "pending")) == 0
        incident_instance = s.scalar(select(ProcessInstance).where(ProcessInstance.status == "incident"))
        assert incident_instance.definition.process_id == "data_driven"


def test_due_starts_are_started_a_batch_per_commit_each_once(services):
    """The worker starts due episodes a few per transaction (``_start_batch``): one commit per
    batch; a start that fails in a batch keeps its instance with an incident, and the others of
    its batch start once (the batch is redone one by one)."""
    deploy_test_diagrams(services)
    case_id, _user_id = make_case(services)
    healthy = [schedule(services, case_id, "two_steps", timedelta(minutes=5), {"x": i})
               for i in range(START_BATCH + 2)]
    services.clock.advance(timedelta(minutes=10))
    with counting(services.db.engine) as counts:
        assert services.engine.start_due_scheduled() == len(healthy)
    assert counts.commits == 2  # a full batch and the two left over
    failing = schedule(services, case_id, "data_driven", timedelta(minutes=5), {"wait_for": "P99999999Y", "how_many": None})
    more = [schedule(services, case_id, "two_steps", timedelta(minutes=5), {"x": i}) for i in range(3)]
    services.clock.advance(timedelta(minutes=10))
    assert services.engine.start_due_scheduled() == 4
    with services.db.session() as s:
        rows = {r.id: r for r in s.scalars(select(ScheduledStart))}
        assert {rows[i].status for i in healthy + more + [failing]} == {"started"}
        instances = {rows[i].instance_id for i in healthy + more + [failing]}
        assert len(instances) == len(healthy) + len(more) + 1  # one instance each: none started twice
        assert s.scalar(select(func.count(ProcessInstance.id))) == len(instances)
        assert s.get(ProcessInstance, rows[failing].instance_id).status == "incident"
        assert {s.get(ProcessInstance, rows[i].instance_id).status for i in healthy + more} == {"running"}


def test_a_batch_writes_its_instances_and_marks_its_starts_in_one_statement_each(services):
    """What every start of a batch needs is written or read once for the batch: the instances'
    rows (one INSERT on PostgreSQL), the cases and their members (one query each, for the handlers
    and the lanes), the audit events (one INSERT at the end), the steps' states and open tasks
    (one statement each) and the starts marked as started (one UPDATE at commit), whatever the
    batch's size."""
    deploy_test_diagrams(services)
    cases = [make_case(services, username=f"user{i}")[0] for i in range(START_BATCH)]
    rows = [schedule(services, case_id, "two_steps", timedelta(minutes=5), {"x": i}) for i, case_id in enumerate(cases)]
    services.clock.advance(timedelta(minutes=10))
    with counting(services.db.engine) as counts:
        assert services.engine.start_due_scheduled() == START_BATCH
    assert counts.commits == 1

    def statements(start: str) -> int:
        return sum(1 for sql in counts.statements if sql.startswith(start))

    # SQLite does not promise RETURNING's rows in the order of the VALUES, so there the ORM
    # inserts row by row (no round trips to save on an embedded database)
    expected = 1 if services.db.dialect == "postgresql" else START_BATCH
    assert statements("INSERT INTO process_instances") == expected, counts.report()
    assert statements("UPDATE scheduled_starts") == 1, counts.report()
    assert statements("INSERT INTO audit_events") == 1, counts.report()  # the batch's events together
    # the steps' states and open tasks (step_writes.together)
    assert statements("UPDATE process_instances") == 1, counts.report()
    assert statements("INSERT INTO open_tasks") == 1, counts.report()
    assert statements("SELECT case_members") == 1, counts.report()  # the lanes' holders, from the cases' members
    assert sum(1 for sql in counts.statements if " FROM cases " in sql and "cases.id IN" in sql) == 1, counts.report()
    with services.db.session() as s:
        started = {row.id: row for row in s.scalars(select(ScheduledStart).where(ScheduledStart.id.in_(rows)))}
        instances = {row.instance_id: row.case_id for row in started.values()}
        assert {row.status for row in started.values()} == {"started"}
        assert len(instances) == START_BATCH
        assert {i.id: i.case_id for i in s.scalars(select(ProcessInstance))} == instances  # each its own case
        started_events = s.execute(select(AuditEvent.instance_id, AuditEvent.case_id)
                                   .where(AuditEvent.kind == "instance_started").order_by(AuditEvent.id)).all()
        assert dict(started_events) == instances and len(started_events) == START_BATCH


def test_the_prepared_rows_stay_in_the_session_for_the_batch(services):
    """``prepare_batch`` reads the batch's cases with their members and coordinators, and the rows
    their start data name, once; a handler then finds each in the session without a query of its
    own (the identity map alone would let them go), and what the batch changes of the members
    and coordinators is seen at once. Start data naming nothing it knows, or naming it wrongly,
    is passed by."""
    made = [make_case(services, username=f"user{i}") for i in range(3)]
    cases = [case_id for case_id, _user_id in made]
    with services.db.transaction() as s:
        appoint_coordinator(s, s.get(Case, cases[0]), s.get(User, made[0][1]), kind="coordinator",
                            at=services.clock.now(), actor_id=None)
        transition = Transition(case_id=cases[0], kind="school", on_date=date(2027, 8, 16),
                                review_from=date(2027, 2, 1), source="manual", status="planned", handover=[],
                                agenda_pending=False, created_at=services.clock.now())
        s.add(transition)
        s.flush()
        transition_id = transition.id
    starts = [(cases[0], {"transition_id": transition_id}), (cases[1], {"transition_id": "7", "evaluation": "x"}),
              (cases[2], {"plan": {"plan_id": None}, "meeting_id": True}), (cases[2], ["not", "a", "record"])]
    with services.db.transaction(serialised=True) as s:
        with counting(services.db.engine) as preparing:
            services.engine.hooks.prepare_batch(s, starts)
        # the cases, their members, their appointments with the users, the transitions
        assert len(preparing) == 4, preparing.report()
        with counting(services.db.engine) as counts:
            found = [s.get(Case, case_id) for case_id in cases]
            named = s.get(Transition, transition_id)
            holders = [resolve_role(s, case_id, "koordinator") for case_id in cases]  # the lanes, from the members
            coordinators = [coordinator_user(s, case_id) for case_id in cases]
        assert [case.id for case in found] == cases and named.case_id == cases[0]
        assert holders == [[user_id] for _case_id, user_id in made]
        assert [user.id if user else None for user in coordinators] == [made[0][1], None, None]
        assert len(counts) == 0, counts.report()
        # a coordinator appointed during the batch is the current one at once
        appoint_coordinator(s, found[0], s.get(User, made[2][1]), kind="coordinator", at=services.clock.now(),
                            actor_id=None)
        assert coordinator_user(s, cases[0]).id == current_coordinator(s, cases[0]).user_id == made[2][1]
        # a member joining during the batch holds the lane at once; one leaving no longer does
        add_member(s, found[0], "Ny Koordinator", "koordinator", at=services.clock.now(), user_id=made[1][1])
        remove_member(s, found[1].members[0], "Sluttet", at=services.clock.now(), actor_id=None)
        assert resolve_role(s, cases[0], "koordinator") == sorted([made[1][1], made[2][1]])  # made[0] left
        assert resolve_role(s, cases[1], "koordinator") == []


def test_a_batch_starts_the_version_current_when_it_runs(services, tmp_path):
    """The batch reads each process's current version in one query: a version deployed while
    the starts wait is the one they start, and each process gets its own."""
    deploy_test_diagrams(services)
    case_id, _user_id = make_case(services, roles=("koordinator", "medlem"))
    waiting = [schedule(services, case_id, "two_steps", timedelta(days=3), {"x": i}) for i in range(2)]
    waiting.append(schedule(services, case_id, "timers", timedelta(days=3)))
    deploy_renamed_version(services, tmp_path)
    services.clock.advance(timedelta(days=4))
    with counting(services.db.engine) as counts:
        assert services.engine.start_due_scheduled() == 3
    assert counts.commits == 1  # one batch
    assert sum(1 for sql in counts.statements if "FROM process_definitions" in sql and " JOIN " in sql) == 1
    with services.db.session() as s:
        versions = [(i.definition.process_id, i.definition.version) for i in s.scalars(
            select(ProcessInstance).join(ScheduledStart, ScheduledStart.instance_id == ProcessInstance.id)
            .where(ScheduledStart.id.in_(waiting)).order_by(ScheduledStart.id))]
    assert versions == [("two_steps", 2), ("two_steps", 2), ("timers", 1)]
