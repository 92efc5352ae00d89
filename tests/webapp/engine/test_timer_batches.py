"""The worker fires due timers a few instances per transaction (``WorkflowEngine._fire_batch``):
one commit per batch, each instance stepped exactly once, and a failing instance in a batch
still becomes an incident of its own while the others fire. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import TEST_CALLS
from tests.statements import counting
from tests.webapp.engine.helpers import make_case, poison
from webapp.audit.models import AuditEvent
from webapp.engine.models import Incident, ProcessInstance
from webapp.engine.runtime import TIMER_BATCH


def _started(services, count: int) -> list[int]:
    case_id, user_id = make_case(services)
    return [services.engine.start(case_id, "timers", actor_id=user_id).instance_id for _ in range(count)]


def _checked(services, ids) -> dict[int, int]:
    """How many times each instance's timers were checked (one audit event per step)."""
    with services.db.session() as s:
        found = dict(s.execute(select(AuditEvent.instance_id, func.count())
                               .where(AuditEvent.kind == "timers_checked", AuditEvent.instance_id.in_(ids))
                               .group_by(AuditEvent.instance_id)).all())
    return {i: found.get(i, 0) for i in ids}


def test_due_timers_are_fired_a_batch_per_commit_each_once(deployed):
    services = deployed
    ids = _started(services, TIMER_BATCH + 2)
    services.clock.advance(timedelta(days=2))
    with counting(services.db.engine) as counts:
        fired = services.engine.fire_due_timers()
    assert fired == len(ids)
    assert counts.commits == 2  # a full batch and the two left over
    # each batch's audit events are written in one statement at its end
    assert sum(1 for sql in counts.statements if sql.startswith("INSERT INTO audit_events")) == 2, counts.report()
    # and its instances' states (step_writes.together)
    assert sum(1 for sql in counts.statements if sql.startswith("UPDATE process_instances")) == 2, counts.report()
    assert _checked(services, ids) == dict.fromkeys(ids, 1)
    assert sorted(TEST_CALLS) == sorted(f"count:{i}" for i in ids)  # each timer's service step ran once


def test_a_failing_instance_in_a_batch_is_an_incident_and_the_others_fire_once(deployed):
    services = deployed
    ids = _started(services, 4)
    broken = ids[2]  # after two healthy ones in the same batch
    poison(services, broken)
    services.clock.advance(timedelta(days=2))
    assert services.engine.fire_due_timers() == 3
    healthy = [i for i in ids if i != broken]
    assert _checked(services, healthy) == dict.fromkeys(healthy, 1)  # the batch's work was not kept twice
    with services.db.session() as s:
        assert s.scalar(select(Incident.status).where(Incident.instance_id == broken)) == "open"
        assert s.get(ProcessInstance, broken).status == "incident"
