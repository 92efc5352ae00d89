"""Workflow state as plain JSON, through SpiffWorkflow's own serializer.

Two things differ from SpiffWorkflow's defaults, each through its documented extension points
(the registry and the class → converter configuration):

* **Task data is data.** SpiffWorkflow restores any dict carrying a registered ``typename`` as a
  live object; a diagram could write such a dict into task data and get an object back on the
  next load. Our registry escapes the key ``typename`` (and keys starting with ``~``) in every
  plain dict it converts, refuses anything that is not JSON, a date or a datetime, and refuses
  unknown type names on restore. Task data, workflow data and event payloads all pass through
  it, so restoring never turns data into objects. Sizes are bounded while converting.
* **No spec in the state.** Specs live in immutable definition rows and are parsed once and
  cached, so the state refers to its process spec by name and restoring takes the cached spec.
  A step's cost therefore does not grow with the diagram.

The serializer version is stored with every state (``serializer_version``), so SpiffWorkflow's
own migrations run when it is upgraded.
"""
from __future__ import annotations

import contextvars
import math
import threading
from contextlib import contextmanager
from datetime import date

from SpiffWorkflow.bpmn.serializer.default.process_spec import BpmnProcessSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.serializer.helpers import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import AdHocSubprocessSpec, BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

from webapp.engine import timers

LEGACY_FORMAT = "ansvarsgruppe-1"  # states written before the serializer version was stored
ESCAPE = "~"
RESERVED = "typename"
DEFAULT_MAX_NODES = 200_000  # values (items, keys, scalars) in one state; bounds aliased data


class DataError(Exception):
    """Task data that is not plain data, too large, or a stored state we cannot read. The message
    names no values (incident messages never carry data)."""


def _escape(key) -> str:
    if not isinstance(key, str):
        raise DataError("task data may only use text as keys")
    return ESCAPE + key if key == RESERVED or key.startswith(ESCAPE) else key


def _unescape(key: str) -> str:
    return key[1:] if key.startswith(ESCAPE) else key


class PlainDataRegistry(DefaultRegistry):
    """SpiffWorkflow's registry, strict about data (see the module docstring)."""

    def __init__(self):
        super().__init__()
        self._budget = threading.local()  # values left to convert in this thread's dump
        self.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))

    def start_count(self, max_nodes: int) -> None:
        self._budget.left = max_nodes

    def convert(self, obj):
        left = getattr(self._budget, "left", DEFAULT_MAX_NODES) - 1
        self._budget.left = left
        if left < 0:
            raise DataError("the process data is too large")
        if obj.__class__ in self.typenames:
            return super().convert(obj)
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            if not math.isfinite(obj):
                raise DataError("task data may not hold infinite or undefined numbers")
            return obj
        if isinstance(obj, dict):
            return {_escape(k): self.convert(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.convert(item) for item in obj]
        raise DataError("task data may only hold text, numbers, true/false, lists, records and dates")

    def restore(self, val, **kwargs):
        if isinstance(val, dict):
            if RESERVED in val:
                if val[RESERVED] not in self.convert_from_dict:
                    raise DataError("the stored process state holds an unknown kind of value")
                return super().restore(val, **kwargs)
            return {_unescape(k): self.restore(v, **kwargs) for k, v in val.items()}
        if isinstance(val, list):
            return [self.restore(item, **kwargs) for item in val]
        return val


class PlainDataTaskConverter(TaskConverter):
    """SpiffWorkflow stores task data unconverted; we pass it through the strict registry."""

    def to_dict(self, task):
        dct = super().to_dict(task)
        dct["data"] = self.registry.convert(dct["data"])
        if dct["delta"]:
            dct["delta"]["updates"] = self.registry.convert(dct["delta"]["updates"])
        return dct


_specs: contextvars.ContextVar[dict] = contextvars.ContextVar("specs")


class SpecReference(BpmnProcessSpecConverter):
    """A process spec is stored as its name and restored from the cached, parsed definition."""

    def to_dict(self, spec):
        return {"name": spec.name}

    def from_dict(self, dct):
        try:
            return _specs.get()[dct["name"]]
        except (LookupError, KeyError):
            raise DataError("the stored process state does not match its diagram") from None


def _config() -> dict:
    config = dict(SPIFF_CONFIG)
    config[Task] = PlainDataTaskConverter
    config[BpmnProcessSpec] = SpecReference
    config[AdHocSubprocessSpec] = SpecReference
    config.update(timers.CONVERTERS)
    return config


REGISTRY = BpmnWorkflowSerializer.configure(_config(), PlainDataRegistry())
SERIALIZER = BpmnWorkflowSerializer(REGISTRY)


@contextmanager
def _restoring(spec, subprocess_specs):
    token = _specs.set({spec.name: spec, **{s.name: s for s in subprocess_specs.values()}})
    try:
        yield
    finally:
        _specs.reset(token)


def dump_state(workflow, max_nodes: int = DEFAULT_MAX_NODES) -> dict:
    """The workflow as a JSON-ready dict; DataError if its data is not plain or too large."""
    REGISTRY.start_count(max_nodes)
    state = SERIALIZER.to_dict(workflow)
    state[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
    return state


def load_state(state: dict, spec, subprocess_specs, script_engine):
    """Restore a workflow with the cached spec and attach our script engine (a restored
    workflow would otherwise silently use SpiffWorkflow's default engine, which runs plain
    exec/eval)."""
    if state.get("format") == LEGACY_FORMAT:
        dct = _upgrade_legacy(state, spec, subprocess_specs)
    else:
        dct = dict(state)
    try:
        SERIALIZER.migrate(dct)
        with _restoring(spec, subprocess_specs):
            workflow = SERIALIZER.from_dict(dct)
    except DataError:
        raise
    except Exception:
        raise DataError("the stored process state could not be read") from None
    workflow.script_engine = script_engine
    return workflow


def _stored_as_written(state: dict) -> bool:
    """Whether a stored state has this serializer's layout (older ones are migrated on load)."""
    return state.get("format") != LEGACY_FORMAT and state.get(SERIALIZER.VERSION_KEY) == SERIALIZER.VERSION


def read_task_data(state: dict, task_id: str) -> dict | None:
    """One task's data read straight from a stored state, without restoring the workflow (the
    task page needs only this). The serializer stores each task's changes against its parent, so
    the data is the root's with the changes on the way down applied in order. None if the state
    has an older layout or the task is not a top-level one: then restore the workflow instead."""
    if not _stored_as_written(state):
        return None
    tasks = state.get("tasks", {})
    chain, current = [], tasks.get(task_id)
    while current is not None:
        chain.append(current)
        if len(chain) > len(tasks):
            return None  # a cycle: not a state we wrote
        current = tasks.get(current.get("parent")) if current.get("parent") else None
    if not chain or chain[-1].get("parent"):
        return None
    data = REGISTRY.restore(chain[-1].get("data") or {})
    for task in reversed(chain[:-1]):
        delta = task.get("delta") or {}
        data.update(REGISTRY.restore(delta.get("updates") or {}))
        for key in delta.get("deletions") or ():
            data.pop(key, None)
    return data if isinstance(data, dict) else None


def read_task_states(state: dict) -> list[tuple[str, int]] | None:
    """(task spec name, TaskState value) of the top-level process's tasks in a stored state, or
    None if the state has an older layout."""
    if not _stored_as_written(state):
        return None
    return [(task.get("task_spec"), task.get("state")) for task in state.get("tasks", {}).values()]


def _escape_tree(value):
    if isinstance(value, dict):
        return {_escape(k): _escape_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_tree(v) for v in value]
    return value


def _upgrade_legacy(state: dict, spec, subprocess_specs) -> dict:
    """States from before this serializer: the same layout without spec references, with task
    data stored raw (so possibly holding a bare ``typename``). Escape the data as plain data."""
    dct = {k: v for k, v in state.items() if k != "format"}

    def upgrade_workflow(workflow: dict) -> None:
        workflow["data"] = _escape_tree(workflow.get("data", {}))
        for task in workflow["tasks"].values():
            task["data"] = _escape_tree(task.get("data", {}))
            if task.get("delta"):
                task["delta"]["updates"] = _escape_tree(task["delta"].get("updates", {}))

    upgrade_workflow(dct)
    for sub in dct.get("subprocesses", {}).values():
        upgrade_workflow(sub)
    dct["spec"] = {"name": spec.name, RESERVED: "BpmnProcessSpec"}
    dct["subprocess_specs"] = {name: {"name": sub.name, RESERVED: "BpmnProcessSpec"}
                               for name, sub in subprocess_specs.items()}
    dct[SERIALIZER.VERSION_KEY] = "1.5"
    return dct
