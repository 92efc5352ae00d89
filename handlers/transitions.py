"""Service tasks of processes/transition_review.bpmn (and planning transitions at activation)."""
from __future__ import annotations

from handlers.context import HandlerContext
from handlers.registry import handler


@handler("plan_transitions")
def plan_transitions(ctx: HandlerContext) -> int:
    # PLACEHOLDER: being written in this session (transitions). Must not ship as is.
    return 0
