"""Service tasks of processes/evaluation.bpmn and processes/closing.bpmn."""
from __future__ import annotations

from handlers.context import HandlerContext
from handlers.registry import handler


@handler("start_evaluation_cycle")
def start_evaluation_cycle(ctx: HandlerContext) -> int:
    # PLACEHOLDER: being written in this session (evaluation). Must not ship as is.
    return 0
