from tests.webapp.evaluations.test_cycle import *
from webapp.engine.models import ScheduledStart, ProcessInstance, Incident
from webapp.audit.models import AuditEvent

def test_dbg(services, clock, users):
    case_id = _activate(services, clock, users)
    _on(services, clock, date(2027, 1, 12))
    complete(services, case_id, "evaluate", EVALUATION, users["kari"])
    with services.db.session() as s:
        for e in s.scalars(select(Evaluation)): print("EV", e.id, e.kind, e.due_on, e.status, e.instance_id)
        for r in s.scalars(select(ScheduledStart)): print("SS", r.id, r.process_id, r.due_at, r.status, r.key, r.data)
        for i in s.scalars(select(ProcessInstance)): print("PI", i.id, i.definition.process_id, i.status, i.status_reason)
        for i in s.scalars(select(Incident)): print("INC", i.id, i.message)
    assert 0
