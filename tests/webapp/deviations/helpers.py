"""Recording deviations and reading them back in tests."""
from __future__ import annotations

from sqlalchemy import select

from webapp.deviations.models import Deviation
from webapp.engine.models import OpenTask
from webapp.deviations.recording import report

REPORT = {"title": "Journalnotat sendt til feil mottaker",
          "description": "Et notat om skolestart ble sendt til en annen families e-post."}


def record(services, users, case_id: int, who: str = "siri", **data) -> int:
    return report(services, case_id, {**REPORT, **data}, reporter_id=users[who],
                  reporter_name=who.capitalize())


def deviation(services, deviation_id: int) -> Deviation:
    with services.db.session() as s:
        return s.get(Deviation, deviation_id)


def deviations(services, case_id: int) -> list[Deviation]:
    with services.db.session() as s:
        return list(s.scalars(select(Deviation).where(Deviation.case_id == case_id).order_by(Deviation.id)))


def task_of(services, deviation_id: int, task_spec: str) -> OpenTask | None:
    """The open task ``task_spec`` of one deviation's episode."""
    instance_id = deviation(services, deviation_id).instance_id
    with services.db.session() as s:
        return s.scalar(select(OpenTask).where(OpenTask.instance_id == instance_id, OpenTask.task_spec == task_spec))


def complete(services, deviation_id: int, task_spec: str, data: dict, actor: int):
    task = task_of(services, deviation_id, task_spec)
    assert task is not None, f"no open task {task_spec}"
    return services.engine.complete_task(task.instance_id, task.task_id, data, actor_id=actor)
