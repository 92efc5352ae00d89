"""What the engine needs from the application, as small interfaces.

The engine is a leaf layer: it knows nothing of cases, users or mail. The domain implements
these and hands them to the engine when the app is created (``webapp/__init__.py``).
"""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol

from sqlalchemy.orm import Session


@dataclass
class StepContext:
    """What the engine knows about one service-task call; the domain turns it into the context
    its handlers receive (``HandlerContextFactory``)."""

    session: Session
    case_id: int
    instance_id: int
    actor_id: int | None
    now: datetime
    task_spec: str
    data: dict[str, Any]
    #: start another episode of this case now, in the same transaction -> instance id
    start_episode: Callable[[str, dict], int]
    #: start an episode when it falls due: (process_id, due_at, data, key=None) -> scheduled start id
    schedule_episode: Callable[..., int]
    #: cancel pending scheduled starts of this case: (process_id=None, key=None, reason="") -> count
    cancel_scheduled: Callable[..., int]
    #: cancel this case's other running episodes and pending starts, except processes in ``keep``
    cancel_other_episodes: Callable[..., int]


class HandlerContextFactory(Protocol):
    def __call__(self, step: StepContext) -> Any: ...


class RoleResolver(Protocol):
    """A lane names a case role; return the ids of the active people holding it in the case."""

    def __call__(self, session: Session, case_id: int, lane: str) -> list[int]: ...


@dataclass
class EngineHooks:
    #: handler name -> fn(context, **params) -> JSON value; the only code a diagram can call
    handlers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    handler_context: HandlerContextFactory = lambda step: step
    resolve_role: RoleResolver = lambda session, case_id, lane: []
    #: before a worker batch runs (scheduled starts, due timers), given each step's ``(case id,
    #: start data)`` (a timer's: empty): load into the session, at once, what each step's
    #: handlers and lanes will read (they run in one transaction)
    prepare_batch: Callable[[Session, list[tuple[int, dict]]], None] = lambda session, steps: None
    #: around the steps of a worker batch: the domain's writes that nothing in a step reads (its
    #: e-mails) kept and written together at the end (the engine does so with its audit events)
    writes_together: Callable[[Session], AbstractContextManager] = lambda session: nullcontext()
    #: the web layer's named form providers, for validation: {"defaults"|"context"|"options": names}
    provider_names: Callable[[], Mapping[str, set[str]]] = lambda: {}
