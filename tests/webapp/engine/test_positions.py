"""Where an episode stands in its diagram (webapp/engine/positions.py): done and current element
ids from the stored state, and the diagram's elements in order."""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from tests.webapp.engine.helpers import make_case
from webapp.engine import positions
from webapp.engine.models import OpenTask, ProcessInstance
from webapp.engine.serialization import LEGACY_FORMAT


def _instance(services, instance_id):
    with services.db.session() as s:
        instance = s.get(ProcessInstance, instance_id)
        return instance, services.engine.specs.get(instance.definition)


def test_a_new_episode_has_passed_its_start_and_waits_at_its_first_step(deployed):
    case_id, user_id = make_case(deployed)
    started = deployed.engine.start(case_id, "two_steps", actor_id=user_id)
    instance, (spec, subs) = _instance(deployed, started.instance_id)
    where = positions.element_states(spec, instance.state, subs)
    assert where.current == ("first",)
    assert "start" in where.done and "first" not in where.done
    assert not {"Start", "End", "two_steps.EndJoin"} & set(where.done)  # SpiffWorkflow's own tasks


def test_a_completed_step_is_done_and_the_next_is_current(deployed):
    case_id, user_id = make_case(deployed, roles=("koordinator", "medlem"))
    started = deployed.engine.start(case_id, "two_steps", actor_id=user_id)
    with deployed.db.session() as s:
        task = s.scalar(select(OpenTask).where(OpenTask.instance_id == started.instance_id))
    deployed.engine.complete_task(started.instance_id, task.task_id, {"x": 4}, actor_id=user_id)
    instance, (spec, subs) = _instance(deployed, started.instance_id)
    where = positions.element_states(spec, instance.state, subs)
    assert {"start", "first", "double", "big"} <= set(where.done)  # the script task and the gateway passed
    assert where.current == ("second",)
    assert not {"end_big", "end_small", "second"} & set(where.done)


def test_positions_map_task_states_to_element_ids():
    class Spec:
        def __init__(self, bpmn_id):
            self.bpmn_id = bpmn_id

    class ProcessSpec:
        task_specs = {"Start": Spec(None), "a": Spec("a"), "mi": Spec("b"), "b [child]": Spec("b"),
                      "c": Spec("c"), "d": Spec("d"), "e": Spec("e")}

    found = positions.positions(ProcessSpec(), [
        ("Start", TaskState.COMPLETED), ("a", TaskState.COMPLETED), ("mi", TaskState.STARTED),
        ("b [child]", TaskState.COMPLETED), ("b [child]", TaskState.READY), ("c", TaskState.LIKELY),
        ("d", TaskState.WAITING), ("e", TaskState.CANCELLED), ("unknown", TaskState.READY)])
    assert found.done == ("a", "b")
    assert found.current == ("b", "d")  # a multi-instance step with one instance left is both


def test_an_unreadable_state_has_no_positions_rather_than_an_error(deployed):
    case_id, user_id = make_case(deployed)
    started = deployed.engine.start(case_id, "two_steps", actor_id=user_id)
    _instance_row, (spec, subs) = _instance(deployed, started.instance_id)
    assert positions.element_states(spec, {"serializer_version": "0.0", "tasks": "nonsense"}, subs) == \
        positions.Positions((), ())
    assert positions.element_states(spec, None) == positions.Positions((), ())


def test_an_older_layout_is_read_by_restoring_the_workflow(deployed):
    case_id, user_id = make_case(deployed)
    started = deployed.engine.start(case_id, "two_steps", actor_id=user_id)
    instance, (spec, subs) = _instance(deployed, started.instance_id)
    legacy = {k: v for k, v in instance.state.items()
              if k not in ("spec", "subprocess_specs", "serializer_version")}
    legacy["format"] = LEGACY_FORMAT  # as states were written before the serializer version was kept
    assert positions.element_states(spec, legacy, subs) == positions.element_states(spec, instance.state, subs)


def test_elements_come_in_the_order_met_from_the_start_once_each(services):
    from tests.webapp.cases.helpers import municipality
    from webapp.workbench.operations import version
    municipality(services)
    with services.db.session() as s:
        spec, _subs = services.engine.specs.get(version(s, "establishment", content=True))
    found = positions.elements(spec)
    ids = [e.bpmn_id for e in found]
    assert ids[:3] == ["start", "appoint", "record_appointment"]
    assert len(ids) == len(set(ids))
    confirm = next(e for e in found if e.bpmn_id == "confirm")  # a multi-instance step: one element
    assert confirm.human and confirm.name == "Bekreft deltakelse og avklar mandat"
    assert not next(e for e in found if e.bpmn_id == "consent_given").human
