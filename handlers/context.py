from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from webapp.cases.models import Case
    from webapp.clock import Clock
    from webapp.outbox.operations import Outbox


@dataclass
class HandlerContext:
    """Everything a handler may use. No Flask globals: the web request, the worker and the
    tests build the same context."""

    session: "Session"
    case: "Case"
    actor_id: int | None
    clock: "Clock"
    outbox: "Outbox"
    instance_id: int
    task_spec: str
    data: dict[str, Any]
    #: start another episode (process instance) of this case in the same transaction; returns its id
    start_episode: Callable[[str, dict], int] | None = None
    #: cancel the case's other running episodes (except the processes named in ``keep``); returns
    #: how many were cancelled
    cancel_other_episodes: Callable[..., int] | None = None
