"""A small municipality for establishment tests: the real process library, users per persona."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.snapshots import seeded
from webapp.auth.operations import create_user
from webapp.cases.models import Unit
from webapp.cases.registration import register
from webapp.engine.models import OpenTask
from webapp.engine.operations import deploy_library

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "passord123"
PEOPLE = {
    "ke": ("Kjell Enhet", ("staff", "coordinating_unit")),
    "kari": ("Kari Koordinator", ("staff",)),
    "ola": ("Ola Helse", ("staff",)),
    "siri": ("Siri Skole", ("staff",)),
    "ulf": ("Ulf Utenfor", ("staff",)),
    "sara": ("Sara System", ("staff", "system_owner")),
}


def municipality(services) -> dict[str, int]:
    """The real process library, the users of PEOPLE and a school, in an empty database: seeded once
    per session and copied in (tests/snapshots.py); returns the ids."""
    handler_names = sorted(services.engine.handlers.keys())
    return seeded(services, ("municipality", *handler_names),
                  lambda db, clock: _seed_municipality(db, clock, handler_names))


def _seed_municipality(db, clock, handler_names) -> dict[str, int]:
    deploy_library(db, clock, ROOT / "processes", ROOT / "forms", handler_names)
    ids = {}
    with db.transaction() as s:
        for username, (name, roles) in PEOPLE.items():
            ids[username] = create_user(s, username, name, PASSWORD, roles=roles, at=clock.now(),
                                        email=f"{username}@example.org").id
        unit = Unit(name="Solbakken skole", kind="school")
        s.add(unit)
        s.flush()
        ids["unit_school"] = unit.id
    return ids


def wish(services, users, name="Emma Berg", born="2019-05-20") -> int:
    return register(services, {"full_name": name, "birth_date": born, "requested_by_kind": "guardian",
                               "requested_by_name": "Anne Berg", "wish": "Bedre samarbeid",
                               "guardians": [{"name": "Anne Berg", "kind": "guardian", "email": "anne@example.org"}]},
                    actor_id=users["ola"])[0]


def open_task(services, case_id: int, task_spec: str, assignee: int | None = None) -> OpenTask:
    with services.db.session() as s:
        query = select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == task_spec)
        if assignee is not None:
            query = query.where(OpenTask.assignee_id == assignee)
        return s.scalar(query.order_by(OpenTask.id).limit(1))


def complete(services, case_id: int, task_spec: str, data: dict, actor: int, assignee: int | None = None):
    task = open_task(services, case_id, task_spec, assignee)
    assert task is not None, f"no open task {task_spec}"
    return services.engine.complete_task(task.instance_id, task.task_id, data, actor_id=actor)


APPOINT = {"coordinator_kind": "child_coordinator", "wish_weighed": True, "persons_wish": "Kari"}
CONSENT = {"consent_decision": "gitt", "statement_composition": True, "statement_confidential": True,
           "statement_registration": True, "statement_voluntary": True, "signed_by": "Anne Berg",
           "signed_how": "paper", "signed_on": date.today().isoformat()}


#: The first meeting three weeks ahead: within the notice period plus the planning lead time
#: (14 + 14 days by default), so its episode starts at once and its planning step is open.
FIRST_MEETING_IN = timedelta(days=21)


def establish(services, users, *, until: str = "active", born: str = "2019-05-20",
              first_meeting: date | None = None) -> int:
    """Walk a case through establishment up to ``until`` (appointed, consented, proposed, active);
    the first meeting is ``first_meeting`` (default: three weeks ahead)."""
    case_id = wish(services, users, born=born)
    complete(services, case_id, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"])}, users["ke"])
    if until == "appointed":
        return case_id
    complete(services, case_id, "consent", CONSENT, users["kari"])
    if until == "consented":
        return case_id
    complete(services, case_id, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["siri"]), "name": "Siri Skole", "unit_id": str(users["unit_school"])},
        {"name": "Per Fastlege", "email": "per@example.org"}]}, users["kari"])
    if until == "proposed":
        return case_id
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Skolen"}, users["siri"], users["siri"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Lege"}, users["kari"], users["kari"])
    complete(services, case_id, "plan_need", {"plan_need": "yes"}, users["kari"])
    first_meeting = first_meeting or services.clock.today() + FIRST_MEETING_IN
    complete(services, case_id, "first_meeting", {"first_meeting_date": first_meeting.isoformat()}, users["kari"])
    return case_id
