"""Moving running instances to another version of their process (DESIGN §5).

A deployed version is immutable and a running instance keeps its version. Moving one is an
explicit, checked operation built on SpiffWorkflow's ``diff_workflow``/``migrate_workflow``: the
check says per instance whether it can move and, if not, why; a real run moves each safe instance
in its own transaction with an audit event, and leaves the others untouched.

An instance can move when no step it has reached was removed, no completed step was changed,
every subprocess it runs still exists, and a trial migration stores and restores cleanly under the
new version. Open and waiting steps that changed are reset and predicted again from the new
diagram (a waiting duration timer starts counting again).

The reasons are shown to process owners as they are: Norwegian bokmål, naming the step by its
name in the diagram.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import undefer
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from webapp.audit.operations import record, titled
from webapp.engine.models import ProcessDefinition, ProcessInstance
from webapp.engine.serialization import REGISTRY, DataError, dump_state, load_state

#: states of steps that have been reached (predicted steps are re-predicted by the migration)
REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass
class MigrationCheck:
    instance_id: int
    case_id: int
    from_version: int
    to_version: int
    can_move: bool
    reasons: list[str] = field(default_factory=list)
    moved: bool = False


def _name(task) -> str:
    spec = task.task_spec
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


#: an instance's status in the reasons it cannot move
_STATUS = {"completed": "fullført", "cancelled": "avbrutt", "running": "i gang",
           "incident": "stoppet av en feil"}


#: what may differ for a step already done: its place in the flow (new steps before or after it)
CONNECTIONS = {"inputs", "outputs"}


def _changed(task, new_spec) -> bool:
    if new_spec is None:
        return True
    old, new = REGISTRY.convert(task.task_spec), REGISTRY.convert(new_spec)
    return any(new.get(key) != value for key, value in old.items() if key not in CONNECTIONS)


def _problems(top_diff, sub_diffs, workflow) -> list[str]:
    reasons = []
    for task in top_diff.removed:
        if task.has_state(REACHED):
            state = "fullførte" if task.has_state(TaskState.COMPLETED) else "åpne"
            reasons.append(f"det {state} steget «{_name(task)}» finnes ikke i den nye versjonen")
    for task in top_diff.changed:
        if task.has_state(TaskState.COMPLETED) and _changed(task, top_diff.alignment.get(task)):
            reasons.append(f"det fullførte steget «{_name(task)}» er endret i den nye versjonen")
    for sub_id, sub_diff in sub_diffs.items():
        if sub_diff is None:
            reasons.append("en underprosess som prosessen kjører, finnes ikke i den nye versjonen")
        else:
            reasons.extend(_problems(sub_diff, {}, workflow))
    return reasons


def _trial(engine, s, instance: ProcessInstance, target: ProcessDefinition):
    """Load, diff and (in memory) migrate; returns (workflow, reasons)."""
    workflow = engine.load_workflow(s, instance)
    new_spec, new_subs = engine.specs.get(target)
    top_diff, sub_diffs = diff_workflow(REGISTRY, workflow, new_spec, new_subs)
    reasons = _problems(top_diff, sub_diffs, workflow)
    if reasons:
        return None, reasons
    migrate_workflow(top_diff, workflow, new_spec)
    for sub_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sub_id]
        migrate_workflow(sub_diff, sub, new_subs[sub.spec.name])
    workflow.subprocess_specs = new_subs
    try:  # what is stored must restore under the new version
        state = dump_state(workflow, engine.limits.max_state_nodes)
        load_state(state, new_spec, new_subs, workflow.script_engine)
    except DataError:
        return None, ["prosessen kunne ikke lagres i den nye versjonen"]
    return workflow, []


def check_or_move(engine, instance_ids: list[int], process_id: str, to_version: int, *,
                  dry_run: bool, actor_id: int | None = None) -> list[MigrationCheck]:
    with engine.db.session() as s:
        target = s.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.documents),
                                                            undefer(ProcessDefinition.forms))
                          .where(ProcessDefinition.process_id == process_id,
                                 ProcessDefinition.version == to_version))  # used after this session
    if target is None:
        raise LookupError(f"prosessen «{process_id}» har ingen versjon {to_version}")
    results = []
    for instance_id in instance_ids:
        with engine.db.transaction(serialised=True) as s:
            instance = engine.lock_for_migration(s, instance_id)
            if instance is None:
                continue
            check = MigrationCheck(instance.id, instance.case_id, instance.definition.version, to_version, False)
            results.append(check)
            if instance.definition.process_id != process_id:
                check.reasons.append(f"dette er en annen prosess («{instance.definition.process_id}»)")
                continue
            if instance.status not in ("running", "incident"):
                check.reasons.append(f"prosessen er {_STATUS.get(instance.status, instance.status)}")
                continue
            if instance.definition_id == target.id:
                check.reasons.append("prosessen kjører allerede denne versjonen")
                continue
            try:
                workflow, reasons = _trial(engine, s, instance, target)
            except DataError:
                workflow, reasons = None, ["den lagrede tilstanden kunne ikke leses"]
            except Exception:  # the diff itself refused the pair of versions
                workflow, reasons = None, ["versjonene kunne ikke sammenlignes"]
            check.reasons.extend(reasons)
            check.can_move = workflow is not None
            if dry_run or workflow is None:
                continue  # nothing was written: the trial ran in memory
            engine.persist_migrated(s, instance, workflow, target)
            record(s, "instance_migrated", at=engine.clock.now(), actor_id=actor_id, case_id=instance.case_id,
                   instance_id=instance.id, process=process_id, from_version=check.from_version,
                   to_version=to_version, **titled("Flyttet til versjon %(version)s", version=to_version))
            check.moved = True
    return results
