"""The rows a step writes with Core statements: its instance's state and its open tasks.

A step writes them at once. A worker's batch (``runtime._start_batch``, ``runtime._fire_batch``)
keeps them instead (``together``) and writes each kind in one executemany: before anything in
the session reads or flushes (as the ORM's autoflush does for its own objects), and at the end
of the batch. So what a step wrote is in the database whenever anything could look, and a batch
of ten starts sends two statements instead of twenty.

Core statements run on ``session.connection()`` bypass the session's events: one that reads
process instances or open tasks while a batch keeps writes must call ``write_kept`` first
(``unproject`` does).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import Integer, bindparam, delete, event, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from webapp.engine.models import OpenTask, ProcessInstance


def store(s: Session, instance: ProcessInstance, values: dict) -> None:
    """The step's write of the instance row: a Core UPDATE guarded by the row's ``lock_version``,
    as the ORM's version check (on every step, the unit of work cost more than the statement);
    the loaded object is brought up to date without being marked changed."""
    version = instance.lock_version
    row = {**values, "lock_version": version + 1, "id_": instance.id, "version_": version}
    kept = s.info.get(_KEPT)
    if kept is not None:
        kept.stores.append(row)
    elif s.connection().execute(_STORE, row).rowcount != 1:
        raise StaleDataError("the process instance was changed by someone else")
    for key, value in {**values, "lock_version": version + 1}.items():
        set_committed_value(instance, key, value)


def project(s: Session, rows: list[dict]) -> None:
    """Insert the open tasks a step opened."""
    kept = s.info.get(_KEPT)
    if kept is not None:
        kept.tasks += rows
    elif rows:
        s.connection().execute(_PROJECT, rows)


def unproject(s: Session, instance_id: int, ready: list[str]) -> None:
    """Delete the instance's open tasks that are no longer ready."""
    write_kept(s)
    s.connection().execute(_UNPROJECT, {"instance_id": instance_id, "ready": ready})


def move_due(s: Session, instance_id: int, task_id: str, due_at) -> None:
    """Move an open task's due date."""
    write_kept(s)
    s.connection().execute(_MOVE_DUE, {"instance_": instance_id, "task_": task_id, "due_": due_at})


def keeping(s: Session) -> bool:
    """Whether a batch keeps the steps' writes (then the session's own flush may wait too)."""
    return _KEPT in s.info


@contextmanager
def together(s: Session) -> Iterator[None]:
    """The steps inside keep their writes, written together when the session is about to read
    or flush, and at the end of the block. If the block fails nothing kept is written (the
    caller rolls back)."""
    kept = s.info[_KEPT] = _Kept()

    def before_use(*_args) -> None:
        _write(s, kept)

    event.listen(s, "do_orm_execute", before_use)
    event.listen(s, "before_flush", before_use)
    try:
        yield
        _write(s, kept)
    finally:
        event.remove(s, "do_orm_execute", before_use)
        event.remove(s, "before_flush", before_use)
        s.info.pop(_KEPT, None)


def write_kept(s: Session) -> None:
    """Write what a batch keeps now (nothing outside a batch)."""
    kept = s.info.get(_KEPT)
    if kept is not None:
        _write(s, kept)


@dataclass
class _Kept:
    stores: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)


def _write(s: Session, kept: _Kept) -> None:
    # taken first: the statements below run no ORM events, but a failure must not write twice
    stores, tasks = kept.stores, kept.tasks
    kept.stores, kept.tasks = [], []
    if stores:
        written = s.connection().execute(_STORE, stores)
        if s.get_bind().dialect.supports_sane_multi_rowcount and written.rowcount != len(stores):
            raise StaleDataError("a process instance was changed by someone else")
    if tasks:
        s.connection().execute(_PROJECT, tasks)


_KEPT = "step_writes_kept"
#: built once, as the claims in ``runtime``: a statement built on every step costs more than it
#: takes to run
_STORE = (update(ProcessInstance.__table__)
          .where(ProcessInstance.id == bindparam("id_"), ProcessInstance.lock_version == bindparam("version_")))
_PROJECT = insert(OpenTask.__table__)
_MOVE_DUE = (update(OpenTask.__table__)
             .where(OpenTask.instance_id == bindparam("instance_", type_=Integer),
                    OpenTask.task_id == bindparam("task_", type_=OpenTask.task_id.type))
             .values(due_at=bindparam("due_", type_=OpenTask.due_at.type)))
_UNPROJECT = delete(OpenTask.__table__).where(
    OpenTask.instance_id == bindparam("instance_id", type_=Integer),
    OpenTask.task_id.notin_(bindparam("ready", expanding=True)))
