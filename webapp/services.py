"""The long-lived parts an app holds (database, clock, engine), reachable from views."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session

from webapp.clock import Clock
from webapp.db import Database
from webapp.engine.runtime import WorkflowEngine


@dataclass
class Services:
    db: Database
    clock: Clock
    engine: WorkflowEngine


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
