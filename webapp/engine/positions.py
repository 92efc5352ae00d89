"""Where an episode stands in its diagram: the elements it has passed and the ones it waits at,
by BPMN element id, read from the stored state (the supervisors' process view and the test run
draw them on the diagram). The state is read as stored; a workflow is restored only for a state
of an older layout."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState

from webapp.engine.serialization import load_state, read_task_states

#: states of a task that has been reached and not finished: a ready or started step, a timer or
#: message it waits for, a join waiting for its other branches, a step that failed
WAITING = (TaskState.WAITING, TaskState.READY, TaskState.STARTED, TaskState.ERROR)


@dataclass(frozen=True)
class Positions:
    #: element ids completed at least once, in the order the state lists them
    done: tuple[str, ...]
    #: element ids the episode waits at now (an element in a loop can be in both)
    current: tuple[str, ...]


@dataclass(frozen=True)
class Element:
    bpmn_id: str
    #: the name the diagram gives it (the author's text: register data), or None
    name: str | None
    #: whether a person does it (a user task): the only elements with open steps
    human: bool


def element_states(spec, stored_state: dict | None, subprocess_specs: dict | None = None) -> Positions:
    """Done and current element ids of the top-level process of ``stored_state`` (the instance's
    ``state``) under ``spec`` (the cached spec of the instance's own definition version). A state
    that cannot be read gives no positions rather than an error."""
    tasks = read_task_states(stored_state or {})
    if tasks is None:
        tasks = _restored_task_states(spec, stored_state or {}, subprocess_specs or {})
    return positions(spec, tasks)


def positions(spec, tasks: list[tuple[str, int]]) -> Positions:
    """``tasks``: (task spec name, TaskState value) pairs, as ``read_task_states`` gives them.
    Tasks of specs without an element (the implicit start and end, joins SpiffWorkflow adds) are
    left out."""
    done: dict[str, None] = {}
    current: dict[str, None] = {}
    for name, state in tasks:
        bpmn_id = getattr(spec.task_specs.get(name), "bpmn_id", None)
        if not bpmn_id:
            continue
        if state == TaskState.COMPLETED:
            done.setdefault(bpmn_id)
        elif state in WAITING:
            current.setdefault(bpmn_id)
    return Positions(tuple(done), tuple(current))


def elements(spec) -> list[Element]:
    """The process's elements with an id, in the order met from the start (breadth first), then
    any not reachable from it; one entry per element id (a multi-instance task and its inner
    user task are one element)."""
    found: dict[str, Element] = {}
    seen, queue = set(), deque([spec.start])
    order = []
    while queue:
        task_spec = queue.popleft()
        if task_spec.name in seen:
            continue
        seen.add(task_spec.name)
        order.append(task_spec)
        inner = getattr(task_spec, "task_spec", None)
        if isinstance(inner, str) and inner in spec.task_specs:
            queue.append(spec.task_specs[inner])
        queue.extend(task_spec.outputs)
    order += [ts for name, ts in spec.task_specs.items() if name not in seen]
    for task_spec in order:
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        name = getattr(task_spec, "bpmn_name", None)
        human = bool(getattr(task_spec, "manual", False))
        known = found.get(bpmn_id)
        if known is None:
            found[bpmn_id] = Element(bpmn_id, name, human)
        else:
            found[bpmn_id] = Element(bpmn_id, known.name or name, known.human or human)
    return list(found.values())


def _restored_task_states(spec, stored_state: dict, subprocess_specs: dict) -> list[tuple[str, int]]:
    """States of an older layout: restore the workflow (nothing runs: no script engine needed)."""
    try:
        workflow = load_state(stored_state, spec, subprocess_specs, None)
    except Exception:  # DataError, or a legacy state missing parts: no position, never a broken page
        return []
    return [(task.task_spec.name, task.state) for task in workflow.tasks.values()]
