from __future__ import annotations

import threading

from sqlalchemy import select

from webapp.auth.operations import create_user
from webapp.cases.operations import add_member, open_case
from webapp.engine.models import OpenTask, ProcessInstance
from webapp.engine.runtime import WorkflowEngine


def make_case(services, *, roles=("koordinator",), username="kari"):
    """A case with one user holding ``roles``; returns (case_id, user_id)."""
    with services.db.transaction() as s:
        now = services.clock.now()
        user = create_user(s, username, username.title() + " Testesen", "passord123", at=now,
                           email=f"{username}@example.org")
        case = open_case(s, "Testsak", at=now)
        for role in roles:
            add_member(s, case, user.full_name, role, at=now, user_id=user.id, email=user.email)
        return case.id, user.id


def open_tasks(services, instance_id):
    with services.db.session() as s:
        return s.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)).all()


def fire_with_two_workers(services) -> list[int]:
    """Two engines on the same database call ``fire_due_timers`` at the same moment; returns
    what each of them fired or started."""
    workers = [WorkflowEngine(services.db, services.clock, services.engine.hooks) for _ in range(2)]
    barrier, counts = threading.Barrier(2), []

    def work(engine):
        barrier.wait()
        counts.append(engine.fire_due_timers())

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return counts


def poison(services, instance_id: int) -> None:
    """Put an unknown type name where data belongs in a stored state: restoring it fails."""
    with services.db.transaction() as s:
        instance = s.get(ProcessInstance, instance_id)
        state = dict(instance.state)
        root = dict(state["tasks"][state["root"]])
        root["data"] = {"x": {"typename": "NoSuchThing", "value": 1}}
        state["tasks"] = {**state["tasks"], state["root"]: root}
        instance.state = state
