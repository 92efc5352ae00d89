import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import FAILING
from tests.webapp.engine.helpers import make_case, open_tasks
from webapp.audit.models import AuditEvent
from webapp.engine.models import Incident, ProcessInstance
from webapp.engine.runtime import Conflict, StepFailed
from webapp.outbox.models import OutboxMessage


def test_start_complete_and_persist(deployed):
    services = deployed
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    assert (task.title, task.lane, task.form, task.assignee_id) == ("Første steg", "koordinator", "number.json", user_id)
    assert task.due_at == task.created_at + timedelta(days=14)

    result = services.engine.complete_task(started.instance_id, task.task_id, {"x": 4}, actor_id=user_id)
    assert result.status == "running"
    [second] = open_tasks(services, started.instance_id)
    assert (second.title, second.lane) == ("Andre steg", "medlem")  # y = 8 > 5 took the gateway branch

    # The state was persisted: a fresh engine (new spec cache) continues from the database.
    from webapp.engine.runtime import WorkflowEngine
    fresh = WorkflowEngine(services.db, services.clock, services.engine.hooks)
    with services.db.session() as s:
        instance = s.get(ProcessInstance, started.instance_id)
        data = fresh.task_data(s, instance, second.task_id)
        assert data["x"] == 4 and data["y"] == 8
        # the restored workflow runs with our evaluator, never SpiffWorkflow's plain exec/eval
        from webapp.engine.scripting import EngineScriptEngine
        assert isinstance(fresh.load_workflow(s, instance).script_engine, EngineScriptEngine)
    done = fresh.complete_task(started.instance_id, second.task_id, {"comment": "ok", "agree": "ja"}, actor_id=user_id)
    assert done.status == "completed"
    assert open_tasks(services, started.instance_id) == []
    with services.db.session() as s:
        kinds = s.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == started.instance_id)
                          .order_by(AuditEvent.id)).all()
    assert kinds == ["instance_started", "task_completed", "task_completed", "instance_completed"]


def test_small_number_ends_without_second_step(deployed):
    case_id, user_id = make_case(deployed)
    started = deployed.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(deployed, started.instance_id)
    assert deployed.engine.complete_task(started.instance_id, task.task_id, {"x": 1}, actor_id=user_id).status == "completed"


def test_orphaned_task_when_nobody_holds_the_role(deployed):
    case_id, user_id = make_case(deployed, roles=("koordinator",))
    started = deployed.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(deployed, started.instance_id)
    deployed.engine.complete_task(started.instance_id, task.task_id, {"x": 9}, actor_id=user_id)
    [second] = open_tasks(deployed, started.instance_id)
    assert second.lane == "medlem" and second.orphaned and second.assignee_id is None


def test_concurrent_completion_exactly_one_wins(deployed):
    services = deployed
    case_id, user_id = make_case(services)
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    barrier = threading.Barrier(2)
    outcomes = []

    def complete(x):
        barrier.wait()
        try:
            services.engine.complete_task(started.instance_id, task.task_id, {"x": x}, actor_id=user_id)
            outcomes.append(("ok", x))
        except Conflict as exc:
            outcomes.append(("conflict", exc.done_by_id))

    threads = [threading.Thread(target=complete, args=(x,)) for x in (7, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o[0] for o in outcomes) == ["conflict", "ok"]
    assert [o[1] for o in outcomes if o[0] == "conflict"] == [user_id]  # the view names them
    with services.db.session() as s:
        completions = s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "task_completed"))
        instance = s.get(ProcessInstance, started.instance_id)
        winner = [o[1] for o in outcomes if o[0] == "ok"][0]
        assert completions == 1
        assert services.engine.task_data(s, instance, open_tasks(services, started.instance_id)[0].task_id)["x"] == winner
    # completing again later is a clean conflict too
    with pytest.raises(Conflict):
        services.engine.complete_task(started.instance_id, task.task_id, {"x": 1}, actor_id=user_id)


def test_failing_step_rolls_back_records_incident_and_retry_resumes(deployed):
    services = deployed
    case_id, user_id = make_case(services)
    started = services.engine.start(case_id, "failing", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    with pytest.raises(StepFailed) as failed:
        services.engine.complete_task(started.instance_id, task.task_id,
                                      {"comment": "viktig", "agree": "ja"}, actor_id=user_id)
    with services.db.session() as s:
        instance = s.get(ProcessInstance, started.instance_id)
        incident = s.get(Incident, failed.value.incident_id)
        assert instance.status == "incident"
        assert incident.status == "open" and incident.task_spec == "call"
        assert "tjenesten svarte ikke" in incident.message
        assert incident.pending["data"] == {"comment": "viktig", "agree": "ja"}
        # nothing of the failed step was written: the task is still open, no completion, no mail
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "task_completed")) == 0
        assert s.scalar(select(func.count(OutboxMessage.id))) == 0
    assert [t.task_id for t in open_tasks(services, started.instance_id)] == [task.task_id]

    with pytest.raises(StepFailed):  # still broken: the same incident is updated, not duplicated
        services.engine.retry(failed.value.incident_id, actor_id=None)
    FAILING["on"] = False
    result = services.engine.retry(failed.value.incident_id, actor_id=None)
    assert result.status == "completed"
    with services.db.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 1
        assert s.get(Incident, failed.value.incident_id).status == "resolved"
        assert s.scalar(select(func.count(OutboxMessage.id))) == 1
    assert open_tasks(services, started.instance_id) == []
    with pytest.raises(Conflict):
        services.engine.retry(failed.value.incident_id, actor_id=None)


def test_cancel_removes_open_tasks(deployed):
    case_id, user_id = make_case(deployed)
    started = deployed.engine.start(case_id, "two_steps", actor_id=user_id)
    deployed.engine.cancel(started.instance_id, "samtykke trukket", actor_id=user_id)
    assert open_tasks(deployed, started.instance_id) == []
    with deployed.db.session() as s:
        instance = s.get(ProcessInstance, started.instance_id)
        assert (instance.status, instance.status_reason) == ("cancelled", "samtykke trukket")


def test_reassign_hands_steps_over_or_marks_them_orphaned(deployed):
    services = deployed
    case_id, first = make_case(services, roles=("koordinator",))
    started = services.engine.start(case_id, "two_steps", actor_id=first)
    [task] = open_tasks(services, started.instance_id)
    assert task.assignee_id == first
    from webapp.cases.models import CaseMember
    from webapp.cases.operations import remove_member

    with services.db.transaction() as s:  # the only holder leaves: nobody can do the step
        [member] = s.scalars(select(CaseMember).where(CaseMember.case_id == case_id)).all()
        remove_member(s, member, "Sluttet", at=services.clock.now(), actor_id=None)
        assert services.engine.reassign(s, case_id, lane="koordinator", from_user_id=first) == 1
    [task] = open_tasks(services, started.instance_id)
    assert (task.assignee_id, task.orphaned) == (None, True)
    _other_case, second = make_case(services, roles=("medlem",), username="ola")
    from webapp.cases.operations import add_member
    from webapp.cases.models import Case

    with services.db.transaction() as s:  # a new holder takes the orphaned step
        add_member(s, s.get(Case, case_id), "Ola", "koordinator", at=services.clock.now(), user_id=second)
        assert services.engine.reassign(s, case_id, lane="koordinator", from_user_id=first) == 1
    [task] = open_tasks(services, started.instance_id)
    assert (task.assignee_id, task.orphaned) == (second, False)
