from datetime import timedelta

from sqlalchemy import select

from tests.conftest import TEST_CALLS
from tests.webapp.engine.helpers import fire_with_two_workers, make_case
from webapp.engine.models import OpenTask, ProcessInstance
from webapp.outbox.models import OutboxMessage


def instance(services, instance_id):
    with services.db.session() as s:
        return s.get(ProcessInstance, instance_id)


def test_intermediate_and_boundary_timers_fire_on_the_moved_clock(deployed):
    services = deployed
    case_id, user_id = make_case(services)
    started = services.engine.start(case_id, "timers", actor_id=user_id)
    due = instance(services, started.instance_id).next_due_at
    assert due is not None
    assert abs((due - services.clock.now()) - timedelta(days=1)) < timedelta(seconds=5)

    assert services.engine.fire_due_timers() == 0  # not yet due
    services.clock.advance(timedelta(hours=23))
    assert services.engine.fire_due_timers() == 0
    services.clock.advance(timedelta(hours=2))
    assert services.engine.fire_due_timers() == 1
    assert TEST_CALLS == [f"count:{started.instance_id}"]
    with services.db.session() as s:
        assert [t.title for t in s.scalars(select(OpenTask))] == ["Svar"]
    # the boundary timer on "Svar" (PT2H) is now the next due time
    boundary_due = instance(services, started.instance_id).next_due_at
    assert abs((boundary_due - services.clock.now()) - timedelta(hours=2)) < timedelta(seconds=5)

    services.clock.advance(timedelta(hours=3))
    assert services.engine.fire_due_timers() == 1
    finished = instance(services, started.instance_id)
    assert finished.status == "completed" and finished.next_due_at is None
    with services.db.session() as s:
        assert s.scalars(select(OpenTask)).all() == []  # the boundary event cancelled the task
        assert s.scalars(select(OutboxMessage.subject)).all() == ["Fristen er ute"]


def test_two_workers_fire_each_timer_exactly_once(deployed, db_url):
    services = deployed
    case_id, user_id = make_case(services)
    ids = [services.engine.start(case_id, "timers", actor_id=user_id).instance_id for _ in range(6)]
    services.clock.advance(timedelta(days=2))
    counts = fire_with_two_workers(services)
    assert sum(counts) == 6
    assert sorted(TEST_CALLS) == sorted(f"count:{i}" for i in ids)  # each fired once, none twice
    for i in ids:
        assert instance(services, i).next_due_at is not None  # now waiting on the boundary timer
