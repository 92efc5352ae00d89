"""Workflow state without its spec.

SpiffWorkflow's serializer writes the whole process spec into every serialization. Our specs
live in immutable definition rows and are cached parsed, so the stored state holds only tasks,
data and events; restoring takes the cached spec. This keeps a step's cost independent of the
diagram's size and of how many steps came before.
"""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

STATE_VERSION = "ansvarsgruppe-1"


class _StateConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct, spec, subprocess_specs):
        dct = dict(dct)
        workflow = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dict(dct["subprocesses"]), workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


_registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
_converter = _StateConverter(BpmnWorkflow, _registry)


def dump_state(workflow: BpmnWorkflow) -> dict:
    state = _registry.convert(workflow)
    state["format"] = STATE_VERSION
    return state


def load_state(state: dict, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    """Restore a workflow and attach our sandboxed script engine (a restored workflow would
    otherwise silently use SpiffWorkflow's default engine, which runs plain exec/eval)."""
    workflow = _converter.restore(state, spec, subprocess_specs)
    workflow.script_engine = script_engine
    return workflow
