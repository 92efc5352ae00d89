"""The long-lived parts an app holds (database, clock, engine), reachable from views."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session

from webapp.audit.access_log import AccessLog
from webapp.clock import Clock
from webapp.db import Database
from webapp.engine.hooks import EngineHooks
from webapp.engine.library import SpecCache
from webapp.engine.runtime import WorkflowEngine
from webapp.engine.scripting import RunLimits


@dataclass
class Services:
    db: Database
    clock: Clock
    engine: WorkflowEngine
    access_log: AccessLog


def build_engine(db: Database, clock: Clock, handlers, *, specs: SpecCache | None = None,
                 limits: RunLimits | None = None) -> WorkflowEngine:
    """The engine is a leaf layer: the domain hands it the handlers, the context handlers get,
    the lane → people resolver and the form providers' names here."""
    from handlers.context import context_factory, prepare_batch
    from webapp.outbox.operations import messages_together
    from webapp.cases.roles import resolve_role
    from webapp.taskforms.providers import provider_names

    hooks = EngineHooks(handlers=handlers, provider_names=provider_names, prepare_batch=prepare_batch,
                        writes_together=messages_together,
                        resolve_role=lambda s, case_id, lane: resolve_role(s, case_id, lane, clock.today()))
    engine = WorkflowEngine(db, clock, hooks, specs or SpecCache(), limits=limits)
    hooks.handler_context = context_factory(clock, engine.reassign)
    return engine


def services() -> Services:
    return current_app.extensions["ansvarsgruppe"]


def db_session() -> Session:
    """The request's read session (closed at teardown)."""
    if "db_session" not in g:
        g.db_session = services().db.session()
    return g.db_session


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
