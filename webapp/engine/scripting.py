"""The script engine every workflow runs with.

Expressions (conditions, timer values, task properties, service-task parameters, loop
cardinalities) go to our own bounded evaluator (``expressions``); scripts are not supported —
process owners use service tasks, which reach only the registered handlers. SpiffWorkflow's
default engine runs plain ``eval``/``exec``; nothing here does.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from sqlalchemy.exc import SQLAlchemyError
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask

from webapp.engine import expressions
from webapp.engine.durations import TimerLimits

SCRIPTS_REFUSED = ("scripts are not supported; use a service task with a registered handler, "
                   "or an expression")


@dataclass(frozen=True)
class RunLimits:
    """Bounds on what a diagram can make a step do (settings may override the defaults)."""

    expressions: expressions.Limits = field(default_factory=lambda: expressions.DEFAULT_LIMITS)
    timers: TimerLimits = field(default_factory=TimerLimits)
    max_cardinality: int = 1000          # instances of one multi-instance activity
    max_state_nodes: int = 200_000       # values in one instance's stored state
    max_state_bytes: int = 2_000_000     # serialized size of one instance's state


class ExpressionEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, limits: expressions.Limits):
        super().__init__({})
        self.limits = limits

    def evaluate(self, expression, context, external_context=None):
        data = {**(external_context or {}), **context} if external_context else context
        return expressions.evaluate(expression, data, self.limits)

    def execute(self, script, context, external_context=None):
        raise expressions.ExpressionError(SCRIPTS_REFUSED)

    def call_service(self, context, **kwargs):
        raise expressions.ExpressionError("service tasks are run by the engine")


def _without_values(message: str) -> str:
    """The evaluator quotes values in its messages (good for authors at deploy time); at run time
    those values may be task data, and incident messages never carry data."""
    return re.sub(r"'[^']*'…?", "…", message)


def _plain_message(exc: Exception) -> str:
    if isinstance(exc, SQLAlchemyError):  # its text carries the statement's parameters: content
        return "the database refused the change"
    return str(getattr(exc, "message", None) or exc)[:500] or "the step failed"


class EngineScriptEngine(PythonScriptEngine):
    def __init__(self, handlers: Mapping[str, Callable], context_for: Callable, *,
                 now: Callable[[], datetime], limits: RunLimits):
        super().__init__(environment=ExpressionEnvironment(limits.expressions))
        self.handlers = handlers
        self.context_for = context_for
        self.now = now
        self.limits = limits
        self.timer_limits = limits.timers

    def evaluate(self, task, expression, external_context=None):
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
        except expressions.ExpressionError as exc:
            raise WorkflowTaskException(f"expression '{expression[:200]}' failed: {_without_values(exc.message)}",
                                        task=task) from None
        spec = task.task_spec
        if isinstance(spec, LoopTask) and expression == getattr(spec, "cardinality", None):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise WorkflowTaskException("the number of instances must be a whole number", task=task)
            if value > self.limits.max_cardinality:
                raise WorkflowTaskException(
                    f"more than {self.limits.max_cardinality} instances of one activity", task=task)
        return value

    def execute(self, task, script, external_context=None):
        raise WorkflowTaskException(SCRIPTS_REFUSED, task=task)

    def call_service(self, task, operation_name=None, operation_params=None, **_ignored):
        handler = self.handlers.get(operation_name)
        if handler is None:
            raise WorkflowTaskException(f"unknown handler '{operation_name}'", task=task)
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        context = self.context_for(task)
        try:
            result = handler(context, **params)
        except Exception as exc:
            raise WorkflowTaskException(f"handler '{operation_name}' failed: {_plain_message(exc)}",
                                        task=task, exception=exc) from exc
        return json.dumps(result)
