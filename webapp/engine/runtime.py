"""Running process instances durably.

Every operation here is one database transaction: lock the instance, restore the workflow with
the sandboxed script engine, act, run engine steps, then write the state, the open-task
projection, the next due time and the audit events together. An exception inside a step rolls
the step back and records an incident (with what to redo) in a fresh transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Callable, Mapping
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from handlers.context import HandlerContext
from webapp.audit.models import AuditEvent
from webapp.audit.operations import record
from webapp.auth.models import User
from webapp.cases.models import Case
from webapp.cases.roles import resolve_role
from webapp.clock import OSLO, Clock
from webapp.db import Database
from webapp.engine.library import SpecCache, latest_definition
from webapp.engine.models import Incident, OpenTask, ProcessInstance
from webapp.engine.parsing import form_name
from webapp.engine import sandbox
from webapp.engine.sandbox import SandboxError
from webapp.engine.scripting import EngineScriptEngine
from webapp.engine.serialization import dump_state, load_state
from webapp.engine.timers import next_due, using_clock
from webapp.outbox.operations import Outbox


class EngineError(Exception):
    pass


class NotFound(EngineError):
    """No such instance/task/definition (or not visible)."""


class Conflict(EngineError):
    """The task was already completed (or the instance changed state) by someone else."""

    def __init__(self, message: str, done_by: str | None = None, done_at=None):
        super().__init__(message)
        self.done_by = done_by
        self.done_at = done_at


class StepFailed(EngineError):
    """The step raised; it was rolled back and an incident recorded."""

    def __init__(self, incident_id: int, message: str):
        super().__init__(message)
        self.incident_id = incident_id


@dataclass
class StepResult:
    instance_id: int
    case_id: int
    status: str


def _describe(exc: BaseException) -> tuple[str, str | None]:
    """A message for supervisors and the BPMN id of the failing element, if known."""
    task = getattr(exc, "task", None)
    spec_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None) if task is not None else None
    message = str(exc) or type(exc).__name__
    cause = exc.__cause__ or getattr(exc, "exception", None)
    if isinstance(cause, SandboxError):
        message = f"{message} ({cause.message})"
    return message[:2000], spec_id


class WorkflowEngine:
    def __init__(self, db: Database, clock: Clock, handlers: Mapping[str, Callable],
                 specs: SpecCache | None = None, script_time_limit: float = 1.0):
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self.specs = specs or SpecCache()
        self.script_time_limit = script_time_limit

    # ----------------------------------------------------------------- public operations
    def start(self, case_id: int, process_id: str, *, actor_id: int | None = None,
              data: dict | None = None) -> StepResult:
        """Start the latest version of ``process_id`` for a case, in its own transaction. If the
        first engine steps fail, the instance is kept with an incident (retry runs them again)."""
        pending_state: dict = {}
        try:
            with self.db.transaction(serialised=True) as s:
                return self.start_in(s, case_id, process_id, actor_id=actor_id, data=data,
                                     initial_state=pending_state)
        except (EngineError, StaleDataError, OperationalError):
            raise
        except Exception as exc:
            message, spec_id = _describe(exc)
            incident_id = self._create_failed_instance(case_id, process_id, pending_state, actor_id,
                                                       message, spec_id)
            raise StepFailed(incident_id, message) from exc

    def start_in(self, s: Session, case_id: int, process_id: str, *, actor_id: int | None = None,
                 data: dict | None = None, initial_state: dict | None = None) -> StepResult:
        """Start an instance inside the caller's transaction (so a domain change and the start of
        its episode commit together); exceptions propagate and roll back the whole transaction."""
        with using_clock(self.clock):
            definition = latest_definition(s, process_id)
            case = s.get(Case, case_id)
            if definition is None or case is None:
                raise NotFound(f"no process '{process_id}' or case {case_id}")
            now = self.clock.now()
            instance = ProcessInstance(case_id=case.id, definition=definition, state={},
                                       created_at=now, updated_at=now)
            s.add(instance)
            s.flush()
            spec, subs = self.specs.get(definition)
            workflow = BpmnWorkflow(spec, subs, script_engine=self._script_engine(s, instance, case, actor_id))
            for task in workflow.get_tasks(state=TaskState.READY):
                task.set_data(**(data or {}))
            if initial_state is not None:
                initial_state.update(dump_state(workflow))
            record(s, "instance_started", at=now, actor_id=actor_id, case_id=case.id,
                   instance_id=instance.id, process=process_id, version=definition.version,
                   title=f"Startet: {definition.name}")
            workflow.do_engine_steps()
            self._persist(s, instance, workflow, case)
            return StepResult(instance.id, case.id, instance.status)

    def episode_starter(self, s: Session, case_id: int, *, actor_id: int | None) -> Callable[[str, dict], int]:
        """``start_episode(process_id, data) -> instance id`` for a domain operation called outside
        a step: each start joins the caller's transaction."""
        def start_episode(process_id: str, data: dict) -> int:
            return self.start_in(s, case_id, process_id, actor_id=actor_id, data=data).instance_id
        return start_episode

    def complete_task(self, instance_id: int, task_id: str, data: dict, *,
                      actor_id: int | None) -> StepResult:
        """Complete a ready user task with (validated) form data and run on."""

        def act(s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, case: Case) -> None:
            task = self._ready_task(s, instance, workflow, task_id)
            properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
            key = properties.get("formDataKey")
            if key:  # the form's data as one record, e.g. a multi-instance's output item
                base = task.data.get(properties.get("formDataFrom", ""))
                task.data[key] = {**(base if isinstance(base, dict) else {}), **data}
            else:
                task.data.update(data)
            task.run()
            record(s, "task_completed", at=self.clock.now(), actor_id=actor_id, case_id=case.id,
                   instance_id=instance.id, task_id=task_id, task=task.task_spec.bpmn_id,
                   title=task.task_spec.bpmn_name or task.task_spec.bpmn_id)

        pending = {"action": "complete", "task_id": task_id, "data": data, "actor_id": actor_id}
        return self._step(instance_id, act, actor_id, pending)

    def retry(self, incident_id: int, *, actor_id: int | None) -> StepResult:
        """Redo what failed. Resolves the incident when the step goes through."""
        with self.db.session() as s:
            incident = s.get(Incident, incident_id)
            if incident is None:
                raise NotFound("no such incident")
            if incident.status != "open":
                raise Conflict("the incident is already resolved")
            pending, instance_id = dict(incident.pending), incident.instance_id
        if pending.get("action") == "complete":
            return self.complete_task(instance_id, pending["task_id"], pending.get("data") or {},
                                      actor_id=pending.get("actor_id"))
        return self._step(instance_id, self._fire_timers, actor_id, pending, allow_incident=True)

    def fire_due_timers(self, limit: int = 50) -> int:
        """Fire what is due now. Safe to run in several workers at once: on PostgreSQL each
        instance is claimed with ``FOR UPDATE SKIP LOCKED``; on SQLite writers are serialised."""
        fired, seen = 0, set()
        now = self.clock.now()
        while fired < limit:
            with self.db.session() as s:
                query = (select(ProcessInstance.id)
                         .where(ProcessInstance.status == "running",
                                ProcessInstance.next_due_at <= now,
                                ProcessInstance.id.notin_(seen) if seen else True)
                         .order_by(ProcessInstance.next_due_at).limit(1))
                candidate = s.scalar(query)
            if candidate is None:
                break
            seen.add(candidate)
            try:
                if self._step(candidate, self._fire_timers, None, {"action": "fire"},
                              claim=True, due_before=now) is not None:
                    fired += 1
            except (StepFailed, Conflict, NotFound):
                continue
        return fired

    def cancel(self, instance_id: int, reason: str, *, actor_id: int | None) -> None:
        with self.db.transaction(serialised=True) as s:
            self.cancel_in(s, self._lock(s, instance_id), reason, actor_id=actor_id)

    def cancel_in(self, s: Session, instance: ProcessInstance, reason: str, *, actor_id: int | None) -> bool:
        """Cancel an instance inside the caller's transaction (the caller holds the lock)."""
        if instance.status in ("completed", "cancelled"):
            return False
        now = self.clock.now()
        instance.status, instance.status_reason = "cancelled", reason
        instance.next_due_at, instance.updated_at, instance.completed_at = None, now, now
        for row in s.scalars(select(OpenTask).where(OpenTask.instance_id == instance.id)):
            s.delete(row)
        for incident in s.scalars(select(Incident).where(Incident.instance_id == instance.id,
                                                         Incident.status == "open")):
            incident.status, incident.resolved_at = "resolved", now
        record(s, "instance_cancelled", at=now, actor_id=actor_id, case_id=instance.case_id,
               instance_id=instance.id, reason=reason, title=f"Prosess avbrutt: {reason}")
        return True

    def lock_running(self, s: Session, case_id: int, *, exclude: int | None = None) -> list[ProcessInstance]:
        """Lock and return the running instances of a case (to cancel them with a domain change);
        ``exclude``: the instance whose step is asking (it is already locked and in flight)."""
        query = select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                              ProcessInstance.status.in_(("running", "incident")))
        if exclude is not None:
            query = query.where(ProcessInstance.id != exclude)
        if self.db.dialect == "postgresql":
            query = query.with_for_update(of=ProcessInstance)
        return list(s.scalars(query.execution_options(populate_existing=True)))

    def load_workflow(self, s: Session, instance: ProcessInstance, actor_id: int | None = None) -> BpmnWorkflow:
        """Restore an instance's workflow (read-only use, e.g. to show a task's data)."""
        spec, subs = self.specs.get(instance.definition)
        case = s.get(Case, instance.case_id)
        return load_state(instance.state, spec, subs, self._script_engine(s, instance, case, actor_id))

    def task_data(self, s: Session, instance: ProcessInstance, task_id: str) -> dict:
        """The data a task sees (to pre-fill its form)."""
        workflow = self.load_workflow(s, instance)
        try:
            return dict(workflow.get_task_from_id(UUID(task_id)).data)
        except (ValueError, SpiffWorkflowException, KeyError):
            return {}

    # ----------------------------------------------------------------- internals
    def _script_engine(self, s: Session, instance: ProcessInstance, case: Case,
                       actor_id: int | None) -> EngineScriptEngine:
        def context_for(task) -> HandlerContext:
            def cancel_other_episodes(reason: str, keep: tuple[str, ...] = ()) -> int:
                return sum(self.cancel_in(s, other, reason, actor_id=actor_id)
                           for other in self.lock_running(s, case.id, exclude=instance.id)
                           if other.definition.process_id not in keep)

            return HandlerContext(session=s, case=case, actor_id=actor_id, clock=self.clock,
                                  outbox=Outbox(s, self.clock, case.id), instance_id=instance.id,
                                  task_spec=task.task_spec.bpmn_id, data=task.data,
                                  start_episode=self.episode_starter(s, case.id, actor_id=actor_id),
                                  cancel_other_episodes=cancel_other_episodes)
        return EngineScriptEngine(self.handlers, context_for, time_limit=self.script_time_limit)

    def _lock(self, s: Session, instance_id: int) -> ProcessInstance:
        query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
        if self.db.dialect == "postgresql":
            query = query.with_for_update(of=ProcessInstance)
        instance = s.scalar(query.execution_options(populate_existing=True))
        if instance is None:
            raise NotFound("no such process instance")
        return instance

    def _claim(self, s: Session, instance_id: int, due_before) -> ProcessInstance | None:
        query = select(ProcessInstance).where(ProcessInstance.id == instance_id,
                                              ProcessInstance.status == "running",
                                              ProcessInstance.next_due_at <= due_before)
        if self.db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=ProcessInstance)
        return s.scalar(query.execution_options(populate_existing=True))

    def _fire_timers(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, case: Case) -> None:
        workflow.refresh_timers()
        record(s, "timers_checked", at=self.clock.now(), case_id=case.id, instance_id=instance.id)

    def _ready_task(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, task_id: str):
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException, KeyError):
            task = None
        if task is None:
            raise NotFound("no such task")
        if task.state != TaskState.READY or not task.task_spec.manual:
            done = self.completion_of(s, instance.id, task_id)
            if done is not None:
                raise Conflict("already done", done_by=done[0], done_at=done[1])
            raise Conflict("the task is no longer open")
        return task

    def completion_of(self, s: Session, instance_id: int, task_id: str):
        events = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                    AuditEvent.kind == "task_completed")
                           .order_by(AuditEvent.id.desc()))
        for event in events:
            if event.detail.get("task_id") == task_id:
                user = s.get(User, event.actor_id) if event.actor_id else None
                return (user.full_name if user else None), event.created_at
        return None

    def _step(self, instance_id: int, act, actor_id: int | None, pending: dict, *,
              claim: bool = False, due_before=None, allow_incident: bool = True) -> StepResult | None:
        try:
            with self.db.transaction(serialised=True) as s, using_clock(self.clock):
                if claim:
                    instance = self._claim(s, instance_id, due_before)
                    if instance is None:
                        return None  # another worker took it, or it is no longer due
                else:
                    instance = self._lock(s, instance_id)
                if instance.status not in ("running", "incident"):
                    raise Conflict(f"the process is {instance.status}")
                had_incident = instance.status == "incident"
                case = s.get(Case, instance.case_id)
                workflow = self.load_workflow(s, instance, actor_id)
                act(s, instance, workflow, case)
                workflow.do_engine_steps()
                self._persist(s, instance, workflow, case)
                if had_incident:
                    self._resolve_incidents(s, instance)
                return StepResult(instance.id, case.id, instance.status)
        except StaleDataError:
            raise Conflict("the process was changed by someone else at the same time") from None
        except EngineError:
            raise
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                raise Conflict("the process was busy; try again") from None
            raise
        except Exception as exc:
            message, spec_id = _describe(exc)
            incident_id = self._open_incident(instance_id, message, spec_id, pending, actor_id)
            raise StepFailed(incident_id, message) from exc

    def _persist(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, case: Case) -> None:
        now = self.clock.now()
        instance.state = dump_state(workflow)
        instance.next_due_at = next_due(workflow)
        instance.updated_at = now
        if workflow.is_completed():
            instance.status, instance.completed_at, instance.next_due_at = "completed", now, None
            record(s, "instance_completed", at=now, case_id=case.id, instance_id=instance.id)
        else:
            instance.status = "running"
        self._project(s, instance, workflow, case, now)

    def _project(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, case: Case, now) -> None:
        """Write the open human tasks of this instance (insert new, delete finished)."""
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        existing = {row.task_id: row for row in
                    s.scalars(select(OpenTask).where(OpenTask.instance_id == instance.id))}
        for task_id, row in existing.items():
            if task_id not in ready:
                s.delete(row)
        for task_id, task in ready.items():
            if task_id in existing:
                continue
            spec = task.task_spec
            lane = spec.lane
            properties = (getattr(spec, "extensions", None) or {}).get("properties", {})
            holders = resolve_role(s, case.id, lane) if lane else []
            assignee = holders[0] if len(holders) == 1 else None
            if properties.get("assignee"):  # a per-task person, e.g. one member of a multi-instance
                assignee = _as_user_id(sandbox.evaluate(properties["assignee"], dict(task.data)))
            title = spec.bpmn_name or spec.bpmn_id
            if properties.get("titleDetail"):
                title = f"{title} – {sandbox.evaluate(properties['titleDetail'], dict(task.data))}"
            s.add(OpenTask(
                case_id=case.id, instance_id=instance.id, task_id=task_id, task_spec=spec.bpmn_id,
                title=title[:255], lane=lane, form=form_name(spec), assignee_id=assignee,
                orphaned=assignee is None and not holders, created_at=now,
                due_at=_due_date(properties.get("dueDate"), task.data) or _due_at(spec, now),
            ))

    def _resolve_incidents(self, s: Session, instance: ProcessInstance) -> None:
        for incident in s.scalars(select(Incident).where(Incident.instance_id == instance.id,
                                                         Incident.status == "open")):
            incident.status, incident.resolved_at = "resolved", self.clock.now()
            record(s, "incident_resolved", at=self.clock.now(), case_id=instance.case_id,
                   instance_id=instance.id, incident_id=incident.id)

    def _open_incident(self, instance_id: int, message: str, spec_id: str | None, pending: dict,
                       actor_id: int | None) -> int:
        with self.db.transaction(serialised=True) as s:
            instance = self._lock(s, instance_id)
            return self._write_incident(s, instance, message, spec_id, pending, actor_id)

    def _write_incident(self, s: Session, instance: ProcessInstance, message: str, spec_id: str | None,
                        pending: dict, actor_id: int | None) -> int:
        now = self.clock.now()
        incident = s.scalar(select(Incident).where(Incident.instance_id == instance.id,
                                                   Incident.status == "open"))
        if incident is None:
            incident = Incident(instance_id=instance.id, created_at=now, message=message,
                                task_spec=spec_id, pending=pending)
            s.add(incident)
        else:
            incident.message, incident.task_spec, incident.pending = message, spec_id, pending
        instance.status, instance.updated_at = "incident", now
        s.flush()
        record(s, "incident_opened", at=now, actor_id=actor_id, case_id=instance.case_id,
               instance_id=instance.id, incident_id=incident.id, message=message[:500], task=spec_id)
        return incident.id

    def _create_failed_instance(self, case_id: int, process_id: str, state: dict,
                                actor_id: int | None, message: str, spec_id: str | None) -> int:
        with self.db.transaction(serialised=True) as s:
            definition = latest_definition(s, process_id)
            now = self.clock.now()
            instance = ProcessInstance(case_id=case_id, definition=definition, state=state,
                                       status="incident", created_at=now, updated_at=now)
            s.add(instance)
            s.flush()
            record(s, "instance_started", at=now, actor_id=actor_id, case_id=case_id,
                   instance_id=instance.id, process=process_id, version=definition.version)
            return self._write_incident(s, instance, message, spec_id, {"action": "advance"}, actor_id)


def _as_user_id(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _due_date(expression: str | None, data: dict):
    """``dueDate``: a sandboxed expression giving an ISO date (end of that day, Oslo) or datetime."""
    if not expression:
        return None
    value = sandbox.evaluate(expression, dict(data))
    if not value:
        return None
    try:
        if len(str(value)) == 10:
            return datetime.combine(date.fromisoformat(str(value)), time(23, 59), OSLO)
        moment = datetime.fromisoformat(str(value))
        return moment if moment.tzinfo else moment.replace(tzinfo=OSLO)
    except ValueError:
        return None


def _due_at(spec, now):
    due = (getattr(spec, "extensions", None) or {}).get("properties", {}).get("dueIn")
    if not due:
        return None
    parsed = TimerEventDefinition.parse_iso_duration(due)
    return now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
