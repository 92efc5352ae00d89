"""The script engine every workflow runs with: sandboxed expressions and scripts, and service
tasks that dispatch only to registered handlers."""
from __future__ import annotations

import json
from typing import Callable, Mapping

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from webapp.engine.sandbox import SandboxEnvironment
from handlers.context import HandlerContext


class HandlerError(Exception):
    """A service task failed; becomes an incident."""


class EngineScriptEngine(PythonScriptEngine):
    def __init__(self, handlers: Mapping[str, Callable], context_factory: Callable[..., HandlerContext],
                 time_limit: float = 1.0):
        super().__init__(environment=SandboxEnvironment(time_limit=time_limit))
        self.handlers = handlers
        self.context_factory = context_factory

    def call_service(self, task, operation_name=None, operation_params=None, **_ignored):
        handler = self.handlers.get(operation_name)
        if handler is None:
            raise WorkflowTaskException(f"unknown handler '{operation_name}'", task=task)
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        context = self.context_factory(task)
        try:
            result = handler(context, **params)
        except Exception as exc:
            raise WorkflowTaskException(f"handler '{operation_name}' failed: {exc}", task=task,
                                        exception=exc) from exc
        return json.dumps(result)
