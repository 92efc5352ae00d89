"""Timers on the engine's clock, with bounded values.

SpiffWorkflow's timer event definitions read the wall clock (``datetime.now``) and compute
durations month by month, so ``P99999999Y`` would hang a step. We replace the three timer
definitions in every parsed spec with subclasses that ask the workflow's script engine for the
time (the engine's movable Clock) and parse values with ``durations`` (bounded by settings).
Nothing is patched process-wide. ``next_due`` gives an instance's earliest pending timer for the
worker.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, DurationTimerEventDefinition, TimeDateEventDefinition,
)

from webapp.engine import durations


def _engine(my_task):
    return my_task.workflow.top_workflow.script_engine


def _without_value(parse, text: str, *args):
    """Parse a timer value; a refusal does not quote it (it may come from task data, and
    incident messages never carry data values)."""
    try:
        return parse(text, *args)
    except durations.DurationError as exc:
        raise durations.DurationError(exc.message.replace(durations.quote(text), "tidsverdien")) from None


def _value(my_task, expression) -> str:
    value = _engine(my_task).evaluate(my_task, expression)
    if not isinstance(value, (str, datetime)):
        raise durations.DurationError("et tidsuttrykk må gi en ISO 8601-tekst, for eksempel «P14D» eller en dato")
    return value.isoformat() if isinstance(value, datetime) else value


class ClockedTimeDate(TimeDateEventDefinition):
    """A timer at a date/time (naive values are Oslo time)."""

    def has_fired(self, my_task):
        engine = _engine(my_task)
        due = my_task._get_internal_data("event_value")
        if due is None:
            due = _without_value(durations.parse_moment, _value(my_task, self.expression),
                                 engine.timer_limits).isoformat()
            my_task._set_internal_data(event_value=due)
        if datetime.fromisoformat(due) <= engine.now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedDuration(DurationTimerEventDefinition):
    """A timer a duration after the task was reached."""

    def has_fired(self, my_task):
        engine = _engine(my_task)
        due = my_task._get_internal_data("event_value")
        if due is None:
            moment = _without_value(lambda text, limits: durations.add_duration(engine.now(), text, limits),
                                    _value(my_task, self.expression), engine.timer_limits)
            due = moment.astimezone(timezone.utc).isoformat()
            my_task._set_internal_data(event_value=due)
        if datetime.fromisoformat(due) <= engine.now():
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedCycle(CycleTimerEventDefinition):
    """A repeating timer (a bounded number of repetitions, a bounded interval). Missed rounds
    are skipped: one firing per call to ``refresh_timers``, never a catch-up burst."""

    def cycle_complete(self, my_task):
        engine = _engine(my_task)
        now = engine.now()
        value = my_task._get_internal_data("event_value")
        if value is None:
            cycles, first, interval = _without_value(
                lambda text, limits: durations.parse_cycle(text, now, limits),
                _value(my_task, self.expression), engine.timer_limits)
            value = {"cycles": cycles, "next": first.isoformat(), "duration": interval.total_seconds()}
        ready = False
        if value["cycles"] != 0:
            following = datetime.fromisoformat(value["next"])
            if following <= now:
                # fire once, however many rounds were missed (a worker that was down must not
                # send a burst of reminders); the next round is the first one after now
                missed = int((now - following).total_seconds() // value["duration"])
                value["next"] = (following + timedelta(seconds=value["duration"] * (missed + 1))).isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=value)
        return ready


_REPLACEMENTS = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}

#: serializer converters for our classes (the diff used by migration converts task specs)
CONVERTERS = {cls: TimerConditionalEventDefinitionConverter for cls in _REPLACEMENTS.values()}


def _replaced(definition):
    if isinstance(definition, MultipleEventDefinition):
        definition.event_definitions = [_replaced(d) for d in definition.event_definitions]
        return definition
    cls = _REPLACEMENTS.get(type(definition))
    if cls is None:
        return definition
    clocked = cls.__new__(cls)
    clocked.__dict__.update(definition.__dict__)
    return clocked


def install(spec, subprocess_specs) -> None:
    """Swap SpiffWorkflow's timer definitions for ours in freshly parsed specs."""
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if definition is not None:
                task_spec.event_definition = _replaced(definition)


TIMER_TYPES = {cls.__name__ for cls in _REPLACEMENTS.values()} | {
    "TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


def is_timer(task_spec) -> bool:
    """Whether a task spec is a timer event (a boundary or catching event with a timer)."""
    definition = getattr(task_spec, "event_definition", None)
    return type(definition).__name__ in TIMER_TYPES


def next_due(workflow) -> datetime | None:
    """The earliest pending timer of the workflow, in UTC, or None."""
    due = None
    for event in workflow.waiting_events():
        if event.event_type not in TIMER_TYPES:
            continue
        value = event.value
        if isinstance(value, dict):  # a cycle that has no more repetitions
            continue
        try:
            moment = datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
        if due is None or moment < due:
            due = moment
    return due

