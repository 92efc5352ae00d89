"""Migration 0003 on SQLite and PostgreSQL: a database at revision 0002 with instances waiting for a
date (an evaluation at ``wait_due``, a transition review at ``wait_review``, a meeting whose
planning has not begun) is upgraded; the waiting instances become pending scheduled starts and
are cancelled, the others are left as they were. The stored states have the shape SpiffWorkflow
3 writes (root data plus per-task changes), as the release before 0003 stored them. When they
fall due, the moved episodes start in the diagrams deployed then and link their domain rows."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.migrations import database_at, differences_from_models
from webapp import create_app
from webapp.clock import OSLO, Clock
from webapp.db import UTCDateTime
from webapp.engine.models import ProcessInstance, ScheduledStart
from webapp.engine.operations import deploy_library
from webapp.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]

UTC = UTCDateTime(timezone=True)
T = sa.table
c = sa.column
cases = T("cases", c("id"), c("reference"), c("title"), c("status"), c("created_at", UTC))
definitions = T("process_definitions", c("id"), c("process_id"), c("name"), c("version"), c("content_hash"),
                c("source_name"), c("documents", sa.JSON), c("forms", sa.JSON), c("created_at", UTC))
instances = T("process_instances", c("id"), c("case_id"), c("definition_id"), c("status"), c("status_reason"),
              c("state", sa.JSON), c("lock_version"), c("next_due_at", UTC), c("created_at", UTC),
              c("updated_at", UTC), c("completed_at", UTC))
open_tasks = T("open_tasks", c("id"), c("case_id"), c("instance_id"), c("task_id"), c("task_spec"), c("title"),
               c("lane"), c("orphaned"), c("created_at", UTC))
evaluations = T("evaluations", c("id"), c("case_id"), c("instance_id"), c("kind"), c("due_on", sa.Date),
                c("status"), c("created_at", UTC))
transitions = T("transitions", c("id"), c("case_id"), c("instance_id"), c("kind"), c("on_date", sa.Date),
                c("review_from", sa.Date), c("source"), c("status"), c("handover", sa.JSON), c("agenda_pending"),
                c("created_at", UTC))
meetings = T("meetings", c("id"), c("case_id"), c("instance_id"), c("number"), c("status"), c("starts_at", UTC),
             c("duration_minutes"), c("agenda", sa.JSON), c("agenda_agreed_with_person"), c("invitation_sequence"),
             c("created_at", UTC))
settings = T("settings", c("key"), c("value", sa.JSON), c("updated_at", UTC))
scheduled = T("scheduled_starts", c("id"), c("case_id"), c("process_id"), c("due_at", UTC), c("data", sa.JSON),
              c("key"), c("status"), c("instance_id"), c("created_at", UTC))
audit = T("audit_events", c("id"), c("case_id"), c("instance_id"), c("kind"), c("detail", sa.JSON))

NOW = datetime.now(timezone.utc)
CREATED = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0002(request, tmp_path):
    """An empty database at revision 0002."""
    with database_at("0002", request.param, tmp_path) as url:
        yield url


def state(start_data: dict, chain: list[tuple[str, int, dict]], future: list[str] = ()) -> dict:
    """A stored workflow state: root ``Start`` with the start data, then ``chain`` of
    (task spec, SpiffWorkflow state, data updates), then FUTURE tasks (whose stored changes
    delete the inherited keys, as SpiffWorkflow writes them)."""
    ids = [str(uuid.uuid4()) for _ in range(len(chain) + len(future) + 1)]
    tasks = {ids[0]: {"id": ids[0], "parent": None, "children": [ids[1]], "state": 64, "task_spec": "Start",
                      "triggered": False, "internal_data": {}, "data": start_data, "delta": {},
                      "last_state_change": 0, "typename": "Task"}}
    known = dict(start_data)
    for n, (spec, task_state, updates) in enumerate(chain, start=1):
        known.update(updates)
        tasks[ids[n]] = {"id": ids[n], "parent": ids[n - 1], "children": [ids[n + 1]] if n + 1 < len(ids) else [],
                         "state": task_state, "task_spec": spec, "triggered": False, "internal_data": {},
                         "data": {}, "delta": {"updates": updates, "deletions": []}, "last_state_change": 0,
                         "typename": "Task"}
    for n, spec in enumerate(future, start=len(chain) + 1):
        tasks[ids[n]] = {"id": ids[n], "parent": ids[n - 1], "children": [ids[n + 1]] if n + 1 < len(ids) else [],
                         "state": 4, "task_spec": spec, "triggered": False, "internal_data": {}, "data": {},
                         "delta": {"updates": {}, "deletions": sorted(known)}, "last_state_change": 0,
                         "typename": "Task"}
    return {"data": {}, "correlations": {}, "last_task": ids[1], "success": True, "completed": False,
            "tasks": tasks, "root": ids[0], "subprocesses": {}, "bpmn_events": [], "typename": "BpmnWorkflow",
            "format": "ansvarsgruppe-1"}


def oslo(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour, 0), OSLO).astimezone(timezone.utc)


def _insert(conn, table, **values) -> int:
    return conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


def seed(url: str) -> dict:
    """One case with: an evaluation waiting for its day, one already being answered, a transition
    review waiting for its day, a meeting far ahead whose planning has not begun, one close ahead,
    and one far ahead whose planning has begun."""
    today = NOW.astimezone(OSLO).date()
    engine = sa.create_engine(url)
    ids: dict = {}
    with engine.begin() as conn:
        conn.execute(settings.insert().values(key="notice_days", value=20, updated_at=CREATED))
        case = ids["case"] = _insert(conn, cases, reference="AG-2026-0001", title="Emma", status="active",
                                     created_at=CREATED)
        defs = {p: _insert(conn, definitions, process_id=p, name=p, version=1, content_hash=p, source_name=f"{p}.bpmn",
                           documents={}, forms={}, created_at=CREATED)
                for p in ("evaluation", "transition_review", "meeting")}

        def instance(process, st, due=None, status="running"):
            return _insert(conn, instances, case_id=case, definition_id=defs[process], status=status, state=st,
                           lock_version=3, next_due_at=due, created_at=CREATED, updated_at=CREATED)

        # an evaluation due in two months, its instance waiting at the timer
        due_on = today + timedelta(days=60)
        evaluation = ids["evaluation"] = _insert(conn, evaluations, case_id=case, kind="need_check", due_on=due_on,
                                                 status="scheduled", created_at=CREATED)
        plan = {"evaluation": {"evaluation_id": evaluation, "kind": "need_check",
                               "due_at": datetime.combine(due_on, time(0), OSLO).isoformat()}}
        ids["evaluation_instance"] = instance("evaluation", state({}, [
            ("start", 64, {}), ("plan", 64, plan), ("wait_due", 8, {})], ["notify", "kind_gateway"]), oslo(due_on))
        conn.execute(evaluations.update().where(evaluations.c.id == evaluation)
                     .values(instance_id=ids["evaluation_instance"]))
        # an evaluation that fell due and is being answered: stays
        answering = _insert(conn, evaluations, case_id=case, kind="evaluation", due_on=today, status="scheduled",
                            created_at=CREATED)
        ids["answering_instance"] = instance("evaluation", state({}, [
            ("start", 64, {}), ("plan", 64, {"evaluation": {"evaluation_id": answering, "kind": "evaluation"}}),
            ("wait_due", 64, {}), ("notify", 64, {"notified": True}), ("kind_gateway", 64, {}),
            ("evaluate", 16, {})]))
        _insert(conn, open_tasks, case_id=case, instance_id=ids["answering_instance"], task_id=str(uuid.uuid4()),
                task_spec="evaluate", title="Evaluer ansvarsgruppen", lane="koordinator", orphaned=False,
                created_at=CREATED)

        # the adulthood of a one-year-old: the review waits about 16 years
        review_from = date(2042, 3, 10)
        transition = ids["transition"] = _insert(
            conn, transitions, case_id=case, kind="adulthood", on_date=date(2043, 3, 10), review_from=review_from,
            source="birth_date", status="planned", handover=[], agenda_pending=False, created_at=CREATED)
        start = {"transition_id": transition, "transition_title": "Myndig (18 år) 10.03.2043",
                 "review_at": datetime.combine(review_from, time(0), OSLO).isoformat()}
        ids["transition_instance"] = instance("transition_review", state(start, [
            ("start", 64, {}), ("wait_review", 8, {})], ["begin", "review"]), oslo(review_from))
        conn.execute(transitions.update().where(transitions.c.id == transition)
                     .values(instance_id=ids["transition_instance"]))

        # meetings: far ahead and not begun (moves); 20 days ahead (stays); far ahead but planned (stays)
        def meeting(number, day, chain, future):
            meeting_id = _insert(conn, meetings, case_id=case, number=number, status="planned",
                                 starts_at=oslo(day, 9), duration_minutes=90, agenda=[],
                                 agenda_agreed_with_person=False, invitation_sequence=0, created_at=CREATED)
            start = {"meeting_id": meeting_id, "is_first_meeting": number == 1, "duration_minutes": 90,
                     "meeting_date": day.isoformat(), "minute_taker_member_id": "3"}
            instance_id = instance("meeting", state(start, chain, future))
            conn.execute(meetings.update().where(meetings.c.id == meeting_id).values(instance_id=instance_id))
            _insert(conn, open_tasks, case_id=case, instance_id=instance_id, task_id=str(uuid.uuid4()),
                    task_spec=[spec for spec, st, _u in chain if st == 16][0], title="Planlegg møtet",
                    lane="koordinator", orphaned=False, created_at=CREATED)
            return meeting_id, instance_id

        ids["far_day"] = today + timedelta(days=120)
        ids["far"], ids["far_instance"] = meeting(1, ids["far_day"], [("start", 64, {}), ("plan", 16, {})],
                                                  ["store_plan", "needs"])
        ids["near"], ids["near_instance"] = meeting(2, today + timedelta(days=20), [("start", 64, {}), ("plan", 16, {})],
                                                    ["store_plan"])
        ids["begun"], ids["begun_instance"] = meeting(3, today + timedelta(days=120), [
            ("start", 64, {}), ("plan", 64, {"meeting_time": "10:00"}), ("store_plan", 64, {"planned": {}}),
            ("needs", 16, {})], ["store_needs"])
    engine.dispose()
    return ids


def read(url: str):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return (conn.execute(sa.select(scheduled).order_by(scheduled.c.id)).all(),
                    {r.id: r for r in conn.execute(sa.select(instances))},
                    [r.instance_id for r in conn.execute(sa.select(open_tasks))],
                    conn.execute(sa.select(audit).where(audit.c.kind == "instance_cancelled")).all(),
                    {r.id: r.instance_id for r in conn.execute(sa.select(evaluations))},
                    {r.id: r.instance_id for r in conn.execute(sa.select(transitions))},
                    {r.id: r.instance_id for r in conn.execute(sa.select(meetings))})
    finally:
        engine.dispose()


def test_waiting_instances_become_scheduled_starts(url_at_0002):
    ids = seed(url_at_0002)
    upgrade(url_at_0002)
    starts, by_id, task_owners, events, evaluation_links, transition_links, meeting_links = read(url_at_0002)

    moved = {ids["evaluation_instance"], ids["transition_instance"], ids["far_instance"]}
    assert [(s.process_id, s.key, s.status, s.case_id) for s in starts] == [
        ("evaluation", f"evaluation:{ids['evaluation']}", "pending", ids["case"]),
        ("transition_review", f"transition:{ids['transition']}", "pending", ids["case"]),
        ("meeting", f"meeting:{ids['far']}", "pending", ids["case"])]
    evaluation, review, meeting = starts
    assert evaluation.due_at == oslo(NOW.astimezone(OSLO).date() + timedelta(days=60))
    assert evaluation.data == {"evaluation": {"evaluation_id": ids["evaluation"], "kind": "need_check",
                                              "due_on": (NOW.astimezone(OSLO).date() + timedelta(days=60)).isoformat()}}
    assert review.due_at == oslo(date(2042, 3, 10))
    assert review.data == {"transition_id": ids["transition"], "transition_title": "Myndig (18 år) 10.03.2043"}
    # notice_days is 20 in this municipality: planning starts 20 + 14 days before the meeting
    assert meeting.due_at == oslo(ids["far_day"] - timedelta(days=34))
    assert meeting.data == {"meeting_id": ids["far"], "is_first_meeting": True, "duration_minutes": 90,
                            "meeting_date": ids["far_day"].isoformat(), "minute_taker_member_id": "3"}

    for instance_id, row in by_id.items():
        if instance_id in moved:
            assert (row.status, row.status_reason, row.next_due_at) == ("cancelled", "Flyttet til planlagt start", None)
            assert row.completed_at is not None
        else:
            assert (row.status, row.status_reason) == ("running", None), instance_id
    assert ids["far_instance"] not in task_owners
    assert sorted(task_owners) == sorted([ids["answering_instance"], ids["near_instance"], ids["begun_instance"]])
    assert {e.instance_id for e in events} == moved
    assert all(e.detail["reason"] == "Flyttet til planlagt start" and e.case_id == ids["case"] for e in events)
    # the new episode links itself when it starts
    assert evaluation_links[ids["evaluation"]] is None and transition_links[ids["transition"]] is None
    assert meeting_links[ids["far"]] is None and meeting_links[ids["near"]] == ids["near_instance"]


def test_moved_episodes_start_in_the_current_diagrams_when_due(url_at_0002):
    ids = seed(url_at_0002)
    upgrade(url_at_0002)
    clock = Clock()
    app = create_app({"TESTING": True, "DATABASE_URL": url_at_0002, "SECRET_KEY": "test"}, clock=clock)
    services = app.extensions["ansvarsgruppe"]
    try:
        deploy_library(services.db, clock, ROOT / "processes", ROOT / "forms", services.engine.handlers.keys())
        clock.set(oslo(date(2042, 3, 10), 9))  # everything moved is due by now
        services.engine.fire_due_timers()
        with services.db.session() as s:
            starts = s.scalars(sa.select(ScheduledStart).order_by(ScheduledStart.id)).all()
            assert [r.status for r in starts] == ["started"] * 3
            started = {r.process_id: s.get(ProcessInstance, r.instance_id) for r in starts}
            assert {p: (i.status, i.definition.version) for p, i in started.items()} == {
                "evaluation": ("running", 2), "transition_review": ("running", 2), "meeting": ("running", 2)}
        _starts, _by_id, _owners, _events, evaluation_links, transition_links, meeting_links = read(url_at_0002)
        assert evaluation_links[ids["evaluation"]] == started["evaluation"].id
        assert transition_links[ids["transition"]] == started["transition_review"].id
        assert meeting_links[ids["far"]] == started["meeting"].id
    finally:
        services.db.dispose()


def test_the_table_matches_the_model(url_at_0002):
    upgrade(url_at_0002)
    assert differences_from_models(url_at_0002, "scheduled_starts") == []
