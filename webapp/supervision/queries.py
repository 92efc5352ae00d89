"""What supervision lists: open incidents, and steps that are orphaned or overdue. Each is a
query for one page at a time (``webapp.paging``), never the whole list."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import defer

from webapp.auth.models import User
from webapp.cases.access import access_level
from webapp.cases.models import Case
from webapp.engine.models import Incident, OpenTask, ProcessInstance
from webapp.tasks.queries import DUE_OR_LAST

#: the incidents list's order: oldest first
INCIDENT_KEYS = [Incident.created_at, Incident.id]


def open_incidents() -> Select:
    """Rows of ``Incident, ProcessInstance, Case`` (the instance's state is not read)."""
    return (select(Incident, ProcessInstance, Case)
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .join(Case, Case.id == ProcessInstance.case_id)
            .where(Incident.status == "open")
            .options(defer(ProcessInstance.state), defer(Incident.pending), defer(Incident.message)))


def incident_key(row) -> tuple:
    incident = row[0]
    return incident.created_at, incident.id


def stuck_keys() -> list:
    """Overdue steps by due date, then the orphaned ones without a date."""
    return [DUE_OR_LAST, OpenTask.id]


def stuck_steps(user: User, now: datetime, today: date) -> Select:
    """Rows of ``OpenTask, Case, the user's access to the case, *stuck_keys()``."""
    return (select(OpenTask, Case, access_level(user, today), *stuck_keys())
            .join(Case, Case.id == OpenTask.case_id)
            .where(or_(OpenTask.orphaned.is_(True), OpenTask.due_at < now)))
