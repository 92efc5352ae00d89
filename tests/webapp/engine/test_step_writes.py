"""A worker batch keeps its steps' writes of instance states and open tasks
(``step_writes.together``) and writes them together, yet whatever reads or flushes inside the
batch finds them written first, as the ORM's autoflush does for its own objects. SQLite and
PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from tests.conftest import deploy_test_diagrams
from tests.statements import counting
from tests.webapp.engine.helpers import make_case
from webapp.engine import step_writes
from webapp.engine.models import OpenTask, ProcessInstance


def _instances(services, count: int) -> list[int]:
    deploy_test_diagrams(services)
    case_id, user_id = make_case(services)
    return [services.engine.start(case_id, "two_steps", actor_id=user_id).instance_id for _ in range(count)]


def _task_row(instance: ProcessInstance, task_id: str, now) -> dict:
    return dict(case_id=instance.case_id, instance_id=instance.id, task_id=task_id, task_spec="Extra",
                title="Ekstra", lane="koordinator", form=None, assignee_id=None, orphaned=True,
                due_at=None, created_at=now)


def test_kept_writes_go_out_together_at_the_end(services):
    ids = _instances(services, 3)
    now = services.clock.now()
    with services.db.transaction() as s:
        instances = [s.get(ProcessInstance, i) for i in ids]
        with counting(services.db.engine) as counts:
            with step_writes.together(s):
                for n, instance in enumerate(instances):
                    step_writes.store(s, instance, {"status_reason": f"batch {n}"})
                    step_writes.project(s, [_task_row(instance, f"extra-{n}", now)])
                assert len(counts) == 0, counts.report()  # nothing read or flushed: all kept
        assert [sql.split(" ")[0:3] for sql in counts.statements] == [
            ["UPDATE", "process_instances", "SET"], ["INSERT", "INTO", "open_tasks"]], counts.report()
    with services.db.session() as s:
        assert [s.get(ProcessInstance, i).status_reason for i in ids] == ["batch 0", "batch 1", "batch 2"]
        assert [s.get(ProcessInstance, i).lock_version for i in ids] == [i.lock_version for i in instances]
        assert sorted(s.scalars(select(OpenTask.task_id).where(OpenTask.task_id.like("extra-%")))) == [
            "extra-0", "extra-1", "extra-2"]


def test_a_read_or_a_flush_inside_the_batch_finds_the_kept_writes_written(services):
    first, second = _instances(services, 2)
    now = services.clock.now()
    with services.db.transaction() as s:
        with step_writes.together(s):
            instance = s.get(ProcessInstance, first)
            step_writes.store(s, instance, {"status_reason": "kept"})
            step_writes.project(s, [_task_row(instance, "extra-read", now)])
            # a query of the session (do_orm_execute) writes what is kept first
            assert s.scalar(select(OpenTask.task_id).where(OpenTask.task_id == "extra-read")) == "extra-read"
            assert s.scalar(select(ProcessInstance.status_reason).where(ProcessInstance.id == first)) == "kept"
            # the ORM's own change of an instance whose state is kept: written after it, versions agree
            other = s.get(ProcessInstance, second)
            step_writes.store(s, other, {"status_reason": "kept too"})
            other.status = "incident"
            s.flush()  # before_flush writes the kept state first, then the ORM's version check holds
    with services.db.session() as s:
        stored = s.get(ProcessInstance, second)
        assert (stored.status, stored.status_reason) == ("incident", "kept too")


def test_a_failing_batch_writes_nothing_it_kept(services):
    (instance_id,) = _instances(services, 1)
    with services.db.transaction() as s:
        instance = s.get(ProcessInstance, instance_id)
        with counting(services.db.engine) as counts:
            with pytest.raises(RuntimeError):
                with step_writes.together(s):
                    step_writes.store(s, instance, {"status_reason": "never"})
                    raise RuntimeError("a step failed")
        assert len(counts) == 0, counts.report()
        assert not step_writes.keeping(s)  # and the session no longer keeps anything
        s.rollback()


def test_an_instance_changed_meanwhile_fails_the_batch(services):
    """The kept UPDATEs keep the guard on ``lock_version``: if another transaction changed an
    instance, the batch fails (and is redone one by one by the engine)."""
    ids = _instances(services, 2)
    with pytest.raises(StaleDataError):
        with services.db.transaction() as s:
            instances = [s.get(ProcessInstance, i) for i in ids]
            with step_writes.together(s):
                for instance in instances:
                    step_writes.store(s, instance, {"status_reason": "late"})
                s.connection().execute(update(ProcessInstance).where(ProcessInstance.id == ids[1])
                                       .values(lock_version=ProcessInstance.lock_version + 5))
    with services.db.session() as s:
        assert [s.get(ProcessInstance, i).status_reason for i in ids] == [None, None]
