"""Running process instances durably.

Every operation here is one database transaction: lock the instance, restore the workflow with
our script engine, act, run engine steps, then write the state, the open-task
projection, the next due time and the audit events together. An exception inside a step rolls
the step back and records an incident (with what to redo) in a fresh transaction.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
import json
from typing import Callable, Iterator
from uuid import UUID

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from webapp.audit.models import AuditEvent
from webapp.audit.operations import events_together, record, titled
from webapp.clock import OSLO, Clock
from webapp.db import Database, EncodedJSON
from webapp.engine import durations, expressions, step_writes
from webapp.engine.hooks import EngineHooks, StepContext
from webapp.engine.library import SpecCache, latest_definition, latest_definitions
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance, ScheduledStart
from webapp.engine.parsing import form_name
from webapp.engine.progress import episode_steps
from webapp.engine.scripting import EngineScriptEngine, RunLimits
from webapp.engine.serialization import DataError, dump_state, load_state, read_task_data, read_task_states
from webapp.engine.timers import is_timer, next_due


class EngineError(Exception):
    pass


class NotFound(EngineError):
    """No such instance/task/definition (or not visible)."""


class Conflict(EngineError):
    """The task was already completed (or the instance changed state) by someone else."""

    def __init__(self, message: str, done_by_id: int | None = None, done_at=None):
        super().__init__(message)
        self.done_by_id = done_by_id
        self.done_at = done_at


class Refused(EngineError):
    """The caller's ``check`` refused the step (e.g. the form has errors); nothing was written.
    ``detail`` is the caller's, handed back as it was given."""

    def __init__(self, detail=None):
        super().__init__("refused by the caller")
        self.detail = detail


class CheckFailed(EngineError):
    """The caller's ``check`` raised something other than an engine error: a fault of the caller
    (re-raised as the original after the rollback), not an incident on the instance."""


class StepFailed(EngineError):
    """The step raised; it was rolled back and an incident recorded."""

    def __init__(self, incident_id: int, message: str):
        super().__init__(message)
        self.incident_id = incident_id


@dataclass(frozen=True)
class OpenedTask:
    """A human task a step opened (in this instance or in an episode the step started)."""

    instance_id: int
    task_id: str
    assignee_id: int | None
    holders: tuple[int, ...]  # who holds its lane (anyone of them may act when no one is assigned)

    def for_user(self, user_id: int) -> bool:
        return self.assignee_id == user_id or (self.assignee_id is None and user_id in self.holders)


@dataclass
class StepResult:
    instance_id: int
    case_id: int
    status: str
    opened: list[OpenedTask] = field(default_factory=list)

    def next_for(self, user_id: int) -> OpenedTask | None:
        """The first task the step opened that this user may do, in this episode first."""
        mine = [task for task in self.opened if task.for_user(user_id)]
        mine.sort(key=lambda task: task.instance_id != self.instance_id)
        return mine[0] if mine else None


@dataclass
class TaskView:
    """What a task page shows, read through the engine (views never touch SpiffWorkflow)."""

    form: str | None
    schema: dict
    properties: dict
    documentation: str | None
    data: dict


_INTERNAL = ("0x", "Traceback", "object at", "<")


def _describe(exc: BaseException) -> tuple[str, str | None]:
    """A message for supervisors and the BPMN id of the failing element, if known. Messages are
    ours or the handler's; internal exception text is replaced by its kind in plain words."""
    task = getattr(exc, "task", None)
    spec_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None) if task is not None else None
    if isinstance(exc, SQLAlchemyError):  # its text carries the statement's parameters: content
        return "the database refused the step's changes", spec_id
    if isinstance(exc, (SpiffWorkflowException, DataError, expressions.ExpressionError,
                        durations.DurationError)):
        message = getattr(exc, "message", None) or (exc.args[0] if exc.args else "")
        message = str(message)
    else:
        message = str(exc)
    if not message or any(marker in message for marker in _INTERNAL):
        message = "the step failed in the engine"
    return message[:2000], spec_id


class WorkflowEngine:
    def __init__(self, db: Database, clock: Clock, hooks: EngineHooks, specs: SpecCache | None = None,
                 *, limits: RunLimits | None = None):
        self.db = db
        self.clock = clock
        self.hooks = hooks
        self.specs = specs or SpecCache()
        self.limits = limits or RunLimits()

    @property
    def handlers(self):
        return self.hooks.handlers

    # ----------------------------------------------------------------- starting episodes
    def start(self, case_id: int, process_id: str, *, actor_id: int | None = None,
              data: dict | None = None) -> StepResult:
        """Start the latest version of ``process_id`` for a case, in its own transaction. If the
        first engine steps fail, the instance is kept with an incident (retry runs them again)."""
        try:
            with self.db.transaction(serialised=True) as s:
                return self.start_in(s, case_id, process_id, actor_id=actor_id, data=data)
        except (EngineError, StaleDataError, OperationalError):
            raise
        except Exception as exc:
            message, spec_id = _describe(exc)
            incident_id = self._create_failed_instance(case_id, process_id, data or {}, actor_id,
                                                       message, spec_id)
            raise StepFailed(incident_id, message) from exc

    def start_in(self, s: Session, case_id: int, process_id: str, *, actor_id: int | None = None,
                 data: dict | None = None, instance: ProcessInstance | None = None) -> StepResult:
        """Start an instance inside the caller's transaction (so a domain change and the start of
        its episode commit together); exceptions propagate and roll back the whole transaction.
        ``instance``: the new instance's row, if the caller has written it already (a batch of
        scheduled starts inserts its rows together, of the versions it read)."""
        if instance is None:
            definition = latest_definition(s, process_id)
            if definition is None:
                raise NotFound(f"no process '{process_id}'")
            instance = self._new_instance(case_id, definition)
            s.add(instance)
            s.flush()
        definition = instance.definition
        now = self.clock.now()
        spec, subs = self.specs.get(definition)
        workflow = BpmnWorkflow(spec, subs, script_engine=self._script_engine(s, instance, actor_id))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.set_data(**(data or {}))
        record(s, "instance_started", at=now, actor_id=actor_id, case_id=case_id,
               instance_id=instance.id, process=process_id, version=definition.version,
               **titled("Startet: %(name)s", name=definition.name))
        workflow.do_engine_steps()
        self._persist(s, instance, workflow, set())
        return StepResult(instance.id, case_id, instance.status, s.info.get("opened", []))

    def _new_instance(self, case_id: int, definition: ProcessDefinition) -> ProcessInstance:
        now = self.clock.now()
        return ProcessInstance(case_id=case_id, definition=definition, state={}, created_at=now, updated_at=now)

    def episode_starter(self, s: Session, case_id: int, *, actor_id: int | None) -> Callable[[str, dict], int]:
        """``start_episode(process_id, data) -> instance id`` for a domain operation called outside
        a step: each start joins the caller's transaction."""
        def start_episode(process_id: str, data: dict) -> int:
            return self.start_in(s, case_id, process_id, actor_id=actor_id, data=data).instance_id
        return start_episode

    # ----------------------------------------------------------------- scheduled starts
    def schedule_in(self, s: Session, case_id: int, process_id: str, due_at: datetime, data: dict, *,
                    key: str | None = None, actor_id: int | None = None) -> int:
        """Start ``process_id`` for the case when ``due_at`` comes (the version current then).
        Joins the caller's transaction; returns the scheduled start's id."""
        if due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        definition = latest_definition(s, process_id)
        if definition is None:
            raise NotFound(f"no process '{process_id}'")
        try:  # plain JSON only: refused now rather than when it falls due
            encoded = json.dumps(data)
        except (TypeError, ValueError):
            raise DataError("start data may only hold text, numbers, true/false, lists and records") from None
        if len(encoded) > self.limits.max_state_bytes:
            raise DataError("the start data is too large")
        now = self.clock.now()
        row = ScheduledStart(case_id=case_id, process_id=process_id, due_at=due_at, data=data, key=key,
                             status="pending", created_at=now)
        s.add(row)
        s.flush()
        record(s, "episode_scheduled", at=now, actor_id=actor_id, case_id=case_id, process=process_id,
               scheduled_start_id=row.id, due_at=due_at.isoformat(), key=key,
               **titled("Planlagt start %(date)s: %(process)s", date=f"{due_at.astimezone(OSLO):%d.%m.%Y}",
                        process=definition.name))
        return row.id

    def episode_scheduler(self, s: Session, case_id: int, *, actor_id: int | None) -> Callable[..., int]:
        """``schedule_episode(process_id, due_at, data, key=None) -> id`` bound to ``s``."""
        def schedule_episode(process_id: str, due_at: datetime, data: dict, key: str | None = None) -> int:
            return self.schedule_in(s, case_id, process_id, due_at, data, key=key, actor_id=actor_id)
        return schedule_episode

    def cancel_scheduled_in(self, s: Session, case_id: int, *, process_id: str | None = None,
                            key: str | None = None, reason: str, actor_id: int | None = None,
                            keep: tuple[str, ...] = ()) -> int:
        """Cancel the case's pending scheduled starts (of one process, or with one key)."""
        query = select(ScheduledStart).where(ScheduledStart.case_id == case_id,
                                             ScheduledStart.status == "pending")
        if process_id is not None:
            query = query.where(ScheduledStart.process_id == process_id)
        if key is not None:
            query = query.where(ScheduledStart.key == key)
        if keep:
            query = query.where(ScheduledStart.process_id.notin_(keep))
        if self.db.dialect == "postgresql":
            query = query.with_for_update()
        now, count = self.clock.now(), 0
        for row in s.scalars(query):
            row.status, row.reason = "cancelled", reason[:2000]
            definition = latest_definition(s, row.process_id)
            record(s, "scheduled_start_cancelled", at=now, actor_id=actor_id, case_id=case_id,
                   process=row.process_id, scheduled_start_id=row.id, reason=reason,
                   **titled("Planlagt start avbrutt: %(process)s",
                            process=definition.name if definition is not None else row.process_id))
            count += 1
        return count

    def start_due_scheduled(self, limit: int = 500) -> int:
        """Start the scheduled episodes that are due, each exactly once even with several workers
        (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite serialises writers). A start that fails
        keeps its instance with an incident, like any other start."""
        now = self.clock.now()
        due = self._due(ScheduledStart, ScheduledStart.due_at, now, ScheduledStart.status == "pending",
                        batch=max(1, min(limit, 200)))
        return self._in_batches(due, START_BATCH, limit, lambda ids: self._start_batch(ids, now))

    def _start_batch(self, ids: list[int], now) -> int:
        """Start a few due scheduled episodes in one transaction (``_together_or_each``), each
        process's current version read once, their audit events and e-mails written together.
        What a start's handlers write stays in the database (mail goes to the outbox), so a
        batch redone one by one does nothing twice."""
        def together(s: Session) -> int:
            rows = list(s.scalars(self._claim_starts(), {"ids": ids, "now": now}))
            if not rows:  # another worker holds them, or they are no longer due
                return 0
            # the version current now, read once for the batch's processes
            current = latest_definitions(s, {row.process_id for row in rows})
            if None in current.values():
                raise NotFound("a scheduled process no longer exists")  # each on its own cancels it
            # what the batch's starts all need, written and read once for the batch: their
            # instances' rows (one INSERT), and what their handlers read first (prepare_batch)
            instances = [self._new_instance(row.case_id, current[row.process_id]) for row in rows]
            s.add_all(instances)
            s.flush()
            self.hooks.prepare_batch(s, [(row.case_id, row.data or {}) for row in rows])
            with self._writes_together(s):
                for row, instance in zip(rows, instances):
                    self.start_in(s, row.case_id, row.process_id, data=dict(row.data or {}), instance=instance)
            started_at = self.clock.now()
            for row, instance in zip(rows, instances):  # marked together: one UPDATE at commit
                row.status, row.instance_id, row.started_at = "started", instance.id, started_at
            return len(rows)

        def each(row_id: int) -> bool:
            try:
                return self._start_scheduled(row_id, now)
            except Exception:  # never stops the loop: the failure is an incident on that instance
                self._start_scheduled_failed(row_id, now)
                return True

        return self._together_or_each(ids, together, each)

    @contextmanager
    def _writes_together(self, s: Session) -> Iterator[None]:
        """A batch's steps write their audit events, e-mails, instance states and open tasks
        together, each kind in one statement (``events_together``, the ``writes_together`` hook,
        ``step_writes.together``)."""
        with events_together(s), self.hooks.writes_together(s), step_writes.together(s):
            yield

    @staticmethod
    def _in_batches(candidates, size: int, limit: int, run: Callable[[list[int]], int]) -> int:
        """Hand due ids to ``run`` ``size`` at a time until ``limit`` are done; returns how many."""
        done, batch = 0, []
        for candidate in candidates:
            batch.append(candidate)
            if len(batch) >= min(size, limit - done):
                done += run(batch)
                batch = []
            if done >= limit:
                return done
        if batch:
            done += run(batch)
        return done

    def _together_or_each(self, ids: list[int], together: Callable[[Session], int],
                          each: Callable[[int], bool]) -> int:
        """The worker's batches (due timers, scheduled starts): ``together(s)`` claims and does
        them all in one transaction, committed once (a step's transaction costs more than its
        work when a timer only moves on). If anything in it fails, nothing of the batch is kept
        and ``each(id)`` does every one in a transaction of its own, as a step always does, so a
        failing one becomes an incident and the others run once. Returns how many were done."""
        if len(ids) > 1:
            try:
                with self.db.transaction(serialised=True) as s:
                    return together(s)
            except Exception:  # noqa: BLE001 - each again on its own, below
                pass
        return sum(1 for one in ids if each(one))

    def _due(self, model, due_column, now, *conditions, batch: int = 100):
        """Ids of rows due at ``now``, earliest first, ``batch`` per query, never the same id twice
        (a row another worker holds is skipped by the caller's claim and not offered again; the
        claim re-checks that the row is still due, so a stale id in a batch is harmless)."""
        seen: set[int] = set()
        while True:
            with self.db.session() as s:
                candidates = list(s.scalars(select(model.id)
                                            .where(*conditions, due_column <= now,
                                                   model.id.notin_(seen) if seen else True)
                                            .order_by(due_column, model.id).limit(batch)))
            if not candidates:
                return
            for candidate in candidates:
                seen.add(candidate)
                yield candidate

    def _claim_starts(self):
        return _CLAIM_STARTS_SKIP_LOCKED if self.db.dialect == "postgresql" else _CLAIM_STARTS

    def _claim_scheduled(self, s: Session, row_id: int, now) -> ScheduledStart | None:
        return s.scalar(self._claim_starts(), {"ids": [row_id], "now": now})

    def _start_scheduled(self, row_id: int, now) -> bool:
        with self.db.transaction(serialised=True) as s:
            row = self._claim_scheduled(s, row_id, now)
            if row is None:
                return False
            result = self.start_in(s, row.case_id, row.process_id, data=dict(row.data or {}))
            row.status, row.instance_id, row.started_at = "started", result.instance_id, self.clock.now()
            return True

    def _start_scheduled_failed(self, row_id: int, now) -> None:
        try:
            with self.db.transaction(serialised=True) as s:
                row = self._claim_scheduled(s, row_id, now)
                if row is None:
                    return
                definition = latest_definition(s, row.process_id)
                if definition is None:
                    row.status, row.reason = "cancelled", "the process no longer exists"
                    return
                instance = self._failed_instance(s, row.case_id, definition, dict(row.data or {}), None,
                                                 "the episode could not start", None)
                row.status, row.instance_id, row.started_at = "started", instance.id, self.clock.now()
        except Exception:  # the row stays pending and is tried again next round
            return

    # ----------------------------------------------------------------- steps
    def complete_task(self, instance_id: int, task_id: str, data: dict | None, *, actor_id: int | None,
                      check: Callable[[Session, ProcessInstance, dict], dict] | None = None) -> StepResult:
        """Complete a ready user task with form data and run on, in one transaction.

        ``check(session, instance, task_data) -> data``, if given, runs inside that transaction
        once the instance is locked and the task found ready: the caller decides access and
        validates the form there (raising an ``EngineError`` such as ``Refused`` rolls it all
        back), may add rows of its own (the access log) and returns the data to complete with."""

        def act(s: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
            nonlocal data
            task = self._ready_task(s, instance, workflow, task_id)
            if check is not None:
                try:
                    data = check(s, instance, dict(task.data))
                except EngineError:
                    raise
                except Exception as exc:
                    raise CheckFailed("the caller's check failed") from exc
                pending["data"] = data
            properties = _properties(task.task_spec)
            key = properties.get("formDataKey")
            if key:  # the form's data as one record, e.g. a multi-instance's output item
                base = task.data.get(properties.get("formDataFrom", ""))
                task.data[key] = {**(base if isinstance(base, dict) else {}), **data}
            else:
                task.data.update(data)
            task.run()
            record(s, "task_completed", at=self.clock.now(), actor_id=actor_id, case_id=instance.case_id,
                   instance_id=instance.id, task_id=task_id, task=task.task_spec.bpmn_id,
                   **titled("Utført: %(name)s", name=task.task_spec.bpmn_name or task.task_spec.bpmn_id))

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
        if pending.get("action") == "start":
            return self._step(instance_id, self._restart, actor_id, pending)
        return self._step(instance_id, self._fire_timers, actor_id, pending, allow_incident=True)

    def fire_due_timers(self, limit: int = 500) -> int:
        """Start the scheduled episodes that are due, then fire due timers. Safe to run in several
        workers at once: on PostgreSQL each row is claimed with ``FOR UPDATE SKIP LOCKED``; on
        SQLite writers are serialised. A failing instance becomes an incident; the loop goes on."""
        fired = self.start_due_scheduled(limit)
        now = self.clock.now()
        due = self._due(ProcessInstance, ProcessInstance.next_due_at, now, ProcessInstance.status == "running",
                        batch=max(1, min(limit, 200)))
        return fired + self._in_batches(due, TIMER_BATCH, limit - fired, lambda ids: self._fire_batch(ids, now))

    def _fire_batch(self, ids: list[int], due_before) -> int:
        """Fire the due timers of a few instances in one transaction (``_together_or_each``). The
        steps' writes stay in the database only, so a batch redone one by one does nothing twice."""
        def together(s: Session) -> int:
            claim = _CLAIM_MANY_SKIP_LOCKED if self.db.dialect == "postgresql" else _CLAIM_MANY
            instances = list(s.scalars(claim, {"ids": ids, "due_before": due_before}))
            self.hooks.prepare_batch(s, [(instance.case_id, {}) for instance in instances])
            with self._writes_together(s):
                for instance in instances:
                    self._advance(s, instance, self._fire_timers, None, {"action": "fire"})
            return len(instances)

        def each(instance_id: int) -> bool:
            try:
                return self._step(instance_id, self._fire_timers, None, {"action": "fire"},
                                  claim=True, due_before=due_before) is not None
            except Exception:  # an incident was recorded (or another worker holds it): go on
                return False

        return self._together_or_each(ids, together, each)

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
               instance_id=instance.id, reason=reason, **titled("Prosess avbrutt: %(name)s", name=reason))
        return True

    def update_waiting_in(self, s: Session, instance_id: int, change: Callable[[dict], dict], *,
                          actor_id: int | None) -> int:
        """In the caller's transaction: the instance's ready human tasks, and the timers waiting
        on them (their boundary events), take what ``change(task data)`` returns; those timers
        are computed again from it, and the open tasks' due dates move with it (a meeting moved
        after its invitation: its reminder and its step follow the new date). A timer that fired
        already stays fired; one due by the new data fires now. Returns how many ready tasks
        took the change."""
        instance = self._lock(s, instance_id)
        if instance.status != "running":
            raise Conflict(f"the process is {instance.status}")
        workflow = self.load_workflow(s, instance, actor_id)
        before = _ready_ids(workflow)
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        for task in ready:
            task.data.update(change(task.data))
            timers = [event for event in (task.parent.children if task.parent is not None else ())
                      if event is not task and event.state == TaskState.WAITING and is_timer(event.task_spec)]
            if timers:  # boundary events: they wait beside the task, under one split whose data
                task.parent.data.update(change(task.parent.data))  # they take again when checked
            for event in timers:
                event.data.update(change(event.data))
                event.internal_data.pop("event_value", None)  # computed again from the data
        workflow.refresh_timers()
        workflow.do_engine_steps()
        self._persist(s, instance, workflow, before)
        for task in ready:
            if task.state == TaskState.READY:  # still open: its due date follows the data
                due = self._due_date(_properties(task.task_spec).get("dueDate"), task.data)
                if due is not None:
                    step_writes.move_due(s, instance.id, str(task.id), due)
        return len(ready)

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

    def reassign(self, s: Session, case_id: int, *, lane: str, from_user_id: int) -> int:
        """Give the open steps of ``lane`` that were assigned to ``from_user_id`` — or to nobody
        in particular — to whoever holds the lane now (one holder: assigned; several: any of
        them; none: orphaned). Joins the caller's transaction; returns how many steps changed."""
        s.flush()
        holders = self.hooks.resolve_role(s, case_id, lane)
        if from_user_id in holders:
            return 0
        rows = s.scalars(select(OpenTask).where(
            OpenTask.case_id == case_id, OpenTask.lane == lane,
            (OpenTask.assignee_id == from_user_id) | OpenTask.assignee_id.is_(None))).all()
        changed = 0
        for row in rows:
            assignee, orphaned = (holders[0] if len(holders) == 1 else None), not holders
            if (row.assignee_id, row.orphaned) != (assignee, orphaned):
                row.assignee_id, row.orphaned = assignee, orphaned
                changed += 1
        return changed

    # ----------------------------------------------------------------- versions
    def migrate(self, instance_ids: list[int], process_id: str, to_version: int, *, dry_run: bool = True,
                actor_id: int | None = None):
        """Check (``dry_run``) or move instances of ``process_id`` to ``to_version``; one
        ``MigrationCheck`` per instance saying whether it can move and why not (see ``migration``)."""
        from webapp.engine.migration import check_or_move

        return check_or_move(self, instance_ids, process_id, to_version, dry_run=dry_run, actor_id=actor_id)

    def lock_for_migration(self, s: Session, instance_id: int) -> ProcessInstance | None:
        try:
            return self._lock(s, instance_id)
        except NotFound:
            return None

    def persist_migrated(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, target) -> None:
        """Store a migrated workflow on its new version and run on from where it stands."""
        instance.definition = target
        for row in s.scalars(select(OpenTask).where(OpenTask.instance_id == instance.id)):
            s.delete(row)  # projected again from the new version (titles, forms, lanes)
        s.flush()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        self._persist(s, instance, workflow, set())

    # ----------------------------------------------------------------- reading
    def load_workflow(self, s: Session, instance: ProcessInstance, actor_id: int | None = None) -> BpmnWorkflow:
        """Restore an instance's workflow with the cached spec and our script engine."""
        spec, subs = self.specs.get(instance.definition)
        return load_state(instance.state, spec, subs, self._script_engine(s, instance, actor_id))

    def task_data(self, s: Session, instance: ProcessInstance, task_id: str) -> dict:
        """The data a task sees (to pre-fill its form), read from the stored state; the workflow is
        restored only for a state of an older layout."""
        try:
            data = read_task_data(instance.state, task_id)
            if data is None:
                data = self.load_workflow(s, instance).get_task_from_id(UUID(task_id)).data
            return dict(data)
        except (ValueError, SpiffWorkflowException, KeyError, DataError):
            return {}

    def task_view(self, s: Session, instance: ProcessInstance, task_spec_id: str, task_id: str,
                  data: dict | None = None) -> TaskView:
        """The form, its properties, the guideline text and the data of one open user task
        (``data``: the task's data if the caller has it already)."""
        spec, _subs = self.specs.get(instance.definition)
        candidates = [ts for ts in spec.task_specs.values() if getattr(ts, "bpmn_id", None) == task_spec_id]
        task_spec = next((ts for ts in candidates if getattr(ts, "manual", False)),
                         candidates[0] if candidates else None)
        name = form_name(task_spec) if task_spec is not None else None
        schema = self.specs.forms(instance.definition).get(name) if name else None
        return TaskView(form=name, schema=schema or {"type": "object", "properties": {}},
                        properties=dict(_properties(task_spec)) if task_spec is not None else {},
                        documentation=getattr(task_spec, "documentation", None),
                        data=data if data is not None else self.task_data(s, instance, task_id))

    def step_name(self, definition, bpmn_id: str) -> str | None:
        """The name a diagram gives one of its elements (the author's text: register data)."""
        spec, subs = self.specs.get(definition)
        for process in (spec, *subs.values()):
            for task_spec in process.task_specs.values():
                if getattr(task_spec, "bpmn_id", None) == bpmn_id and getattr(task_spec, "bpmn_name", None):
                    return task_spec.bpmn_name
        return None

    def episode_steps(self, s: Session, instance: ProcessInstance):
        """The episode's user tasks as done / now / next (see ``progress``), from the stored state."""
        spec, _subs = self.specs.get(instance.definition)
        tasks = read_task_states(instance.state or {})
        if tasks is None:
            try:
                workflow = self.load_workflow(s, instance)
                tasks = [(t.task_spec.name, t.state) for t in workflow.tasks.values()]
            except DataError:
                tasks = []
        return episode_steps(spec, instance, tasks)

    def completion_of(self, s: Session, instance_id: int, task_id: str):
        """(actor id, when) of the completion of a task, or None."""
        events = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                    AuditEvent.kind == "task_completed")
                           .order_by(AuditEvent.id.desc()))
        for event in events:
            if event.detail.get("task_id") == task_id:
                return event.actor_id, event.created_at
        return None

    # ----------------------------------------------------------------- internals
    def _script_engine(self, s: Session, instance: ProcessInstance, actor_id: int | None) -> EngineScriptEngine:
        case_id = instance.case_id

        def cancel_other_episodes(reason: str, keep: tuple[str, ...] = ()) -> int:
            cancelled = sum(self.cancel_in(s, other, reason, actor_id=actor_id)
                            for other in self.lock_running(s, case_id, exclude=instance.id)
                            if other.definition.process_id not in keep)
            return cancelled + self.cancel_scheduled_in(s, case_id, reason=reason, actor_id=actor_id,
                                                        keep=keep)

        def cancel_scheduled(process_id: str | None = None, key: str | None = None, reason: str = "") -> int:
            return self.cancel_scheduled_in(s, case_id, process_id=process_id, key=key, reason=reason,
                                            actor_id=actor_id)

        def context_for(task):
            return self.hooks.handler_context(StepContext(
                session=s, case_id=case_id, instance_id=instance.id, actor_id=actor_id,
                now=self.clock.now(), task_spec=task.task_spec.bpmn_id, data=task.data,
                start_episode=self.episode_starter(s, case_id, actor_id=actor_id),
                schedule_episode=self.episode_scheduler(s, case_id, actor_id=actor_id),
                cancel_scheduled=cancel_scheduled, cancel_other_episodes=cancel_other_episodes))

        return EngineScriptEngine(self.hooks.handlers, context_for, now=self.clock.now, limits=self.limits)

    def _evaluate(self, source: str, data: dict):
        return expressions.evaluate(source, data, self.limits.expressions)

    def _lock(self, s: Session, instance_id: int) -> ProcessInstance:
        instance = s.scalar(_LOCK_FOR_UPDATE if self.db.dialect == "postgresql" else _LOCK,
                            {"instance_id": instance_id})
        if instance is None:
            raise NotFound("no such process instance")
        return instance

    def _claim(self, s: Session, instance_id: int, due_before) -> ProcessInstance | None:
        return s.scalar(_CLAIM_SKIP_LOCKED if self.db.dialect == "postgresql" else _CLAIM,
                        {"instance_id": instance_id, "due_before": due_before})

    def _fire_timers(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        workflow.refresh_timers()
        record(s, "timers_checked", at=self.clock.now(), case_id=instance.case_id, instance_id=instance.id)

    def _restart(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        """Retry of a start whose first steps failed: run them again from the start data."""

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
                raise Conflict("already done", done_by_id=done[0], done_at=done[1])
            raise Conflict("the task is no longer open")
        return task

    def _step(self, instance_id: int, act, actor_id: int | None, pending: dict, *,
              claim: bool = False, due_before=None, allow_incident: bool = True) -> StepResult | None:
        try:
            with self.db.transaction(serialised=True) as s:
                if claim:
                    instance = self._claim(s, instance_id, due_before)
                    if instance is None:
                        return None  # another worker took it, or it is no longer due
                else:
                    instance = self._lock(s, instance_id)
                if instance.status not in ("running", "incident"):
                    raise Conflict(f"the process is {instance.status}")
                had_incident = instance.status == "incident"
                self._advance(s, instance, act, actor_id, pending)
                if had_incident:
                    self._resolve_incidents(s, instance)
                return StepResult(instance.id, instance.case_id, instance.status, s.info.get("opened", []))
        except StaleDataError:
            raise Conflict("the process was changed by someone else at the same time") from None
        except CheckFailed as exc:
            raise exc.__cause__ from None
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

    def _advance(self, s: Session, instance: ProcessInstance, act, actor_id, pending: dict) -> None:
        """The step itself, in the caller's transaction on the instance it holds: restore, act,
        run the engine steps, store the state and the projection."""
        workflow = self._restore_for_step(s, instance, actor_id, pending)
        before = _ready_ids(workflow) if instance.state else set()
        act(s, instance, workflow)
        workflow.do_engine_steps()
        self._persist(s, instance, workflow, before)

    def _restore_for_step(self, s: Session, instance: ProcessInstance, actor_id, pending) -> BpmnWorkflow:
        if pending.get("action") == "start" and not instance.state:
            spec, subs = self.specs.get(instance.definition)
            workflow = BpmnWorkflow(spec, subs, script_engine=self._script_engine(s, instance, actor_id))
            for task in workflow.get_tasks(state=TaskState.READY):
                task.set_data(**(pending.get("data") or {}))
            return workflow
        return self.load_workflow(s, instance, actor_id)

    def _persist(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, before: set[str]) -> None:
        """Write the state (encoded once: measured, then stored as that text) and the projection;
        ``before``: the ids of the ready human tasks before the step (projected then)."""
        now = self.clock.now()
        state = dump_state(workflow, self.limits.max_state_nodes)
        text = json.dumps(state, separators=(",", ":"))
        if len(text) > self.limits.max_state_bytes:
            raise DataError(f"the process data is larger than {self.limits.max_state_bytes // 1000} kB")
        values = {"state": EncodedJSON(state, text), "next_due_at": next_due(workflow), "updated_at": now,
                  "status": "running", "completed_at": instance.completed_at}
        if workflow.is_completed():
            values.update(status="completed", completed_at=now, next_due_at=None)
        if not step_writes.keeping(s):  # a batch writes them before anything reads (step_writes)
            s.flush()  # rows the step's handlers changed (this instance's too) are written first
        step_writes.store(s, instance, values)
        if instance.status == "completed":
            record(s, "instance_completed", at=now, case_id=instance.case_id, instance_id=instance.id)
        self._project(s, instance, workflow, before, now)

    def _project(self, s: Session, instance: ProcessInstance, workflow: BpmnWorkflow, before: set[str],
                 now) -> None:
        """Write the open human tasks of this instance: delete the finished, insert the new ones
        (the rows mirror the ready tasks of the stored state, so ``before`` says what is there).
        Each opened task is noted in ``s.info["opened"]`` for the caller's redirect."""
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        if before - ready.keys():  # Core statements on the connection: the session has no rows of these
            step_writes.unproject(s, instance.id, list(ready))
        rows, opened, lanes = [], s.info.setdefault("opened", []), {}
        for task_id, task in ready.items():
            if task_id in before:
                continue
            spec = task.task_spec
            lane = spec.lane
            properties = _properties(spec)
            if lane not in lanes:
                lanes[lane] = self.hooks.resolve_role(s, instance.case_id, lane) if lane else []
            holders = lanes[lane]
            assignee = holders[0] if len(holders) == 1 else None
            if properties.get("assignee"):  # a per-task person, e.g. one member of a multi-instance
                assignee = _as_user_id(self._evaluate(properties["assignee"], task.data))
            title = spec.bpmn_name or spec.bpmn_id
            if properties.get("titleDetail"):
                title = f"{title} – {_as_text(self._evaluate(properties['titleDetail'], task.data))}"
            rows.append(dict(
                case_id=instance.case_id, instance_id=instance.id, task_id=task_id, task_spec=spec.bpmn_id,
                title=title[:255], lane=lane, form=form_name(spec), assignee_id=assignee,
                orphaned=assignee is None and not holders, created_at=now,
                due_at=self._due_date(properties.get("dueDate"), task.data) or self._due_in(properties, now),
            ))
            opened.append(OpenedTask(instance.id, task_id, assignee, tuple(holders)))
        step_writes.project(s, rows)

    def _due_date(self, expression: str | None, data: dict):
        """``dueDate``: an expression giving an ISO date (end of that day, Oslo) or datetime."""
        if not expression:
            return None
        value = self._evaluate(expression, data)
        if not value:
            return None
        try:
            if len(str(value)) == 10:
                return datetime.combine(date.fromisoformat(str(value)), time(23, 59), OSLO)
            moment = datetime.fromisoformat(str(value))
            return moment if moment.tzinfo else moment.replace(tzinfo=OSLO)
        except ValueError:
            return None

    def _due_in(self, properties: dict, now):
        due = properties.get("dueIn")
        return durations.add_duration(now, due, self.limits.timers) if due else None

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
        pending = _storable(pending)
        incident = s.scalar(select(Incident).where(Incident.instance_id == instance.id,
                                                   Incident.status == "open"))
        if incident is None:
            incident = Incident(instance_id=instance.id, case_id=instance.case_id, created_at=now, message=message,
                                task_spec=spec_id, pending=pending)
            s.add(incident)
        else:
            incident.message, incident.task_spec, incident.pending = message, spec_id, pending
        instance.status, instance.updated_at = "incident", now
        s.flush()
        record(s, "incident_opened", at=now, actor_id=actor_id, case_id=instance.case_id,
               instance_id=instance.id, incident_id=incident.id, message=message[:500], task=spec_id)
        return incident.id

    def _failed_instance(self, s: Session, case_id: int, definition, data: dict, actor_id: int | None,
                         message: str, spec_id: str | None) -> ProcessInstance:
        """An instance whose first steps failed: no state yet; retry starts it from ``data``."""
        now = self.clock.now()
        instance = self._new_instance(case_id, definition)
        instance.status = "incident"
        s.add(instance)
        s.flush()
        record(s, "instance_started", at=now, actor_id=actor_id, case_id=case_id,
               instance_id=instance.id, process=definition.process_id, version=definition.version,
               **titled("Startet: %(name)s", name=definition.name))
        self._write_incident(s, instance, message, spec_id, {"action": "start", "data": data}, actor_id)
        return instance

    def _create_failed_instance(self, case_id: int, process_id: str, data: dict,
                                actor_id: int | None, message: str, spec_id: str | None) -> int:
        with self.db.transaction(serialised=True) as s:
            definition = latest_definition(s, process_id)
            instance = self._failed_instance(s, case_id, definition, data, actor_id, message, spec_id)
            return s.scalar(select(Incident.id).where(Incident.instance_id == instance.id,
                                                      Incident.status == "open"))


#: the instance a step works on, re-read (``populate_existing``) and, on PostgreSQL, locked; built
#: once (a statement built on every step costs more than it takes to run)
_LOCK = (select(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id", type_=Integer))
         .execution_options(populate_existing=True))
_LOCK_FOR_UPDATE = _LOCK.with_for_update(of=ProcessInstance)
#: a due instance for the worker: still running and due; on PostgreSQL one another worker holds
#: is skipped
_CLAIM = _LOCK.where(ProcessInstance.status == "running",
                     ProcessInstance.next_due_at <= bindparam("due_before", type_=ProcessInstance.next_due_at.type))
_CLAIM_SKIP_LOCKED = _CLAIM.with_for_update(skip_locked=True, of=ProcessInstance)
#: several due instances for one transaction of the worker (``_fire_batch``)
_CLAIM_MANY = (select(ProcessInstance)
               .where(ProcessInstance.id.in_(bindparam("ids", expanding=True)), ProcessInstance.status == "running",
                      ProcessInstance.next_due_at <= bindparam("due_before", type_=ProcessInstance.next_due_at.type))
               .order_by(ProcessInstance.id).execution_options(populate_existing=True))
_CLAIM_MANY_SKIP_LOCKED = _CLAIM_MANY.with_for_update(skip_locked=True, of=ProcessInstance)
#: instances whose due timers one worker transaction fires together
TIMER_BATCH = 10
#: due scheduled starts for one transaction of the worker (``_start_batch``)
_CLAIM_STARTS = (select(ScheduledStart)
                 .where(ScheduledStart.id.in_(bindparam("ids", expanding=True)), ScheduledStart.status == "pending",
                        ScheduledStart.due_at <= bindparam("now", type_=ScheduledStart.due_at.type))
                 .order_by(ScheduledStart.id).execution_options(populate_existing=True))
_CLAIM_STARTS_SKIP_LOCKED = _CLAIM_STARTS.with_for_update(skip_locked=True)
#: scheduled starts one worker transaction starts together
START_BATCH = 10


def _ready_ids(workflow: BpmnWorkflow) -> set[str]:
    return {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}


def _properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _storable(pending: dict) -> dict:
    """What to redo, as JSON; data that cannot be stored is dropped (a retry could not use it)."""
    try:
        json.dumps(pending, allow_nan=False)
        return pending
    except (TypeError, ValueError):
        return {**pending, "data": None}


def _as_user_id(value) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)[:200]
