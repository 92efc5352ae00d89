"""Attacks on the engine through data and diagrams at run time: each is refused, bounded or made an
incident on that one instance, and the engine (and the worker) stays healthy."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import TEST_CALLS
from tests.webapp.engine.helpers import make_case, open_tasks, poison
from webapp.engine.models import Incident, ProcessDefinition, ProcessInstance
from webapp.engine.runtime import StepFailed
from webapp.engine.serialization import LEGACY_FORMAT
from webapp.worker import run_once

#: internal text no message to a supervisor may carry
INTERNAL = ("0x", "Error(", "Traceback", "NoneType", "TypeError", "KeyError", "typename")


def incident_of(services, instance_id) -> Incident:
    with services.db.session() as s:
        return s.scalar(select(Incident).where(Incident.instance_id == instance_id, Incident.status == "open"))


def assert_plain(message: str):
    assert message and not any(marker in message for marker in INTERNAL), message


def test_a_typename_in_task_data_stays_data(deployed):
    services = deployed
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    evil = {"typename": "ScriptTask", "name": "x", "script": "open('/etc/passwd')", "~": {"typename": "UUID"}}
    services.engine.complete_task(started.instance_id, task.task_id, {"x": 4, "evil": evil}, actor_id=user_id)
    [second] = open_tasks(services, started.instance_id)
    with services.db.session() as s:
        instance = s.get(ProcessInstance, started.instance_id)
        stored = json.dumps(instance.state)
        data = services.engine.task_data(s, instance, second.task_id)
    assert '"typename": "ScriptTask"' not in stored and '"~typename": "ScriptTask"' in stored
    assert data["evil"] == evil and type(data["evil"]) is dict  # plain data back, never an object
    done = services.engine.complete_task(started.instance_id, second.task_id, {"comment": "ok"}, actor_id=user_id)
    assert done.status == "completed"


def test_states_from_before_are_read_as_plain_data(deployed):
    """A state written by the previous serializer, with a bare typename in its task data (the
    old attack), loads with that value as a plain dict."""
    services = deployed
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    with services.db.transaction() as s:
        instance = s.get(ProcessInstance, started.instance_id)
        legacy = {k: v for k, v in instance.state.items()
                  if k not in ("spec", "subprocess_specs", "serializer_version")}
        legacy["format"] = LEGACY_FORMAT
        root = legacy["tasks"][legacy["root"]]
        root["data"] = {"evil": {"typename": "ScriptTask", "name": "x"}}
        instance.state = legacy
    with services.db.session() as s:
        data = services.engine.task_data(s, s.get(ProcessInstance, started.instance_id), task.task_id)
    assert data["evil"] == {"typename": "ScriptTask", "name": "x"}
    assert services.engine.complete_task(started.instance_id, task.task_id, {"x": 1}, actor_id=user_id).status == "completed"


def test_a_poisoned_instance_becomes_an_incident_and_the_healthy_one_fires(deployed, app):
    services = deployed
    case_id, user_id = make_case(services)
    poisoned = services.engine.start(case_id, "timers", actor_id=user_id).instance_id
    healthy = services.engine.start(case_id, "timers", actor_id=user_id).instance_id
    poison(services, poisoned)
    services.clock.advance(timedelta(days=2))
    fired, _sent = run_once(app)
    assert fired == 1
    assert TEST_CALLS == [f"count:{healthy}"]
    incident = incident_of(services, poisoned)
    assert incident is not None
    assert_plain(incident.message)
    # the worker goes on: the next round still works and the poisoned one stays an incident
    services.clock.advance(timedelta(days=1))
    run_once(app)
    assert incident_of(services, poisoned) is not None


def test_an_unbounded_timer_from_data_is_an_incident_not_a_hang(deployed):
    services = deployed
    case_id, user_id = make_case(services)
    with pytest.raises(StepFailed) as failed:
        services.engine.start(case_id, "data_driven", actor_id=user_id,
                              data={"wait_for": "P99999999Y", "how_many": None})
    assert_plain(str(failed.value))
    assert "lengre enn de tillatte 10 år" in str(failed.value)
    assert "P99999999Y" not in str(failed.value)  # the value came from task data: not in the incident
    ok = services.engine.start(case_id, "data_driven", actor_id=user_id, data={"wait_for": "P3D", "how_many": None})
    with services.db.session() as s:
        due = s.get(ProcessInstance, ok.instance_id).next_due_at
    assert abs(due - (services.clock.now() + timedelta(days=3))) < timedelta(minutes=1)


def test_an_unbounded_cardinality_from_data_is_an_incident(deployed):
    services = deployed
    case_id, user_id = make_case(services)
    with pytest.raises(StepFailed) as failed:
        services.engine.start(case_id, "data_driven", actor_id=user_id,
                              data={"wait_for": "P1D", "how_many": 10 ** 6})
    assert "1000" in str(failed.value)
    assert_plain(str(failed.value))
    two = services.engine.start(case_id, "data_driven", actor_id=user_id, data={"wait_for": "P1D", "how_many": 2})
    assert len(open_tasks(services, two.instance_id)) == 2


def test_data_over_the_size_cap_is_refused_and_nothing_is_written(deployed):
    services = deployed
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    with services.db.session() as s:
        before = s.get(ProcessInstance, started.instance_id).state
    with pytest.raises(StepFailed) as failed:
        services.engine.complete_task(started.instance_id, task.task_id, {"x": 4, "note": "x" * 3_000_000},
                                      actor_id=user_id)
    assert "larger than" in str(failed.value)
    with services.db.session() as s:
        assert s.get(ProcessInstance, started.instance_id).state == before
    assert [t.task_id for t in open_tasks(services, started.instance_id)] == [task.task_id]


def test_a_hostile_expression_that_slipped_past_validation_is_an_incident(deployed):
    """Defence in depth: a stored definition whose condition reaches for BaseException (as the
    old sandbox allowed) fails that one step; the engine and the worker go on."""
    services = deployed
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    with services.db.transaction() as s:
        original = s.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "two_steps"))
        documents = {name: text.replace("y &gt; 5", "ValueError.mro()[2]") for name, text in original.documents.items()}
        assert documents != original.documents
        s.add(ProcessDefinition(process_id="two_steps", name=original.name, version=original.version + 1,
                                content_hash="hostile", source_name=original.source_name,
                                documents=documents, forms=original.forms, created_at=services.clock.now()))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    with pytest.raises(StepFailed) as failed:
        services.engine.complete_task(started.instance_id, task.task_id, {"x": 4}, actor_id=user_id)
    assert_plain(str(failed.value))
    with services.db.session() as s:
        assert s.get(ProcessInstance, started.instance_id).status == "incident"
    # the rest of the engine is unaffected
    healthy = services.engine.start(case_id, "timers", actor_id=user_id).instance_id
    services.clock.advance(timedelta(days=2))
    assert services.engine.fire_due_timers() == 1
    assert TEST_CALLS == [f"count:{healthy}"]


def test_bad_values_in_data_are_refused(deployed):
    services = deployed
    case_id, user_id = make_case(services, roles=("koordinator", "medlem"))
    started = services.engine.start(case_id, "two_steps", actor_id=user_id)
    [task] = open_tasks(services, started.instance_id)
    for bad in ({"x": 4, "f": float("nan")}, {"x": 4, "o": object()}, {"x": 4, "k": {1: "a"}}):
        with pytest.raises(StepFailed) as failed:
            services.engine.complete_task(started.instance_id, task.task_id, bad, actor_id=user_id)
        assert_plain(str(failed.value))
    with services.db.transaction() as s:
        s.execute(update(Incident).values(status="resolved"))
        s.execute(update(ProcessInstance).where(ProcessInstance.id == started.instance_id).values(status="running"))
    assert services.engine.complete_task(started.instance_id, task.task_id, {"x": 1}, actor_id=user_id).status == "completed"


def test_database_errors_never_put_content_in_an_incident_message():
    """A database error's text carries the statement's parameters (form content on PostgreSQL)."""
    from sqlalchemy.exc import StatementError

    from webapp.engine.runtime import _describe
    from webapp.engine.scripting import _plain_message

    error = StatementError("text fields cannot contain NUL", "INSERT INTO x VALUES (%(t)s)",
                           {"t": "MARKER-helsedata"}, ValueError("NUL"))
    assert "MARKER" in str(error)  # what used to reach the incident
    message, _spec = _describe(error)
    assert "MARKER" not in message and "INSERT" not in message
    assert "MARKER" not in _plain_message(error)
