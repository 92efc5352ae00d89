"""Reading BPMN elements in an lxml tree: their local name in the BPMN namespace, and text with
its whitespace folded (what a reader sees, so layout never counts as a change)."""
from __future__ import annotations

from webapp.engine.parsing import BPMN_NS

BPMN = f"{{{BPMN_NS}}}"


def local(element) -> str | None:
    """``userTask`` for ``{BPMN}userTask``; None for other namespaces, comments and the like."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith(BPMN):
        return tag[len(BPMN):]
    return None


def folded(text: str | None) -> str:
    return " ".join((text or "").split())
