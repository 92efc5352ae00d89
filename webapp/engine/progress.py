"""Where a step sits in its episode: the user tasks of the process as done / now / next."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState

from webapp.engine.models import ProcessInstance


@dataclass
class Step:
    bpmn_id: str
    title: str
    state: str  # done | now | next | skipped


def _user_tasks_in_order(spec) -> list:
    """User tasks reachable from the start, breadth first (the order people meet them)."""
    start = spec.start
    seen, order, queue = set(), [], deque([start])
    while queue:
        ts = queue.popleft()
        if ts.name in seen:
            continue
        seen.add(ts.name)
        inner = getattr(ts, "task_spec", None)  # a multi-instance task wraps its user task
        if isinstance(inner, str) and inner in spec.task_specs:
            ts_shown = spec.task_specs[inner]
        else:
            ts_shown = ts
        if getattr(ts_shown, "manual", False) and getattr(ts_shown, "bpmn_id", None):
            order.append(ts_shown)
        queue.extend(ts.outputs)
    unique = []
    for ts in order:
        if ts.bpmn_id not in {u.bpmn_id for u in unique}:
            unique.append(ts)
    return unique


def episode_steps(spec, instance: ProcessInstance, tasks: list[tuple[str, int]]) -> list[Step]:
    """``tasks``: (task spec name, TaskState value) of the instance's workflow, read from its
    stored state; completed user tasks are done, ready ones are now."""
    done, now = set(), set()
    for name, state in tasks:
        task_spec = spec.task_specs.get(name)
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if bpmn_id is None or not getattr(task_spec, "manual", False):
            continue
        if state == TaskState.COMPLETED:
            done.add(bpmn_id)
        elif state == TaskState.READY:
            now.add(bpmn_id)
    steps = []
    for ts in _user_tasks_in_order(spec):
        if ts.bpmn_id in now:
            state = "now"
        elif ts.bpmn_id in done:
            state = "done"
        elif instance.status in ("completed", "cancelled"):
            state = "skipped"
        else:
            state = "next"
        steps.append(Step(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, state))
    return steps
