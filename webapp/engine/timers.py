"""Timers: SpiffWorkflow reads the time with ``datetime.now``; we point that at the engine's
Clock for the duration of a step (so tests and the demo can move time), interpret naive diagram
dates in Europe/Oslo, and compute an instance's next due time for the worker."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import datetime, timezone

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from webapp.clock import OSLO, Clock

_current_clock: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("clock", default=None)
_real_datetime = datetime


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        clock = _current_clock.get()
        moment = clock.now() if clock is not None else _real_datetime.now(timezone.utc)
        return moment.astimezone(tz) if tz is not None else moment.astimezone(OSLO).replace(tzinfo=None)


spiff_timer.datetime = _ClockedDatetime
spiff_timer.LOCALTZ = OSLO


@contextmanager
def using_clock(clock: Clock):
    token = _current_clock.set(clock)
    try:
        yield
    finally:
        _current_clock.reset(token)


TIMER_TYPES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


def _as_datetime(value) -> datetime | None:
    try:
        if isinstance(value, dict):  # cycle timer
            value = value.get("next")
        if isinstance(value, datetime):
            moment = value
        else:
            moment = spiff_timer.TimerEventDefinition.get_datetime(str(value))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=OSLO)
    return _real_datetime.fromtimestamp(moment.timestamp(), timezone.utc)


def next_due(workflow) -> datetime | None:
    """The earliest pending timer of the workflow, in UTC, or None."""
    due = None
    for event in workflow.waiting_events():
        if event.event_type not in TIMER_TYPES:
            continue
        moment = _as_datetime(event.value)
        if moment is not None and (due is None or moment < due):
            due = moment
    return due
